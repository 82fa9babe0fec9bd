"""Person names for the DCC: the printed form (fn/gn) and the ICAO 9303 form (fnt/gnt).

Verifier apps abroad compare the transliterated form with a passport's machine-readable
zone, so fnt/gnt must follow ICAO Doc 9303 Part 3 exactly, while fn/gn keep the
Vietnamese spelling that the person recognises.
"""

from __future__ import annotations

import re
import unicodedata

ICAO_NAME_MAX_LENGTH = 80
"""The DCC schema's maxLength for fn, gn, fnt and gnt."""

# Letters that ICAO 9303 Part 3 (section 6, transliteration of Latin-based national
# characters) does not reduce to their base letter by removing diacritics. For
# Vietnamese only Đ matters; the others appear in foreign residents' names.
_ICAO_MULTI_LETTER = {
    "Ä": "AE",
    "Å": "AA",
    "Æ": "AE",
    "Ö": "OE",
    "Ø": "OE",
    "Œ": "OE",
    "Ü": "UE",
    "Þ": "TH",
    "Ĳ": "IJ",
    "Đ": "D",
    "Ð": "D",
    "Ł": "L",
    "Ħ": "H",
    "Ŧ": "T",
    "Ŋ": "N",
    "ẞ": "SS",
}
# In the MRZ, spaces and hyphens between name parts become the filler '<';
# apostrophes and any other punctuation are omitted.
_FILLER_SOURCES = frozenset(" -\u2010\u2011\u2012\u2013\u2014\t")
_FILLER_RUN = re.compile(r"<{2,}")
_WHITESPACE_RUN = re.compile(r"\s+")


def name_normalize(text: str) -> str:
    """The printed name as stored in fn/gn: NFC, trimmed, single spaces.

    NFC matters because phones type Vietnamese in both composed and decomposed forms;
    without it the same name would produce different certificates and lookups.
    """
    return _WHITESPACE_RUN.sub(" ", unicodedata.normalize("NFC", text)).strip()


def name_transliterate_icao(text: str) -> str:
    """The ICAO 9303 machine-readable form of a name: A-Z and '<', at most 80 characters.

    Diacritics are removed (Nguyễn → NGUYEN, Bảo → BAO), Đ becomes D, spaces and hyphens
    become '<', everything else (apostrophes, digits, other scripts) is dropped.
    """
    upper = name_normalize(text).upper()
    expanded = "".join(_ICAO_MULTI_LETTER.get(character, character) for character in upper)
    output: list[str] = []
    for character in unicodedata.normalize("NFD", expanded):
        if "A" <= character <= "Z":
            output.append(character)
        elif character in _FILLER_SOURCES:
            output.append("<")
    collapsed = _FILLER_RUN.sub("<", "".join(output)).strip("<")
    return collapsed[:ICAO_NAME_MAX_LENGTH].rstrip("<")
