"""Import the DSC that the national CSCA signed for a pending key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from covidhub.certificates.keystore import signing_key_get, signing_key_import_certificate
from covidhub.core.errors import DomainError


class Command(BaseCommand):
    help = "Import a signed DSC (PEM or DER) for a pending key; checks that it matches the key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("key", help="the pending key's UUID")
        parser.add_argument("certificate", type=Path)
        parser.add_argument("--csca", type=Path, help="also check that this CSCA signed it")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            key = signing_key_get(kid_or_uuid=options["key"])
            key = signing_key_import_certificate(
                actor=None,
                key=key,
                certificate_data=options["certificate"].read_bytes(),
                csca_data=options["csca"].read_bytes() if options["csca"] else None,
            )
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message}") from error
        self.stdout.write(
            f"imported: key {key.uuid} kid={key.kid} "
            f"valid {key.not_valid_before:%Y-%m-%d} .. {key.not_valid_after:%Y-%m-%d}"
        )
