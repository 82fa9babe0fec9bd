"""The venue's printable A4 poster (PDF): its QR code, its code in letters, and the
instructions in Vietnamese with English beneath."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib
import segno
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from fpdf import FPDF

from covidhub.core.text import nfc
from covidhub.declarations.models import Venue


def _font_dir() -> Path:
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def venue_url(venue: Venue) -> str:
    return f"{settings.SITE_URL}/v/{venue.code}/"


def _lines() -> dict[str, str]:
    return {
        "title": _("Health declaration and check-in"),
        "scan": _("Scan this QR code with the covidhub app or your phone's camera to check in."),
        "family": _("You can check in your family members at the same time."),
        "code": _(
            "No smartphone? Enter this code in the app, or show your personal QR code to the staff at the entrance."
        ),
        "declare": _(
            "Make your health declaration before you come if you have fever, cough or shortness of breath, and stay home."
        ),
    }


def venue_poster_pdf(venue: Venue) -> bytes:
    """An A4 poster; every text is NFC-normalised so Vietnamese renders with one glyph
    per letter in the embedded DejaVu Sans."""
    with translation.override("vi"):
        vi = {k: nfc(v) for k, v in _lines().items()}
    with translation.override("en"):
        en = {k: nfc(v) for k, v in _lines().items()}
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(nfc(venue.name))
    pdf.set_author(nfc(settings.PLATFORM_NAME))
    fonts = _font_dir()
    pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()
    width = pdf.w - 2 * pdf.l_margin

    pdf.set_fill_color(11, 93, 59)
    pdf.rect(0, 0, pdf.w, 38, style="F")
    pdf.set_text_color(255, 255, 255)
    pdf.set_xy(pdf.l_margin, 8)
    pdf.set_font("DejaVu", "B", 22)
    pdf.multi_cell(width, 10, vi["title"].upper(), align="C")
    pdf.set_font("DejaVu", "", 14)
    pdf.multi_cell(width, 8, en["title"], align="C")

    pdf.set_text_color(26, 26, 26)
    pdf.set_xy(pdf.l_margin, 44)
    pdf.set_font("DejaVu", "B", 20)
    pdf.multi_cell(width, 9, nfc(venue.name), align="C")
    pdf.set_font("DejaVu", "", 12)
    place = f"{venue.address_line}, {venue.commune.name}"
    if venue.commune.parent is not None:
        place += f", {venue.commune.parent.name}"
    pdf.multi_cell(width, 6, nfc(place), align="C")

    qr = segno.make(venue_url(venue), error="m")
    image = io.BytesIO()
    qr.save(image, kind="png", scale=20, border=2)
    image.seek(0)
    size = 120
    pdf.image(image, x=(pdf.w - size) / 2, y=pdf.get_y() + 4, w=size, h=size)
    pdf.set_y(pdf.get_y() + size + 6)

    pdf.set_font("DejaVu", "B", 26)
    pdf.cell(width, 12, venue.code_display, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for key in ("scan", "family", "code", "declare"):
        pdf.set_font("DejaVu", "B", 11)
        pdf.multi_cell(width, 5.5, vi[key], align="C")
        pdf.set_font("DejaVu", "", 10)
        pdf.set_text_color(74, 74, 74)
        pdf.multi_cell(width, 5, en[key], align="C")
        pdf.set_text_color(26, 26, 26)
        pdf.ln(2)

    pdf.set_y(-18)
    pdf.set_font("DejaVu", "", 10)
    with translation.override("vi"):
        support_vi = nfc(_("Support line: %(phone)s") % {"phone": settings.SUPPORT_PHONE})
    with translation.override("en"):
        support_en = nfc(_("Support line: %(phone)s") % {"phone": settings.SUPPORT_PHONE})
    pdf.cell(width, 5, f"{support_vi} · {support_en}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(width, 5, nfc(settings.PLATFORM_NAME), align="C")
    return bytes(pdf.output())
