"""List, rotate, retire and revoke the province's signing keys."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from covidhub.certificates.keystore import (
    signing_key_create_development,
    signing_key_current,
    signing_key_get,
    signing_key_retire,
)
from covidhub.certificates.models import SigningKey
from covidhub.certificates.services import signing_key_revoke
from covidhub.certificates.tasks import certificates_reissue_for_key
from covidhub.core.errors import DomainError


class Command(BaseCommand):
    help = "Signing keys: list | rotate | retire KID | revoke KID --reason TEXT [--reissue]"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["list", "rotate", "retire", "revoke"])
        parser.add_argument("kid", nargs="?")
        parser.add_argument("--reason", default="")
        parser.add_argument("--reissue", action="store_true")
        parser.add_argument("--days", type=int, default=730)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message}") from error

    def _list(self, options: dict[str, Any]) -> None:
        try:
            current = signing_key_current(now=timezone.now()).pk
        except DomainError:
            current = None
        for key in SigningKey.objects.order_by("-not_valid_before", "-id"):
            marker = "*" if key.pk == current else " "
            validity = (
                f"{key.not_valid_before:%Y-%m-%d}..{key.not_valid_after:%Y-%m-%d}"
                if key.not_valid_before and key.not_valid_after
                else "-"
            )
            self.stdout.write(
                f"{marker} {key.uuid} kid={key.kid or '-':16} {key.status:8} {validity} "
                f"{'development ' if key.is_development else ''}{key.label}"
            )

    def _rotate(self, options: dict[str, Any]) -> None:
        if settings.PRODUCTION:
            raise CommandError(
                "In production, rotate with certificates_dsc_request, have the national CSCA "
                "sign the request, then certificates_dsc_import; the newest valid key signs."
            )
        key, _csca = signing_key_create_development(
            actor=None, valid_for=timedelta(days=options["days"]), label="rotated development DSC"
        )
        self.stdout.write(f"new key {key.kid} now signs; older keys still verify")

    def _retire(self, options: dict[str, Any]) -> None:
        if not options["kid"]:
            raise CommandError("give the key's kid or UUID")
        key = signing_key_retire(actor=None, key=signing_key_get(kid_or_uuid=options["kid"]))
        self.stdout.write(f"retired {key.kid}")

    def _revoke(self, options: dict[str, Any]) -> None:
        if not options["kid"] or not options["reason"]:
            raise CommandError("give the key's kid and --reason")
        kid = options["kid"].lower()
        reason = options["reason"]
        with transaction.atomic():
            hit = signing_key_revoke(kid=kid, reason=reason, actor=None)
            if options["reissue"]:
                transaction.on_commit(lambda: certificates_reissue_for_key.enqueue(kid, reason))
        self.stdout.write(f"revoked {kid}: {hit} certificates revoked")
