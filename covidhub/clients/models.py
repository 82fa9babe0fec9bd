from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class MachineClient(models.Model):
    """A system that calls the API as itself (OAuth 2.0 client credentials).

    Its OAuth side is django-oauth-toolkit's `Application` (client id, the secret's hash);
    its identity inside covidhub is a service account (`account`): the actor of every audit
    row it causes, and the holder of the roles that say which areas and laboratory it
    reaches, so that the same scoped selectors answer it as answer staff. The account has no
    usable password and no TOTP device: it cannot sign in anywhere but here.
    """

    class Kind(models.TextChoices):
        NATIONAL = "national", _("National system")
        APP_BACKEND = "app_backend", _("Native app back end")
        PARTNER_LAB = "partner_lab", _("Partner laboratory system")
        OTHER = "other", _("Other system")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    application = models.OneToOneField(
        "oauth2_provider.Application", on_delete=models.PROTECT, related_name="machine_client"
    )
    account = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="machine_client"
    )
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    rate_per_minute = models.PositiveIntegerField(_("calls per minute"))
    quota_per_day = models.PositiveIntegerField(_("calls per day"))
    secret_version = models.PositiveIntegerField(default=1)
    secret_set_at = models.DateTimeField(_("secret set"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("machine client")
        verbose_name_plural = _("machine clients")
        constraints = [
            models.CheckConstraint(
                condition=Q(rate_per_minute__gte=1) & Q(quota_per_day__gte=1),
                name="machine_client_limits_positive",
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | Q(revoked_by__isnull=False),
                name="machine_client_revoked_by",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
