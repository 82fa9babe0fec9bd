"""The result document: a PDF in Vietnamese and English whose QR code leads to a public
page that confirms it is genuine (a signed token, nothing personal in it)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib
import segno
from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from fpdf import FPDF

from covidhub.core.text import nfc
from covidhub.testing.models import Result, TestType

SALT = "covidhub.testing.result-document"
FONT = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
FONT_BOLD = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"

OUTCOME_TEXT = {
    Result.Outcome.NEGATIVE: ("ÂM TÍNH", "NEGATIVE"),
    Result.Outcome.POSITIVE: ("DƯƠNG TÍNH", "POSITIVE"),
    Result.Outcome.POOL_POSITIVE: (
        "MẪU GỘP DƯƠNG TÍNH — CẦN XÉT NGHIỆM LẠI ĐƠN",
        "POOL POSITIVE — INDIVIDUAL RETEST REQUIRED",
    ),
    Result.Outcome.INVALID: ("KHÔNG XÁC ĐỊNH — CẦN LẤY MẪU LẠI", "INVALID — NEW SAMPLE REQUIRED"),
}
TEST_TEXT = {
    TestType.PCR: ("RT-PCR", "RT-PCR"),
    TestType.RAPID: ("Test nhanh kháng nguyên", "Rapid antigen test"),
}


def verification_token(result: Result) -> str:
    return signing.dumps({"r": str(result.uuid), "v": result.version}, salt=SALT, compress=True)


def verification_url(result: Result) -> str:
    return settings.SITE_URL + reverse(
        "testing:verify", kwargs={"token": verification_token(result)}
    )


def token_read(token: str) -> dict[str, Any] | None:
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    return data if isinstance(data, dict) and "r" in data else None


def masked_name(full_name: str) -> str:
    """'Nguyễn Văn An' → 'N***** V** A*': enough to match a face, not to identify."""
    return " ".join(word[0] + "*" * (len(word) - 1) for word in nfc(full_name).split())


def _line(pdf: FPDF, w: float, h: float, text: str, **kwargs: Any) -> None:
    """A paragraph that ends at the left margin of the next line."""
    pdf.multi_cell(w, h, text, new_x="LMARGIN", new_y="NEXT", **kwargs)


def result_pdf(result: Result) -> bytes:
    """Render the bilingual result document."""
    person = result.person
    tube = result.sample.tube
    pdf = FPDF(format="A4")
    pdf.set_title(nfc("Kết quả xét nghiệm SARS-CoV-2 / SARS-CoV-2 test result"))
    pdf.add_font("DejaVu", "", str(FONT))
    pdf.add_font("DejaVu", "B", str(FONT_BOLD) if FONT_BOLD.exists() else str(FONT))
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 15)
    _line(pdf, 0, 8, nfc(settings.PLATFORM_NAME), align="C")
    _line(pdf, 0, 8, nfc("KẾT QUẢ XÉT NGHIỆM SARS-CoV-2"), align="C")
    pdf.set_font("DejaVu", "", 11)
    _line(pdf, 0, 6, "SARS-CoV-2 TEST RESULT", align="C")
    pdf.ln(4)
    vi_test, en_test = TEST_TEXT[TestType(result.test_type)]
    vi_outcome, en_outcome = OUTCOME_TEXT[Result.Outcome(result.outcome)]
    collected = timezone.localtime(result.collected_at)
    released = timezone.localtime(result.released_at)
    lines = [
        ("Họ và tên / Name", person.full_name),
        ("Ngày sinh / Date of birth", person.birth.display()),
        ("Giấy tờ / Identity document", person.id_number_masked or "—"),
        ("Loại xét nghiệm / Test", f"{vi_test} / {en_test}"),
        ("Mẫu gộp / Pooled sample", "Có / Yes" if result.pooled else "Không / No"),
        ("Nơi lấy mẫu / Sampling site", tube.site.name),
        ("Thời điểm lấy mẫu / Sample taken", collected.strftime("%d/%m/%Y %H:%M")),
        (
            "Phòng xét nghiệm / Laboratory",
            result.tube_result.lab.name if result.tube_result.lab else tube.site.name,
        ),
        ("Thời điểm trả kết quả / Result released", released.strftime("%d/%m/%Y %H:%M")),
    ]
    for label, value in lines:
        pdf.set_font("DejaVu", "", 10)
        pdf.cell(75, 7, nfc(label))
        pdf.set_font("DejaVu", "B", 10)
        _line(pdf, 0, 7, nfc(str(value)))
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 14)
    _line(pdf, 0, 9, nfc(f"Kết quả: {vi_outcome}"))
    _line(pdf, 0, 9, nfc(f"Result: {en_outcome}"))
    if result.version > 1:
        pdf.set_font("DejaVu", "", 10)
        _line(pdf, 0, 6, nfc("Kết quả đã được đính chính. / This result was corrected."))
    url = verification_url(result)
    png = io.BytesIO()
    segno.make(url, error="m").save(png, kind="png", scale=4, border=2)
    png.seek(0)
    pdf.ln(4)
    pdf.image(png, w=45)
    pdf.set_font("DejaVu", "", 8)
    _line(
        pdf,
        0,
        5,
        nfc(
            "Quét mã QR để kiểm tra tính xác thực của văn bản này. / "
            "Scan the QR code to check that this document is genuine."
        ),
    )
    _line(pdf, 0, 5, url)
    return bytes(pdf.output())
