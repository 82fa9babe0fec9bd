"""Messages that carry a secret (a sign-in code): the stored text never holds it.

`message_queue(..., secrets=[code])` keeps the text with each secret masked in `body` — what
support staff, backups and database readers see — and the full text encrypted in `sealed`
(AES-GCM, a key derived from SECRET_KEY for this purpose only, bound to the message's UUID).
The worker opens it to send and clears it once the message has left or failed for good;
only a demo outbox (no gateway, not production) keeps it, to show the code on its page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

if TYPE_CHECKING:
    from covidhub.notifications.models import Message

MASK = "•"
_PURPOSE = b"covidhub.notifications.sealed-message"
_NONCE_BYTES = 12


def _key() -> bytes:
    return hmac.new(settings.SECRET_KEY.encode(), _PURPOSE, hashlib.sha256).digest()


def text_mask(text: str, secrets: Iterable[str]) -> str:
    """The text with every occurrence of each secret replaced by dots of its length."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, MASK * len(secret))
    return text


def text_seal(text: str, *, message_uuid: str) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    box = AESGCM(_key()).encrypt(nonce, text.encode(), message_uuid.encode())
    return base64.b64encode(nonce + box).decode()


def text_open(sealed: str, *, message_uuid: str) -> str | None:
    """The sealed text, or None when it cannot be opened (SECRET_KEY changed meanwhile)."""
    try:
        raw = base64.b64decode(sealed)
        text = AESGCM(_key()).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], message_uuid.encode())
    except (ValueError, InvalidTag):
        return None
    return text.decode()


def message_text(message: Message) -> str:
    """The text to deliver or to show on the demo outbox: the sealed full text while there
    is one, else the stored text."""
    if message.sealed:
        opened = text_open(message.sealed, message_uuid=str(message.uuid))
        if opened is not None:
            return opened
    return message.body
