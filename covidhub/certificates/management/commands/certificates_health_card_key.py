"""List or rotate the SMART Health Card issuer key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from covidhub.certificates.healthcard_keys import healthcard_key_rotate
from covidhub.certificates.models import HealthCardKey


class Command(BaseCommand):
    help = "SMART Health Card issuer key: list | rotate (a new key signs; the old stays published)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["list", "rotate"])

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "rotate":
            key = healthcard_key_rotate(actor=None)
            self.stdout.write(f"new issuer key {key.kid}")
            return
        for key in HealthCardKey.objects.all():
            marker = "*" if key.status == HealthCardKey.Status.ACTIVE else " "
            self.stdout.write(f"{marker} {key.kid} {key.status:8} {key.created_at:%Y-%m-%d}")
