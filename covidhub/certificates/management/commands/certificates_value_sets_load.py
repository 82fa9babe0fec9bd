"""Load EU DCC value-set files (e.g. a new antigen-test device list, in the EU value-set
format or as the JRC HSC common list JSON) as a new release."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from covidhub.certificates.dcc.valuesets import is_jrc_device_list
from covidhub.certificates.value_sets import release_version_label, value_sets_release_load
from covidhub.core.errors import DomainError

MAX_FILE_BYTES = 20 * 1024 * 1024


def value_set_files_read(paths: list[Path]) -> list[Any]:
    """The JSON documents of the given files and of the *.json files in given folders
    (in folders, files that are neither a value set nor a JRC device list, such as the
    value-set file schema, are left out)."""
    documents: list[Any] = []
    for path in paths:
        files = sorted(path.glob("*.json")) if path.is_dir() else [path]
        for file in files:
            if file.stat().st_size > MAX_FILE_BYTES:
                raise CommandError(f"{file}: larger than any value-set file")
            try:
                document = json.loads(file.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                raise CommandError(f"{file}: not JSON ({error})") from error
            if path.is_dir() and not (
                (isinstance(document, dict) and "valueSetId" in document)
                or is_jrc_device_list(document)
            ):
                continue
            documents.append(document)
    return documents


class Command(BaseCommand):
    help = "Load EU DCC value-set files or folders; a new release when something changed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        documents = value_set_files_read(options["paths"])
        try:
            release, created = value_sets_release_load(
                documents=documents,
                source="files: " + ", ".join(path.name for path in options["paths"]),
                actor=None,
            )
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message}") from error
        label = release_version_label(release.version) if release else "packaged"
        state = "new release" if created else "unchanged"
        self.stdout.write(f"{len(documents)} value sets read; {state}: {label}")
