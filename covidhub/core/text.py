"""Vietnamese text: NFC normalisation, ASCII folding for search, ICAO transliteration."""

from __future__ import annotations

import re
import unicodedata

from unidecode import unidecode

_SPACES = re.compile(r"\s+")


def nfc(value: str) -> str:
    """NFC with collapsed white space: NFD input from some phones becomes the same text."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", value)).strip()


def fold_ascii(value: str) -> str:
    """Lower-case ASCII for search: 'Đặng Thị Hà' → 'dang thi ha'.

    unidecode keeps Đ as D (Django's slugify drops it).
    """
    return _SPACES.sub(" ", unidecode(nfc(value))).strip().lower()


def icao_transliterate(value: str) -> str:
    """The ICAO 9303 machine-readable form used on travel documents: 'NGUYEN<VAN<AN'."""
    folded = unidecode(nfc(value)).upper()
    letters = re.sub(r"[^A-Z ]", "", folded)
    return _SPACES.sub(" ", letters).strip().replace(" ", "<")
