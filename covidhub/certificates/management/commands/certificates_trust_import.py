"""Import foreign or national DSCs into the published trust list."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from covidhub.certificates.keystore import trust_list_import
from covidhub.core.errors import DomainError

_PEM_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def certificates_from_file(data: bytes) -> list[bytes]:
    """PEM bundles, single DER files, or a JSON trust list in our published format."""
    if data.lstrip().startswith(b"{"):
        document = json.loads(data)
        return [base64.b64decode(entry["certificate"]) for entry in document["certificates"]]
    blocks = _PEM_BLOCK.findall(data)
    return list(blocks) if blocks else [data]


class Command(BaseCommand):
    help = "Import DSCs (PEM bundle, DER, or a trust-list JSON) into the trust list."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        certificates: list[bytes] = []
        for path in options["files"]:
            certificates += certificates_from_file(path.read_bytes())
        try:
            added = trust_list_import(actor=None, certificates_data=certificates)
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message}") from error
        self.stdout.write(f"{len(certificates)} certificates read, {added} new in the trust list")
