"""PostgreSQL partitions of the tables that grow without bound (covidhub.core.partitions)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from covidhub.core import partitions


class Command(BaseCommand):
    help = (
        "list: the partitions and their rows; maintain: create the partitions ahead (the "
        "daily job does it too; run it as the audit owner after audit_lockdown); "
        "detach-archive: write the audit months ending on or before --before to --out and "
        "detach them (--drop drops them after); verify-archive: check an archive directory."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list")
        sub.add_parser("maintain")
        archive = sub.add_parser("detach-archive")
        archive.add_argument("--before", required=True, type=datetime.date.fromisoformat)
        archive.add_argument("--out", required=True, type=Path)
        archive.add_argument("--drop", action="store_true")
        verify = sub.add_parser("verify-archive")
        verify.add_argument("directory", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "verify-archive":
            from covidhub.audit.archive import audit_archive_verify

            problems = audit_archive_verify(archive_dir=options["directory"])
            for problem in problems:
                self.stderr.write(problem)
            if problems:
                raise CommandError(f"{len(problems)} problem(s) in the archive")
            self.stdout.write("archive whole")
            return
        if not any(partitions.is_partitioned(table) for table in partitions.SPECS):
            raise CommandError("no partitioned table here (SQLite keeps plain tables)")
        if action == "list":
            for table in partitions.SPECS:
                for part in partitions.partition_list(table, rows=True):
                    period = f"{part.start} .. {part.end}" if part.start else "DEFAULT"
                    self.stdout.write(f"{part.name:45} {period:25} {part.rows}")
        elif action == "maintain":
            made = partitions.partitions_maintain()
            for table, names in made.items():
                self.stdout.write(f"{table}: {len(names)} created {' '.join(names)}".rstrip())
        elif action == "detach-archive":
            from covidhub.audit.archive import audit_archive

            try:
                written = audit_archive(
                    before=options["before"], out_dir=options["out"], drop=options["drop"]
                )
            except partitions.PartitionError as error:
                raise CommandError(str(error)) from error
            for manifest in written:
                self.stdout.write(
                    f"{manifest['partition']}: {manifest['rows']} rows, "
                    f"sha256 {manifest['csv_sha256']}"
                )
            if not written:
                self.stdout.write("no audit month ends on or before that date")
