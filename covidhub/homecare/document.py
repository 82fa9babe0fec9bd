"""The release paper: a PDF in Vietnamese and English whose QR code leads to a public page
that confirms it is genuine (a signed token, nothing personal in it) — the way result
documents are verified (covidhub.testing.document)."""

from __future__ import annotations

import io
from typing import Any

import segno
from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from fpdf import FPDF

from covidhub.core.text import nfc
from covidhub.homecare.models import CareOrder
from covidhub.testing.document import FONT, FONT_BOLD, masked_name

SALT = "covidhub.homecare.release-paper"

KIND_TEXT = {
    CareOrder.Kind.HOME_CARE: (
        "đã hoàn thành cách ly, điều trị tại nhà (F0)",
        "has completed home isolation and care (F0)",
    ),
    CareOrder.Kind.QUARANTINE: (
        "đã hoàn thành cách ly (F1)",
        "has completed quarantine (F1)",
    ),
}


def verification_token(order: CareOrder) -> str:
    return signing.dumps({"o": str(order.uuid)}, salt=SALT, compress=True)


def verification_url(order: CareOrder) -> str:
    return settings.SITE_URL + reverse(
        "homecare:verify", kwargs={"token": verification_token(order)}
    )


def token_read(token: str) -> dict[str, Any] | None:
    """What the public verification page shows of a genuine, released order."""
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or "o" not in data:
        return None
    order = (
        CareOrder.objects.filter(uuid=data["o"], status=CareOrder.Status.RELEASED)
        .select_related("person", "commune")
        .first()
    )
    if order is None:
        return None
    return {
        "name": masked_name(order.person.full_name),
        "birth_year": order.person.birth_year,
        "kind": order.get_kind_display(),
        "start": order.start_date,
        "released": timezone.localdate(order.released_at) if order.released_at else None,
        "station": order.commune.name,
    }


def _line(pdf: FPDF, h: float, text: str, **kwargs: Any) -> None:
    pdf.multi_cell(0, h, nfc(text), new_x="LMARGIN", new_y="NEXT", **kwargs)


def release_pdf(order: CareOrder) -> bytes:
    """The bilingual release paper of a released order."""
    person = order.person
    pdf = FPDF(format="A4")
    pdf.set_title(nfc("Giấy xác nhận hoàn thành cách ly / Certificate of release"))
    pdf.add_font("DejaVu", "", str(FONT))
    pdf.add_font("DejaVu", "B", str(FONT_BOLD) if FONT_BOLD.exists() else str(FONT))
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 13)
    _line(pdf, 7, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", align="C")
    pdf.set_font("DejaVu", "", 11)
    _line(pdf, 6, "Độc lập - Tự do - Hạnh phúc", align="C")
    pdf.ln(4)
    pdf.set_font("DejaVu", "B", 15)
    _line(pdf, 8, "GIẤY XÁC NHẬN HOÀN THÀNH CÁCH LY", align="C")
    pdf.set_font("DejaVu", "", 11)
    _line(pdf, 6, "CERTIFICATE OF RELEASE FROM ISOLATION / QUARANTINE", align="C")
    pdf.ln(4)
    vi_kind, en_kind = KIND_TEXT[CareOrder.Kind(order.kind)]
    released = timezone.localtime(order.released_at) if order.released_at else timezone.localtime()
    lines = [
        ("Trạm Y tế / Health station", f"Trạm Y tế {order.commune.name}"),
        ("Họ và tên / Name", person.full_name),
        ("Ngày sinh / Date of birth", person.birth.display()),
        ("Giấy tờ / Identity document", person.id_number_masked or "—"),
        ("Bắt đầu / Start", order.start_date.strftime("%d/%m/%Y")),
        ("Kết thúc / Released on", released.strftime("%d/%m/%Y")),
        (
            "Căn cứ / Released by",
            {
                CareOrder.ReleaseReason.NEGATIVE_TEST: "Xét nghiệm âm tính / Negative test",
                CareOrder.ReleaseReason.DAYS: "Đủ số ngày theo quy định / Days of the protocol",
            }.get(CareOrder.ReleaseReason(order.release_reason), "—"),
        ),
        ("Quy định / Protocol", f"v{order.protocol.version}"),
    ]
    for label, value in lines:
        pdf.set_font("DejaVu", "", 10)
        pdf.cell(70, 7, nfc(label))
        pdf.set_font("DejaVu", "B", 10)
        _line(pdf, 7, str(value))
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 12)
    _line(pdf, 7, f"Xác nhận: {person.full_name} {vi_kind}.")
    pdf.set_font("DejaVu", "", 11)
    _line(pdf, 7, f"This certifies that {person.full_name} {en_kind}.")
    png = io.BytesIO()
    segno.make(verification_url(order), error="m").save(png, kind="png", scale=4, border=2)
    png.seek(0)
    pdf.ln(4)
    pdf.image(png, w=42)
    pdf.set_font("DejaVu", "", 8)
    _line(
        pdf,
        4,
        "Quét mã QR để kiểm tra giấy này là thật. / Scan the QR code to check that this paper "
        "is genuine.",
    )
    return bytes(pdf.output())
