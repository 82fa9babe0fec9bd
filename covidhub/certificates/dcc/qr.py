"""QR images of an HC1 text, as the DCC technical specification prescribes them.

Error correction level Q exactly (not boosted: verifier apps are tested against Q), and
alphanumeric mode, which the HC1 alphabet was chosen for and which keeps the code small.
"""

from __future__ import annotations

import io

import segno

from covidhub.core.qr import qr_code_svg_inline


def _qr(hc1_text: str, mask: int | None = None) -> segno.QRCode:
    return segno.make_qr(hc1_text, error="q", boost_error=False, mode="alphanumeric", mask=mask)


def qr_svg(*, hc1_text: str, scale: int = 4, border: int = 4) -> bytes:
    """An SVG document (UTF-8 bytes) for printing: scales without blur."""
    buffer = io.BytesIO()
    _qr(hc1_text).save(buffer, kind="svg", scale=scale, border=border, xmldecl=True)
    return buffer.getvalue()


def qr_svg_page(*, hc1_text: str, scale: int = 4, border: int = 4) -> str:
    """The same code inline in a page, scaled to its box (see covidhub.core.qr)."""
    return qr_code_svg_inline(_qr(hc1_text), scale=scale, border=border)


def qr_png(*, hc1_text: str, scale: int = 4, border: int = 4, mask: int | None = None) -> bytes:
    """A PNG image for screens and wallets; `scale` is pixels per module.

    `mask` fixes the data mask (0-7) instead of scoring all eight, which is most of the
    encoding time; any mask is valid for a reader, the choice only tunes contrast
    patterns. Bulk rendering (PDFs) fixes it.
    """
    buffer = io.BytesIO()
    _qr(hc1_text, mask).save(buffer, kind="png", scale=scale, border=border)
    return buffer.getvalue()


def qr_matrix(*, hc1_text: str, border: int = 2, mask: int | None = None) -> list[list[int]]:
    """The modules (1 = dark) with a quiet zone, for drawing the code as vector squares."""
    return [list(row) for row in _qr(hc1_text, mask).matrix_iter(scale=1, border=border)]
