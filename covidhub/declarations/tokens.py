"""What QR codes carry: a person's signed, rotating token, and a venue's public code.

A personal token is `CHP1:` + base32(AES(block) ‖ HMAC): the 16-byte block holds the
person's internal key, the minute it was issued, its kind and a card version. It is
encrypted so that two tokens of one person cannot be linked by someone who scans them,
and it never contains the identity number. An app token rotates every few minutes and
expires soon after; a printed card (for people without a smartphone) lasts longer and is
revoked by printing a new one. Only characters of the QR alphanumeric set are used, so the
code stays small and a USB scanner types it on any keyboard layout.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import re
import struct
import time
import urllib.parse
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from covidhub.core.errors import DomainError
from covidhub.declarations.models import VENUE_CODE_ALPHABET, VENUE_CODE_LENGTH

logger = logging.getLogger("covidhub.declarations.qr")

PERSON_PREFIX = "CHP1:"
_SALT = b"covidhub.declarations.personal-qr.v1"
_MAC_BYTES = 10
KIND_APP = 1
KIND_CARD = 2
ROTATE_SECONDS = 5 * 60
APP_TTL_SECONDS = 10 * 60
CARD_TTL_SECONDS = 30 * 24 * 3600
CLOCK_SKEW_SECONDS = 120


class QrRefused(DomainError):
    """A scanned code that is not accepted; `code` tells why (logged, never crashed on)."""

    code = "qr_invalid"
    status = 422
    default_message = _("This QR code is not valid.")


class QrForeign(QrRefused):
    code = "qr_foreign"
    default_message = _(
        "This is not a covidhub personal QR code. Ask the person to open their code in the app "
        "or to show their printed card."
    )


class QrForged(QrRefused):
    code = "qr_forged"
    default_message = _("This QR code is not valid: it may have been altered or copied wrongly.")


class QrExpired(QrRefused):
    code = "qr_expired"
    default_message = _("This QR code has expired. Ask the person to open a fresh code in the app.")


class QrRevoked(QrRefused):
    code = "qr_revoked"
    default_message = _("This printed card was replaced by a newer one and is no longer valid.")


class QrUnknown(QrRefused):
    code = "qr_unknown"
    default_message = _("This QR code belongs to no one registered on the platform.")


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


def _keys() -> tuple[bytes, bytes]:
    root = hmac.new(settings.SECRET_KEY.encode(), _SALT, hashlib.sha256).digest()
    encryption = hmac.new(root, b"encrypt", hashlib.sha256).digest()[:16]
    signing = hmac.new(root, b"sign", hashlib.sha256).digest()
    return encryption, signing


def _aes(key: bytes) -> Cipher[modes.ECB]:
    # One 16-byte block under a secret key: a pseudo-random permutation, which is what
    # unlinkability needs; the HMAC over the ciphertext gives integrity.
    return Cipher(algorithms.AES(key), modes.ECB())  # noqa: S305


@dataclass(frozen=True)
class PersonalToken:
    person_id: int
    issued_at: int  # epoch seconds, minute precision
    kind: int
    card_version: int

    @property
    def expires_at(self) -> int:
        ttl = APP_TTL_SECONDS if self.kind == KIND_APP else CARD_TTL_SECONDS
        return self.issued_at + ttl


def personal_token_issue(
    *, person_id: int, kind: int = KIND_APP, card_version: int = 0, now: float | None = None
) -> tuple[str, PersonalToken]:
    """A token for the person; app tokens are bucketed so that they rotate every 5 minutes."""
    now = time.time() if now is None else now
    if kind == KIND_APP:
        issued = int(now // ROTATE_SECONDS) * ROTATE_SECONDS
    else:
        issued = int(now // 60) * 60
    block = struct.pack(">QIB", person_id, issued // 60, kind) + (card_version % 2**24).to_bytes(
        3, "big"
    )
    encryption, signing = _keys()
    encryptor = _aes(encryption).encryptor()
    ciphertext = encryptor.update(block) + encryptor.finalize()
    mac = hmac.new(signing, PERSON_PREFIX.encode() + ciphertext, hashlib.sha256).digest()
    body = base64.b32encode(ciphertext + mac[:_MAC_BYTES]).decode().rstrip("=")
    return PERSON_PREFIX + body, PersonalToken(person_id, issued, kind, card_version)


_VENUE_PATH = re.compile(r"/v/([A-Za-z0-9\-]{4,20})/?")


def _looks_like_venue(text: str) -> bool:
    return bool(_VENUE_PATH.search(text)) or _venue_code_normalise(text) is not None


def personal_token_read(text: str, *, now: float | None = None) -> PersonalToken:
    """Check a scanned token; raise a QrRefused subclass (and log why) if it is refused.

    The person's existence and the card version are checked by the caller.
    """
    value = (text or "").strip()
    if not value.upper().startswith(PERSON_PREFIX):
        error: QrRefused = QrIsVenue() if _looks_like_venue(value) else QrForeign()
        logger.warning("personal QR refused: %s", error.code)
        raise error
    body = value[len(PERSON_PREFIX) :].upper()
    try:
        raw = base64.b32decode(body + "=" * (-len(body) % 8))
    except (binascii.Error, ValueError):
        raw = b""
    encryption, signing = _keys()
    if len(raw) != 16 + _MAC_BYTES:
        logger.warning("personal QR refused: %s", QrForged.code)
        raise QrForged()
    ciphertext, mac = raw[:16], raw[16:]
    expected = hmac.new(signing, PERSON_PREFIX.encode() + ciphertext, hashlib.sha256).digest()
    if not hmac.compare_digest(mac, expected[:_MAC_BYTES]):
        logger.warning("personal QR refused: %s", QrForged.code)
        raise QrForged()
    decryptor = _aes(encryption).decryptor()
    block = decryptor.update(ciphertext) + decryptor.finalize()
    person_id, minute, kind = struct.unpack(">QIB", block[:13])
    card_version = int.from_bytes(block[13:], "big")
    token = PersonalToken(person_id, minute * 60, kind, card_version)
    now = time.time() if now is None else now
    if kind not in (KIND_APP, KIND_CARD) or token.issued_at > now + CLOCK_SKEW_SECONDS:
        logger.warning("personal QR refused: %s", QrForged.code)
        raise QrForged()
    if now > token.expires_at:
        logger.warning("personal QR refused: %s", QrExpired.code)
        raise QrExpired()
    return token


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
