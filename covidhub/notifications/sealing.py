"""Messages that carry a secret (a sign-in code): the stored text never holds it.

`message_queue(..., secrets=[code])` keeps the text with each secret masked in `body` — what
support staff, backups and database readers see — and the full text encrypted in `sealed`
(AES-GCM through `covidhub.core.sealing`, a key for this purpose only, bound to the
message's UUID).
The worker opens it to send and clears it once the message has left or failed for good;
only a demo outbox (no gateway, not production) keeps it, to show the code on its page.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from covidhub.core.sealing import secret_open, secret_seal

if TYPE_CHECKING:
    from covidhub.notifications.models import Message

MASK = "•"
_PURPOSE = "covidhub.notifications.sealed-message"


def text_mask(text: str, secrets: Iterable[str]) -> str:
    """The text with every occurrence of each secret replaced by dots of its length."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, MASK * len(secret))
    return text


def text_seal(text: str, *, message_uuid: str) -> str:
    return secret_seal(text.encode(), purpose=_PURPOSE, context=message_uuid)


def text_open(sealed: str, *, message_uuid: str) -> str | None:
    """The sealed text, or None when it cannot be opened (its key was dropped meanwhile)."""
    opened = secret_open(sealed, purpose=_PURPOSE, context=message_uuid)
    return opened.decode() if opened is not None else None


def message_text(message: Message) -> str:
    """The text to deliver or to show on the demo outbox: the sealed full text while there
    is one, else the stored text."""
    if message.sealed:
        opened = text_open(message.sealed, message_uuid=str(message.uuid))
        if opened is not None:
            return opened
    return message.body
