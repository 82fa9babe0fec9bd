"""The promotion kit: the app's QR code and a bilingual poster to print (A4 PDF)."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import segno
from django.conf import settings

from covidhub.core.qr import qr_code_svg_inline
from covidhub.core.text import nfc


def install_url() -> str:
    return settings.SITE_URL + "/"


def qr_svg(url: str) -> str:
    """Inline SVG that scales with its box (covidhub.core.qr), dark modules on white."""
    return qr_code_svg_inline(segno.make(url, error="m"), scale=6, border=2)


def qr_png(url: str, *, scale: int = 10) -> bytes:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=scale, border=2)
    return out.getvalue()


def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


# (Vietnamese, English) lines of the poster: the letter's message, in both languages.
POSTER_TITLE = ("CÀI ĐẶT VÀ SỬ DỤNG", "Install and use")
POSTER_STEPS = [
    (
        "1. Quét mã QR bằng camera điện thoại hoặc mở địa chỉ bên dưới.",
        "Scan the QR code with your phone's camera or open the address below.",
    ),
    (
        "2. Đăng nhập bằng số điện thoại và mã xác thực gửi qua tin nhắn.",
        "Sign in with your phone number and the code sent by SMS.",
    ),
    (
        "3. Chọn “Thêm vào màn hình chính” để dùng như một ứng dụng.",
        "Choose “Add to Home screen” to use it like an app.",
    ),
    (
        "4. Khai báo y tế, đăng ký xét nghiệm, tiêm chủng và tra cứu kết quả.",
        "Make health declarations, register for tests and vaccination, look up results.",
    ),
]


@lru_cache(maxsize=4)
def poster_pdf(url: str, platform: str, support: str) -> bytes:
    """An A4 poster with the QR code, the four steps and the support line."""
    from fpdf import FPDF

    fonts = _font_dir()
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    width = pdf.w - 30
    pdf.set_text_color(11, 93, 59)
    pdf.set_font("DejaVu", "B", 26)
    pdf.set_xy(15, 18)
    pdf.multi_cell(width, 12, nfc(POSTER_TITLE[0]), align="C")
    pdf.set_font("DejaVu", "B", 30)
    pdf.multi_cell(width, 14, nfc(platform), align="C")
    pdf.set_text_color(90, 90, 90)
    pdf.set_font("DejaVu", "", 14)
    pdf.multi_cell(width, 8, nfc(f"{POSTER_TITLE[1]} {platform}"), align="C")
    size = 90
    pdf.image(io.BytesIO(qr_png(url, scale=12)), x=(pdf.w - size) / 2, y=pdf.get_y() + 6, w=size)
    pdf.set_y(pdf.get_y() + size + 10)
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("DejaVu", "B", 15)
    pdf.multi_cell(width, 8, url, align="C")
    pdf.ln(4)
    for vietnamese, english in POSTER_STEPS:
        pdf.set_x(20)
        pdf.set_font("DejaVu", "", 13)
        pdf.multi_cell(width - 10, 7, nfc(vietnamese))
        pdf.set_x(26)
        pdf.set_font("DejaVu", "", 10)
        pdf.set_text_color(90, 90, 90)
        pdf.multi_cell(width - 16, 5, nfc(english))
        pdf.set_text_color(0, 0, 0)
        pdf.ln(2)
    pdf.set_y(pdf.h - 40)
    pdf.set_fill_color(11, 93, 59)
    pdf.set_text_color(255, 255, 255)
    pdf.set_font("DejaVu", "B", 16)
    pdf.cell(
        0,
        14,
        nfc(f"Đường dây hỗ trợ · Support line: {support}"),
        align="C",
        fill=True,
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_text_color(90, 90, 90)
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(
        0,
        5,
        nfc(
            "Thực hiện chỉ đạo 100% cán bộ, công chức, viên chức, người lao động cài đặt và sử "
            "dụng nền tảng · 100% of public officials install and use the platform"
        ),
        align="C",
    )
    return bytes(pdf.output())
