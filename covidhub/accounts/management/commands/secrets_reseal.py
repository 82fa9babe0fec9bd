"""Seal every staff TOTP key again under the first of SECRETS_KEYS, after a new key was put
in front: then the old key may be dropped. Keys that no configured key opens are listed
(their owners enrol again). Sessions need nothing (a new first key signs everyone out);
sealed message texts live only until their message is sent."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django_otp.plugins.otp_totp.models import TOTPDevice

from covidhub.accounts.totp_keys import PREFIX


class Command(BaseCommand):
    help = "Seal every staff TOTP key again under the first of SECRETS_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        resealed, unreadable = 0, []
        for device in TOTPDevice.objects.only("pk", "key").iterator():
            if device.key.startswith(PREFIX):  # no configured key opens it
                unreadable.append(device.pk)
                continue
            # Saving the hex key seals it under the first key (totp_keys.SealedKeyField).
            TOTPDevice.objects.filter(pk=device.pk).update(key=device.key)
            resealed += 1
        self.stdout.write(f"{resealed} TOTP keys sealed under the first key")
        if unreadable:
            self.stderr.write(
                f"{len(unreadable)} TOTP keys cannot be opened (devices {unreadable}): "
                "keep the key that sealed them in SECRETS_KEYS, or have their owners enrol again"
            )
