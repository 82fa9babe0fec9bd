"""QR codes drawn inside a page (an appointment, a personal or venue code, a certificate, an
authenticator).

One helper so that every one scales with its box: the SVG carries a viewBox and no fixed
size, and the stylesheet's width for its box draws all of it. A fixed width and height inside
a box of another size cropped the code (a certificate's QR lost its right and bottom edges on
a phone, unreadable) or left blank space under it.
"""

from __future__ import annotations

import segno


def qr_code_svg_inline(
    code: segno.QRCode, *, title: str = "", scale: int = 6, border: int | None = None
) -> str:
    """An inline SVG of an encoded QR code that fills the width its box gives it."""
    return code.svg_inline(scale=scale, border=border, title=title or None, omitsize=True)


def qr_svg_inline(text: str, *, title: str, scale: int = 6) -> str:
    """An inline SVG QR code of a text (error correction M)."""
    return qr_code_svg_inline(segno.make(text, error="m"), title=title, scale=scale)
