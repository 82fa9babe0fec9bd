from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.oath import totp

from covidhub.demo.staff import demo_account_exists, demo_totp_key


class Command(BaseCommand):
    help = "Print the current TOTP code of any demo staff account (never in production)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("not available in production")
        if not demo_account_exists(options["username"]):
            raise CommandError(
                "not a demo account (seed_demo lists them; see the README's demo accounts)"
            )
        self.stdout.write(f"{totp(bytes.fromhex(demo_totp_key(options['username']))):06d}")
