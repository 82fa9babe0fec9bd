"""The personal QR code: a signed, rotating token that never carries an identity number.

A token is `CHP1:` + base32(AES(block) ‖ HMAC): the 16-byte block holds the person's
internal key, the minute it was issued, its kind and a card version. It is encrypted so
that two tokens of one person cannot be linked by someone who scans them. An app token
rotates every 5 minutes and expires soon after; a printed card (for people without a
smartphone) lasts longer and is revoked by printing a new one. Only characters of the QR
alphanumeric set are used, so that a USB scanner types it on any keyboard layout.

Every capability that scans people (checkpoints, sampling teams, vaccination sites) reads
tokens here. The declarations capability issues printed cards and registers a reader that
also checks the card version (`register_personal_qr_reader`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from covidhub.core.errors import DomainError

if TYPE_CHECKING:
    from covidhub.people.models import Person

logger = logging.getLogger("covidhub.people.qr")

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


def personal_token_read(text: str, *, now: float | None = None) -> PersonalToken:
    """Check a scanned token; raise a QrRefused subclass (and log why) if it is refused.

    The person's existence and the card version are checked by the caller.
    """
    value = (text or "").strip()
    if not value.upper().startswith(PERSON_PREFIX):
        logger.warning("personal QR refused: %s", QrForeign.code)
        raise QrForeign()
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


def looks_like_personal_qr(text: str) -> bool:
    return (text or "").strip().upper().startswith(PERSON_PREFIX)


def _default_reader(text: str) -> Person:
    from covidhub.people.models import Person

    token = personal_token_read(text)
    person = Person.objects.filter(pk=token.person_id).first()
    if person is None:
        logger.warning("personal QR refused: %s", QrUnknown.code)
        raise QrUnknown()
    return person


PersonalQrReader = Callable[[str], "Person"]
_reader: list[PersonalQrReader] = [_default_reader]


def register_personal_qr_reader(reader: PersonalQrReader) -> None:
    _reader[:] = [reader]


def personal_qr_person(text: str) -> Person:
    """The person a scanned personal QR belongs to; a refused code raises QrRefused."""
    return _reader[0](text)


def personal_qr_text(person: Person) -> str:
    """The token the person's QR shows now (an app token, rotating every 5 minutes)."""
    return personal_token_issue(person_id=person.pk)[0]
