"""The exchange outbox: one row per record (a dose, a released result, a confirmed case, a
revoked certificate) and national endpoint, written in the transaction that records it,
and its fate at the partner; and the doses imported from elsewhere, by their source's
identifier."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ExchangeRecord(models.Model):
    class Kind(models.TextChoices):
        DOSE = "dose", _("Vaccine dose")
        RESULT = "result", _("Test result")
        CASE = "case", _("Case report")
        REVOCATION = "revocation", _("Certificate revocation")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Being sent")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")
        DEAD = "dead", _("Failed (dead letter)")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    endpoint = models.CharField(_("endpoint"), max_length=64)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    source_pk = models.BigIntegerField()
    # The record's own UUID and version: the identifier the partner deduplicates on.
    record_uuid = models.UUIDField()
    version = models.PositiveIntegerField(default=1)
    commune_path = models.CharField(max_length=64, db_index=True)
    day = models.DateField(_("day"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.CharField(max_length=500, blank=True)
    reason = models.CharField(_("partner's reason"), max_length=1000, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(
                fields=("endpoint", "kind", "record_uuid", "version"),
                name="exchange_record_once_per_endpoint",
            )
        ]
        indexes = [
            models.Index(fields=("endpoint", "status", "next_attempt_at")),
            models.Index(fields=("day", "commune_path")),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.record_uuid} v{self.version} → {self.endpoint}"


class InboundDose(models.Model):
    """A dose imported from another system (a FHIR Immunization), by the identifier its
    source gave it: importing the same record again finds it here and creates nothing."""

    system = models.CharField(_("identifier system"), max_length=255)
    value = models.CharField(_("identifier"), max_length=255)
    dose = models.OneToOneField(
        "vaccination.Dose", on_delete=models.CASCADE, related_name="+", verbose_name=_("dose")
    )
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("id",)
        verbose_name = _("imported dose")
        verbose_name_plural = _("imported doses")
        constraints = [
            models.UniqueConstraint(fields=("system", "value"), name="exchange_inbound_once")
        ]

    def __str__(self) -> str:
        return f"{self.system}|{self.value}"
