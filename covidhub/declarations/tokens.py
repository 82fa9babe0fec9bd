"""What QR codes carry for declarations: a venue's public code, and the person's token.

The personal token's codec lives in `covidhub.people.personal_qr` (every capability that
scans people reads it); this module adds the venue code and tells a venue code apart
from a person's when one is scanned where the other was expected.
"""

from __future__ import annotations

import logging
import re
import urllib.parse

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from covidhub.core.errors import DomainError
from covidhub.declarations.models import VENUE_CODE_ALPHABET, VENUE_CODE_LENGTH
from covidhub.people.personal_qr import (
    APP_TTL_SECONDS,
    CARD_TTL_SECONDS,
    KIND_APP,
    KIND_CARD,
    PERSON_PREFIX,
    ROTATE_SECONDS,
    PersonalToken,
    QrExpired,
    QrForeign,
    QrForged,
    QrRefused,
    QrRevoked,
    QrUnknown,
    personal_token_issue,
)
from covidhub.people.personal_qr import personal_token_read as _personal_token_read

__all__ = [
    "APP_TTL_SECONDS",
    "CARD_TTL_SECONDS",
    "KIND_APP",
    "KIND_CARD",
    "PERSON_PREFIX",
    "ROTATE_SECONDS",
    "PersonalToken",
    "QrExpired",
    "QrForeign",
    "QrForged",
    "QrIsVenue",
    "QrRefused",
    "QrRevoked",
    "QrUnknown",
    "VenueCodeIsPersonal",
    "VenueCodeRefused",
    "personal_token_issue",
    "personal_token_read",
    "venue_code_read",
]

logger = logging.getLogger("covidhub.declarations.qr")


class QrIsVenue(QrRefused):
    code = "qr_is_venue"
    default_message = _("This is a venue's code, not a person's. Scan the person's QR code.")


class VenueCodeRefused(DomainError):
    code = "venue_code_invalid"
    status = 422
    default_message = _("This is not a venue code of the platform. Check the code on the poster.")


class VenueCodeIsPersonal(VenueCodeRefused):
    code = "venue_code_is_personal"
    default_message = _(
        "This is a person's QR code, not a venue's. Scan the QR poster at the entrance."
    )


_VENUE_PATH = re.compile(r"/v/([A-Za-z0-9\-]{4,20})/?")


def _looks_like_venue(text: str) -> bool:
    return bool(_VENUE_PATH.search(text)) or _venue_code_normalise(text) is not None


def personal_token_read(text: str, *, now: float | None = None) -> PersonalToken:
    """As `covidhub.people.personal_qr.personal_token_read`, telling a venue code apart."""
    if not (text or "").strip().upper().startswith(PERSON_PREFIX) and _looks_like_venue(
        (text or "").strip()
    ):
        logger.warning("personal QR refused: %s", QrIsVenue.code)
        raise QrIsVenue()
    return _personal_token_read(text, now=now)


def _venue_code_normalise(text: str) -> str | None:
    code = re.sub(r"[\s\-]", "", text).upper()
    if len(code) == VENUE_CODE_LENGTH and all(ch in VENUE_CODE_ALPHABET for ch in code):
        return code
    return None


def _trusted_hosts() -> set[str]:
    hosts = {urllib.parse.urlsplit(settings.SITE_URL).hostname or ""}
    hosts.update(h.lstrip(".") for h in settings.ALLOWED_HOSTS if h != "*")
    hosts.update({"testserver", "127.0.0.1", "localhost"})
    return {h.lower() for h in hosts if h}


def venue_code_read(text: str) -> str:
    """The venue code in what was typed or scanned: a code, or our /v/<code>/ URL.

    A personal code or another system's QR is refused with a clear message (and logged).
    """
    value = (text or "").strip()
    if value.upper().startswith(PERSON_PREFIX):
        logger.warning("venue code refused: %s", VenueCodeIsPersonal.code)
        raise VenueCodeIsPersonal()
    code: str | None = None
    if "://" in value or value.startswith("/"):
        parts = urllib.parse.urlsplit(value)
        host_ok = not parts.netloc or (parts.hostname or "").lower() in _trusted_hosts()
        match = _VENUE_PATH.fullmatch(parts.path)
        if host_ok and match:
            code = _venue_code_normalise(match[1])
    else:
        code = _venue_code_normalise(value)
    if code is None:
        logger.warning("venue code refused: %s", VenueCodeRefused.code)
        raise VenueCodeRefused()
    return code
