"""The transport layers of a DCC QR code: ``HC1:`` + Base45(zlib(COSE_Sign1)).

Decoding is bounded: a scanned text is attacker-controlled, and a few kilobytes of
zlib can expand to gigabytes.
"""

from __future__ import annotations

import sys
import zlib
from array import array
from typing import Final

import base45

from .errors import DccError

HC1_PREFIX: Final = "HC1:"
MAX_TEXT_LENGTH: Final = 8192
"""Twice the alphanumeric capacity of the largest QR code (4,296 characters)."""
MAX_COSE_LENGTH: Final = 64 * 1024
"""Far above any real DCC (a few kB), far below anything that hurts a server."""


class DecodeFailed(DccError):
    """The text is not a well-formed HC1 transport encoding.

    Codes: `input_too_large`, `bad_prefix`, `base45_invalid`, `zlib_invalid`.
    """


_BASE45_CHARSET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
# The two low digits of every value below 45², least significant first: a pair of bytes
# costs one look-up of two digits and one of the third, instead of the `base45`
# package's two divisions, three look-ups and string growth (RFC 9285 section 4.2).
_BASE45_PAIRS: Final = tuple(low + high for high in _BASE45_CHARSET for low in _BASE45_CHARSET)


def base45_encode(data: bytes) -> str:
    """RFC 9285 Base45, as `base45.b45encode` (the tests compare them) but faster."""
    words = array("H", data[: len(data) & ~1])
    if sys.byteorder == "little":
        words.byteswap()  # Base45 reads each pair of bytes big-endian
    parts = [_BASE45_PAIRS[value % 2025] + _BASE45_CHARSET[value // 2025] for value in words]
    if len(data) & 1:
        parts.append(_BASE45_PAIRS[data[-1]])
    return "".join(parts)


def hc1_encode(cose: bytes) -> str:
    """The QR text for a signed COSE message: prefix, Base45, zlib at best compression."""
    return HC1_PREFIX + base45_encode(zlib.compress(cose, 9))


def hc1_decode(text: str) -> bytes:
    """The COSE bytes inside an HC1 text; raises `DecodeFailed` with the failing layer.

    Trailing CR/LF is ignored because USB scanners type Enter after the code; spaces
    are kept, since the space is a Base45 digit.
    """
    if len(text) > MAX_TEXT_LENGTH:
        raise DecodeFailed("The text is too long for a QR code.", code="input_too_large")
    text = text.rstrip("\r\n")
    if not text.startswith(HC1_PREFIX):
        raise DecodeFailed("The text does not start with HC1:.", code="bad_prefix")
    try:
        compressed = base45.b45decode(text[len(HC1_PREFIX) :])
    except ValueError as error:
        raise DecodeFailed("The text is not valid Base45.", code="base45_invalid") from error
    decompressor = zlib.decompressobj()
    try:
        cose = decompressor.decompress(compressed, MAX_COSE_LENGTH)
    except zlib.error as error:
        raise DecodeFailed("The data is not zlib-compressed.", code="zlib_invalid") from error
    if decompressor.unconsumed_tail:
        raise DecodeFailed("The data expands beyond any real DCC.", code="input_too_large")
    if not decompressor.eof or decompressor.unused_data:
        raise DecodeFailed(
            "The zlib stream is truncated or has trailing data.", code="zlib_invalid"
        )
    return cose
