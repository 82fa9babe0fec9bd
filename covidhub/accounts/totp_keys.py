"""Staff TOTP keys encrypted at rest.

django-otp keeps a device's key in clear (`otp_totp_totpdevice.key`, hex), so a database
copy would let anyone compute every staff member's codes. Its `key` field is given this
subclass when the app loads (`install()`): Python — django-otp's verification, the
enrolment QR — keeps seeing the hex key, while every write (save, `update()`,
`bulk_create`) stores `sealed:<AES-GCM>` through `covidhub.core.sealing`, and a dump
(`dumpdata`) writes the sealed form too. django-otp has no hook for this (its issue #67);
the column and its migrations stay django-otp's (the field deconstructs as the CharField
it was), so no migration of a third-party app is needed.

A stored value that no key opens (SECRETS_KEYS lost the key that sealed it) stays as it
is in Python: `totp_key_readable` is then False and the sign-in treats every code as
wrong instead of failing, and the next save writes the value back unchanged.
"""

from __future__ import annotations

import binascii
import logging
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

from covidhub.core.sealing import secret_open, secret_seal

logger = logging.getLogger(__name__)

PREFIX = "sealed:"
PURPOSE = "covidhub.accounts.totp-key"


def totp_key_seal(key_hex: str) -> str:
    """The stored form of a hex key (a sealed value is returned as it is)."""
    if key_hex.startswith(PREFIX):
        return key_hex
    return PREFIX + secret_seal(binascii.unhexlify(key_hex), purpose=PURPOSE)


def totp_key_open(stored: str) -> str | None:
    """The hex key of a stored value (None if no key opens it); a hex value written before
    keys were sealed is returned as it is."""
    if not stored.startswith(PREFIX):
        return stored
    plain = secret_open(stored[len(PREFIX) :], purpose=PURPOSE)
    return plain.hex() if plain is not None else None


def totp_key_readable(device: Any) -> bool:
    """Whether the device's key could be opened (see the module's docstring)."""
    if str(device.key).startswith(PREFIX):
        logger.error("TOTP device %s: its key cannot be opened with SECRETS_KEYS", device.pk)
        return False
    return True


class SealedKeyField(models.CharField):  # type: ignore[type-arg]
    def from_db_value(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> Any:
        if not isinstance(value, str) or not value:
            return value
        opened = totp_key_open(value)
        return opened if opened is not None else value

    def get_db_prep_save(self, value: Any, connection: BaseDatabaseWrapper) -> Any:
        if isinstance(value, str) and value:
            value = totp_key_seal(value)
        return super().get_db_prep_save(value, connection)

    def value_to_string(self, obj: Any) -> str:
        value = self.value_from_object(obj)
        return totp_key_seal(value) if value else ""

    def deconstruct(self) -> Any:
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs


def install() -> None:
    """Give django-otp's TOTP `key` field the sealing behaviour (once, at app loading)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    field = TOTPDevice._meta.get_field("key")
    if not isinstance(field, SealedKeyField):
        field.__class__ = SealedKeyField
