from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Recompute the portal's published statistics (all days, or --since/--until)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", type=datetime.date.fromisoformat)
        parser.add_argument("--until", type=datetime.date.fromisoformat)
        parser.add_argument("--recent", action="store_true", help="only the last few days")

    def handle(self, *args: Any, **options: Any) -> None:
        from covidhub.portal import rollup

        if options["recent"]:
            result = rollup.stats_rollup_recent()
        else:
            result = rollup.stats_rollup(since=options["since"], until=options["until"])
        self.stdout.write(
            f"{result.since}..{result.until}: {result.cells} cells from "
            f"{len(result.sources)} sources in {result.seconds:.1f} s"
        )
