"""The printable certificate: A4 or wallet card (ID-1), Vietnamese and English, with the QR.

Labels are bilingual ("Họ và tên / Name"): a paper certificate is shown at home and at a
border. Text is NFC-normalised and set in DejaVu Sans (shipped with matplotlib), which
has every Vietnamese precomposed letter, so diacritics print correctly.
"""

from __future__ import annotations

import logging
import os
import tempfile
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final, Literal

import matplotlib
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from fpdf import FPDF

from covidhub.certificates.dcc import qr_matrix, value_sets_load
from covidhub.certificates.models import IssuedCertificate

type PdfSize = Literal["a4", "card"]

# fpdf2 subsets fonts with fontTools, which logs every pruned table at INFO.
logging.getLogger("fontTools").setLevel(logging.WARNING)
PDF_SIZES: Final = ("a4", "card")
CARD_FORMAT: Final = (53.98, 85.6)  # ISO/IEC 7810 ID-1, landscape below
QR_MASK: Final = 2
FOOTER_TEXT: Final = gettext_noop(
    "This certificate follows the EU Digital COVID Certificate format. "
    "Check it by scanning the QR code with a verifier application."
)


FONT_FILE: Final = "DejaVuSans.ttf"
# ASCII, Latin-1 and every Vietnamese letter (ă đ ĩ ũ ơ ư, ạ…ỹ) and a few punctuation marks. Parsing and subsetting the full
# DejaVu Sans (6,000 glyphs) for each PDF costs about 0.3 s; this subset a few ms.
SUBSET_RANGES: Final = (
    (0x20, 0x7E),
    (0xA0, 0xFF),
    (0x102, 0x103),  # Ă ă
    (0x110, 0x111),  # Đ đ
    (0x128, 0x129),  # Ĩ ĩ
    (0x168, 0x169),  # Ũ ũ
    (0x1A0, 0x1A1),  # Ơ ơ
    (0x1AF, 0x1B0),  # Ư ư
    (0x1EA0, 0x1EF9),  # Ạ … ỹ
    (0x2013, 0x2014),
    (0x2018, 0x201D),
    (0x2022, 0x2022),
    (0x2026, 0x2026),
    (0x2192, 0x2192),
)
SUBSET_CHARACTERS: Final = frozenset(
    chr(code) for low, high in SUBSET_RANGES for code in range(low, high + 1)
) | frozenset("\n\t")


def _full_font_path() -> str:
    return str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / FONT_FILE)


@cache
def _subset_font_path() -> str:
    """DejaVu Sans cut down to SUBSET_RANGES, written once per machine to a cache dir."""
    from fontTools import subset  # type: ignore[import-untyped]

    source = Path(_full_font_path())
    directory = Path(tempfile.gettempdir()) / f"covidhub-fonts-{os.getuid()}"
    directory.mkdir(mode=0o700, exist_ok=True)
    target = directory / f"vi-{source.stat().st_size}-{source.name}"
    if not target.exists():
        options = subset.Options()
        options.notdef_outline = True
        options.name_IDs = ["*"]
        font = subset.load_font(str(source), options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=[ord(c) for c in SUBSET_CHARACTERS])
        subsetter.subset(font)
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        subset.save_font(font, str(partial), options)
        partial.replace(target)
    return str(target)


def _font_paths(texts: list[str]) -> str:
    """The subset when it covers every character to print, else the full font."""
    if all(set(text) <= SUBSET_CHARACTERS for text in texts):
        return _subset_font_path()
    return _full_font_path()


def _nfc(text: object) -> str:
    return unicodedata.normalize("NFC", str(text))


def _both(english: str) -> str:
    """'Vietnamese / English' for a translatable label (the msgid is the English text)."""
    with translation.override("vi"):
        vietnamese = _(english)
    return _nfc(vietnamese if vietnamese == english else f"{vietnamese} / {english}")


@dataclass(frozen=True)
class Row:
    label: str
    value: str


def _display(value_set: str, code: str) -> str:
    entry = value_sets_load().by_name[value_set].entries.get(code)
    return entry.display if entry is not None else code


