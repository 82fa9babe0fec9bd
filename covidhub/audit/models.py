from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(RuntimeError):
    pass


class AuditQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events cannot be changed")

    def delete(self) -> NoReturn:  # type: ignore[override]
        raise AppendOnlyError("audit events cannot be deleted")


class AuditEvent(models.Model):
    """One read or write of a person's data: append-only.

    The application never updates or deletes these rows; the database refuses it as well
    (triggers installed by the migration). The person is kept by UUID, not a foreign key,
    so that the trail outlives the record it describes.
    """

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    # No database constraint: every request writes an audit row, and a 200,000-result
    # import 200,000 of them, each checked against the account at commit. Accounts are
    # deactivated, never deleted (the ORM's PROTECT refuses it), and the actor is always
    # the signed-in account.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
        db_constraint=False,
    )
    actor_role = models.CharField(_("role"), max_length=30, blank=True)
    action = models.CharField(_("action"), max_length=80)
    object_type = models.CharField(_("object type"), max_length=60)
    object_id = models.CharField(_("object"), max_length=64)
    person_uuid = models.UUIDField(_("person"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    client_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            models.Index(fields=["person_uuid", "-at"]),
            # Exact matches only: no second (pattern) index for every imported result.
            models.Index(fields=["action"], name="audit_action"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events cannot be deleted")


class SecurityAlert(models.Model):
    """A pattern worth a province administrator's look: a burst of refused look-ups, or
    more distinct people looked up in an hour than a staff account should need."""

    class Kind(models.TextChoices):
        DENIED_BURST = "denied_burst", _("Many refused look-ups")
        BULK_LOOKUP = "bulk_lookup", _("Many people looked up")

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # Kept like the audit trail's actor: no constraint, accounts are never deleted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("account"),
        db_constraint=False,
    )
    count = models.PositiveIntegerField(_("count"))
    window_seconds = models.PositiveIntegerField(_("window (seconds)"))

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("security alert")
        verbose_name_plural = _("security alerts")
        indexes = [models.Index(fields=["actor", "kind", "-at"], name="security_alert_actor")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind}"


class StaffLookup(models.Model):
    """One person looked up by one staff account within one clock hour: the distinct
    people an account reaches per hour are these rows (the database, so that it holds
    with or without Redis and across every server process)."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    hour = models.DateTimeField()
    person_uuid = models.UUIDField()

    class Meta:
        ordering = ["-hour", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["actor", "hour", "person_uuid"], name="staff_lookup_once_per_hour"
            )
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h {self.person_uuid}"


class AuditArchive(models.Model):
    """One month of the audit trail detached from the database and written to a file
    (`covidhub.audit.archive`): the digests that prove the file whole, chained."""

    partition = models.CharField(max_length=63, unique=True)
    period_start = models.DateField()
    period_end = models.DateField()
    rows = models.PositiveBigIntegerField()
    csv_sha256 = models.CharField(max_length=64)
    previous_sha256 = models.CharField(max_length=64, blank=True)
    manifest_sha256 = models.CharField(max_length=64)
    archived_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.partition
