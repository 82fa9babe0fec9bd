from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from covidhub.areas.models import Area
from covidhub.demo.province import province_generate
from covidhub.demo.seeders import run_all
from covidhub.demo.staff import DEMO_PASSWORD, citizens_seed, staff_seed


class Command(BaseCommand):
    help = "Seed a plausible demo province (idempotent: a second run changes nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--people", type=int, default=2000, help="synthetic people (default 2,000)"
        )
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("demo data is refused in production")
        if not Area.objects.filter(level=Area.Level.COMMUNE).exists():
            call_command("load_areas", stdout=self.stdout)
        lines = staff_seed()
        lines += citizens_seed()
        result = province_generate(
            people=options["people"], log=None if options["quiet"] else self.stdout
        )
        lines += run_all(people=options["people"])
        if result["people"]:
            self.stdout.write(
                f"demo: {int(result['people']):,} people added in {result['seconds']:.1f}s "
                f"({result['per_second']:,.0f}/s)"
            )
        else:
            self.stdout.write("demo: already seeded, nothing changed")
        if not options["quiet"]:
            self.stdout.write(
                f"Demo logins (staff password: {DEMO_PASSWORD}; TOTP code: manage.py demo_totp USERNAME):"
            )
            for line in lines:
                self.stdout.write(line)
