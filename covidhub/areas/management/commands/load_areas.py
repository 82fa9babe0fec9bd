from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from covidhub.areas.served import served_province_codes
from covidhub.areas.services import area_tree_load
from covidhub.areas.sources import province_codes, rows_from_gso_file, rows_from_package
from covidhub.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Load administrative units: from the vietnam-provinces package (default: every "
        "province the deployment serves, COVIDHUB_PROVINCES) or from a GSO list exported as "
        "CSV/XLSX. Running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--province",
            action="append",
            help="a province code (package source; repeat for several); default: the served ones",
        )
        parser.add_argument("--file", type=Path, help="a GSO list as .csv or .xlsx")
        parser.add_argument(
            "--valid-from",
            type=datetime.date.fromisoformat,
            help="the date from which the list is valid (YYYY-MM-DD)",
        )
        parser.add_argument(
            "--dissolve-missing",
            action="store_true",
            help="mark units of the list's provinces that it does not name as dissolved",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["file"]:
                rows = rows_from_gso_file(path=options["file"])
            else:
                rows = []
                for code in options["province"] or served_province_codes():
                    rows += rows_from_package(province_code=code)
            if options["dissolve_missing"] and not options["valid_from"]:
                raise CommandError("--dissolve-missing needs --valid-from")
            report = area_tree_load(
                rows=rows,
                valid_from=options["valid_from"],
                dissolve_missing_in=province_codes(rows) if options["dissolve_missing"] else None,
            )
        except DomainError as exc:
            for row in exc.details.get("rows", []):
                self.stderr.write(str(row))
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(
            "areas: {created} created, {updated} updated, {unchanged} unchanged, "
            "{dissolved} dissolved".format(**vars(report))
        )
