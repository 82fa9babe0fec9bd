"""Sync the trust list and the value sets from the configured trust hub."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from covidhub.certificates.trust_sync import certificates_trust_sync
from covidhub.core.errors import DomainError


class Command(BaseCommand):
    help = "Download DSCs and value sets from the trust hub (CERTIFICATES_TRUST_SYNC_URL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", help="the hub's base URL, instead of the setting")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = certificates_trust_sync(base_url=options.get("url"))
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message}") from error
        version = (
            f"release-{report.value_sets_version}" if report.value_sets_version else "packaged"
        )
        self.stdout.write(
            f"{report.certificates} DSCs read, {report.certificates_added} new; "
            f"{report.value_sets} value sets read, "
            f"{'new release' if report.value_sets_changed else 'unchanged'}: {version}"
        )