def certificate_rows(certificate: IssuedCertificate) -> tuple[str, list[Row]]:
    """(bilingual title, rows) describing a certificate, shared by the PDF and pages."""
    payload = certificate.payload
    name = payload["nam"]
    entry = payload[certificate.kind][0]
    rows = [
        Row(
            _both(gettext_noop("Name")), _nfc(f"{name.get('fn', '')} {name.get('gn', '')}".strip())
        ),
        Row(
            _both(gettext_noop("Name (travel documents)")),
            f"{name.get('fnt', '')}<<{name.get('gnt', '')}",
        ),
        Row(_both(gettext_noop("Date of birth")), payload["dob"]),
    ]
    if certificate.kind == "v":
        title = _both(gettext_noop("COVID-19 vaccination certificate"))
        rows += [
            Row(_both(gettext_noop("Vaccine")), _display("vaccine-medicinal-product", entry["mp"])),
            Row(_both(gettext_noop("Manufacturer")), _display("vaccine-mah-manf", entry["ma"])),
            Row(_both(gettext_noop("Dose")), f"{entry['dn']}/{entry['sd']}"),
            Row(_both(gettext_noop("Date of vaccination")), entry["dt"]),
        ]
    elif certificate.kind == "t":
        title = _both(gettext_noop("COVID-19 test certificate"))
        rows += [
            Row(_both(gettext_noop("Type of test")), _display("test-type", entry["tt"])),
            Row(_both(gettext_noop("Result")), _display("test-result", entry["tr"])),
            Row(_both(gettext_noop("Sample taken")), entry["sc"]),
        ]
        if entry.get("tc"):
            rows.append(Row(_both(gettext_noop("Testing centre")), entry["tc"]))
    else:
        title = _both(gettext_noop("COVID-19 recovery certificate"))
        rows += [
            Row(_both(gettext_noop("First positive test")), entry["fr"]),
            Row(_both(gettext_noop("Valid from")), entry["df"]),
            Row(_both(gettext_noop("Valid until")), entry["du"]),
        ]
    rows += [
        Row(_both(gettext_noop("Country")), entry["co"]),
        Row(_both(gettext_noop("Issuer")), _nfc(entry["is"])),
        Row(_both(gettext_noop("Certificate identifier")), entry["ci"]),
        Row(
            _both(gettext_noop("Signature valid until")),
            str(formats.date_format(timezone.localtime(certificate.expires_at), "Y-m-d")),
        ),
    ]
    return title, rows


class _Document(FPDF):
    def __init__(self, size: PdfSize, texts: list[str]) -> None:
        if size == "card":
            super().__init__(orientation="L", unit="mm", format=CARD_FORMAT)
            self.set_margins(3, 3, 3)
        else:
            super().__init__(orientation="P", unit="mm", format="A4")
            self.set_margins(18, 18, 18)
        self.set_auto_page_break(auto=size == "a4", margin=15)
        # One face: a second (bold) one doubles the font parsing and subsetting that
        # dominate the cost of a document; hierarchy comes from size and colour.
        self.add_font("DejaVu", "", _font_paths(texts))
        self.set_creator("covidhub")

    def text_line(self, text: str, *, height: float, width: float = 0) -> None:
        """One line of text, wrapped only when it does not fit (wrapping is the slow path)."""
        available = width or (self.w - self.r_margin - self.get_x())
        if self.get_string_width(text) <= available:
            self.cell(w=width, h=height, text=text, new_x="LMARGIN", new_y="NEXT")
        else:
            self.multi_cell(w=width, h=height, text=text, new_x="LMARGIN", new_y="NEXT")

    def qr(self, hc1_text: str, *, x: float, y: float, size: float) -> None:
        """The QR code as vector squares: sharp at any print size, no image to encode."""
        matrix = qr_matrix(hc1_text=hc1_text, mask=QR_MASK)
        module = size / len(matrix)
        k = self.k
        # One path of rectangles (runs of dark modules) filled at once: thousands of
        # `rect()` calls would cost more than the rest of the document.
        operators = []
        for row_index, row in enumerate(matrix):
            top = (self.h - y - row_index * module) * k
            start = None
            for column, dark in enumerate([*row, 0]):
                if dark and start is None:
                    start = column
                elif not dark and start is not None:
                    operators.append(
                        f"{(x + start * module) * k:.2f} {top:.2f} "
                        f"{(column - start) * module * k:.2f} {-module * k:.2f} re"
                    )
                    start = None
        self.set_fill_color(0, 0, 0)
        self._out("\n".join(operators) + "\nf")


def certificate_pdf(*, certificate: IssuedCertificate, size: PdfSize = "a4") -> bytes:
    """The PDF bytes of a certificate at A4 or wallet-card size."""
    title, rows = certificate_rows(certificate)
    footer = _both(FOOTER_TEXT)
    texts = [title, footer, *(row.label + row.value for row in rows)]
    document = _Document(size, texts)
    document.set_title(title)
    document.add_page()
    if size == "card":
        document.set_font("DejaVu", "", 6.5)
        document.multi_cell(new_x="LMARGIN", new_y="NEXT", w=46, h=3, text=title)
        document.set_font("DejaVu", "", 5)
        for row in rows[:1] + rows[2:7]:
            document.text_line(f"{row.label}: {row.value}", height=2.4, width=46)
        document.set_font("DejaVu", "", 3.6)
        document.set_xy(3, 48.5)
        document.text_line(rows[-2].value, height=1.8, width=80)
        document.qr(certificate.hc1, x=50, y=3, size=33)
    else:
        document.set_font("DejaVu", "", 16)
        document.multi_cell(new_x="LMARGIN", new_y="NEXT", w=0, h=8, text=title, align="C")
        document.ln(2)
        document.qr(certificate.hc1, x=(210 - 90) / 2, y=document.get_y(), size=90)
        document.set_y(document.get_y() + 94)
        for row in rows:
            document.set_font("DejaVu", "", 9)
            document.set_text_color(80, 80, 80)
            document.text_line(row.label, height=5)
            document.set_font("DejaVu", "", 12)
            document.set_text_color(0, 0, 0)
            document.text_line(row.value, height=6.5)
            document.ln(1)
        document.set_font("DejaVu", "", 8)
        document.set_text_color(80, 80, 80)
        document.multi_cell(w=0, h=4, text=footer)
    return bytes(document.output())
