"""The one cleaning step for every text that enters: forms, API bodies and queries,
imports, URL paths.

A text is put in NFC (the same Vietnamese letter typed on different phones becomes the same
code points) and refused when it holds what no one types on purpose and what breaks
storage, display or comparison:

- control characters (Unicode Cc) other than tab, line feed and carriage return — a NUL
  is refused by PostgreSQL outright (a server error, before this step);
- lone surrogates (Cs), which cannot be encoded as UTF-8 (JSON may carry "\\ud800");
- format characters (Cf): zero-width spaces and joiners, bidirectional overrides that
  make a name read differently from what it stores, the byte-order mark;
- private-use and unassigned code points (Co, Cn; noncharacters are Cn);
- more than `MAX_COMBINING` combining marks on one letter ("Zalgo" text; Vietnamese needs
  at most two, and NFC composes them).

White space is kept as typed apart from NFC: collapsing it is a field's own rule
(`covidhub.core.text.nfc` for names). Callers: `covidhub.core.forms` (every form field),
`covidhub.api.parsing` (every API body and query), `covidhub.core.middleware`
(every path and query string) and imports (`text_clean` per cell).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

from covidhub.core.errors import DomainError

MAX_COMBINING = 3
_ALLOWED_CONTROLS = frozenset("\t\n\r")
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_ASCII_REFUSED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class InvalidText(DomainError):
    code = "invalid_text"
    status = 400
    default_message = _(
        "The text contains invisible or control characters. Remove them and try again."
    )


def text_problem(value: str) -> str | None:
    """Why `value` (already in NFC) is refused, as a short code, or None."""
    if value.isascii():  # most text: only the C0 controls and DEL can be wrong
        return "invisible" if _ASCII_REFUSED.search(value) else None
    run = 0
    for char in value:
        category = unicodedata.category(char)
        if category in _REFUSED_CATEGORIES and char not in _ALLOWED_CONTROLS:
            return "surrogate" if category == "Cs" else "invisible"
        if category in ("Mn", "Me"):
            run += 1
            if run > MAX_COMBINING:
                return "combining"
        else:
            run = 0
    return None


def _nfc(value: str) -> str:
    try:
        return unicodedata.normalize("NFC", value)
    except UnicodeError:  # pragma: no cover - normalize accepts surrogates; kept for safety
        return value


def text_is_clean(value: str) -> bool:
    return text_problem(_nfc(value)) is None


def text_clean(value: str, *, field: str | None = None) -> str:
    """`value` in NFC, or InvalidText (400, translated) naming `field` when given."""
    normalised = _nfc(value)
    problem = text_problem(normalised)
    if problem is None:
        return normalised
    message = (
        _("Some letters are marked with too many accents. Correct the text and try again.")
        if problem == "combining"
        else InvalidText.default_message
    )
    details = {"fields": {field: [str(message)]}} if field else {}
    raise InvalidText(message, details=details)


def data_clean(data: Any, *, path: str = "") -> Any:
    """Every string in a decoded JSON value (keys too) through `text_clean`."""
    if isinstance(data, str):
        return text_clean(data, field=path or "body")
    if isinstance(data, Mapping):
        cleaned = {}
        for key, value in data.items():
            name = text_clean(key, field=path or "body") if isinstance(key, str) else key
            cleaned[name] = data_clean(value, path=f"{path}.{name}" if path else str(name))
        return cleaned
    if isinstance(data, list):
        return [data_clean(item, path=f"{path}.{index}") for index, item in enumerate(data)]
    return data
