"""Create the province's DSC key pair and a CSR for the national CSCA to sign."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from covidhub.certificates.keystore import signing_key_request


class Command(BaseCommand):
    help = (
        "Create a DSC key pair (stored encrypted with COVIDHUB_DSC_PASSPHRASE) and print "
        "its certificate signing request (PEM) for the national CSCA."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organization", default="Sở Y tế tỉnh Hải Dương")
        parser.add_argument("--common-name", default="Hai Duong DCC DSC")
        parser.add_argument("--algorithm", choices=["ES256", "PS256"], default="ES256")
        parser.add_argument("--out", type=Path, help="write the CSR here instead of stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        key = signing_key_request(
            actor=None,
            organization=options["organization"],
            common_name=options["common_name"],
            algorithm=options["algorithm"],
        )
        if options["out"]:
            options["out"].write_text(key.csr_pem, encoding="ascii")
        else:
            self.stdout.write(key.csr_pem)
        self.stdout.write(
            f"pending key {key.uuid}: import the signed certificate with "
            f"`manage.py certificates_dsc_import {key.uuid} dsc.pem`"
        )
