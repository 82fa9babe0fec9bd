"""Secrets at rest: the one place that decides how covidhub hashes and encrypts them.

- `secret_digest` — a keyed hash (HMAC-SHA256) for a secret that is only ever compared:
  a session key, an opt-out link's token. The row holds the digest; a lookup hashes what
  was presented. A database copy alone gives nothing to present.
- `secret_derive` — a short secret computed from a public value (an opt-out link's token
  from a roster member's UUID), so that it can be rebuilt for the next message without
  being stored at all.
- `secret_seal` / `secret_open` — AES-GCM for a secret that must be read back: a TOTP key,
  the full text of a message that carries a sign-in code. The ciphertext is bound to its
  purpose (and to a context such as the message's UUID), so that one cannot be pasted
  where another is expected.

The keys come from `SECRETS_KEYS` (env `SECRETS_KEYS` or `SECRETS_KEYS_FILE`, comma-
separated, newest first), each purpose getting its own key derived by HMAC. Without it,
SECRET_KEY is used. The first key seals, hashes and derives; every key (and SECRET_KEY,
last, for what was sealed before a dedicated key was set) opens, so a new key is added in
front and the old one kept until `manage.py secrets_reseal` has run. Changing the first
key signs everyone out (session digests) and ends the opt-out links already sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

_NONCE_BYTES = 12


def _masters() -> list[bytes]:
    keys = [key.encode() for key in settings.SECRETS_KEYS]
    keys.append(settings.SECRET_KEY.encode())
    return list(dict.fromkeys(keys))


def _purpose_key(master: bytes, purpose: str) -> bytes:
    return hmac.new(master, purpose.encode(), hashlib.sha256).digest()


def secret_digest(value: str, *, purpose: str, length: int = 64) -> str:
    """The keyed hash of `value` for `purpose`, as `length` hexadecimal characters."""
    key = _purpose_key(_masters()[0], purpose)
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:length]


def secret_derive(value: str, *, purpose: str, length: int = 16) -> str:
    """A URL-safe secret of `length` characters computed from `value` for `purpose`."""
    key = _purpose_key(_masters()[0], purpose)
    raw = hmac.new(key, value.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(raw).decode()[:length]


def secret_seal(plain: bytes, *, purpose: str, context: str = "") -> str:
    """`plain` encrypted (AES-GCM, a fresh nonce) under the first key, as base64 text."""
    nonce = os.urandom(_NONCE_BYTES)
    box = AESGCM(_purpose_key(_masters()[0], purpose)).encrypt(nonce, plain, context.encode())
    return base64.b64encode(nonce + box).decode()


def secret_open(sealed: str, *, purpose: str, context: str = "") -> bytes | None:
    """What `secret_seal` sealed, or None when no key opens it (a key dropped too soon,
    a value changed in the database)."""
    try:
        raw = base64.b64decode(sealed, validate=True)
    except ValueError:
        return None
    for master in _masters():
        try:
            return AESGCM(_purpose_key(master, purpose)).decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode()
            )
        except (ValueError, InvalidTag):
            continue
    return None


def secret_is_sealed_by_first_key(sealed: str, *, purpose: str, context: str = "") -> bool:
    """Whether the first key opens `sealed` (else `secrets_reseal` should seal it again)."""
    try:
        raw = base64.b64decode(sealed, validate=True)
        AESGCM(_purpose_key(_masters()[0], purpose)).decrypt(
            raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode()
        )
    except (ValueError, InvalidTag):
        return False
    return True
