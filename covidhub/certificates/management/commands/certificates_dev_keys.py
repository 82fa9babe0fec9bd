"""Create a development CSCA and a DSC it signs (refused in production)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from django.core.management.base import BaseCommand, CommandError, CommandParser

from covidhub.certificates.keystore import signing_key_create_development
from covidhub.core.errors import DomainError


class Command(BaseCommand):
    help = "Create a development CSCA and signing certificate (DSC); refused in production."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=730, help="DSC validity (default 730)")
        parser.add_argument("--label", default="development DSC")
        parser.add_argument("--csca-out", type=Path, help="write the CSCA certificate (PEM) here")

    def handle(self, *args: Any, **options: Any) -> None:
        from datetime import timedelta

        try:
            key, csca = signing_key_create_development(
                actor=None, valid_for=timedelta(days=options["days"]), label=options["label"]
            )
        except DomainError as error:
            raise CommandError(str(error.message)) from error
        if options["csca_out"]:
            options["csca_out"].write_bytes(csca.public_bytes(serialization.Encoding.PEM))
        self.stdout.write(
            f"created development key {key.uuid} kid={key.kid} "
            f"valid {key.not_valid_before:%Y-%m-%d} .. {key.not_valid_after:%Y-%m-%d}"
        )
