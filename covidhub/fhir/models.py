from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ExportJob(models.Model):
    """A FHIR Bulk Data export: asked for by one reader, written by the worker as one
    NDJSON file per resource type, downloadable by that reader only until `expires_at`."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting for the worker")
        RUNNING = "running", _("Running")
        DONE = "done", _("Finished")
        FAILED = "failed", _("Could not finish")
        CANCELLED = "cancelled", _("Cancelled")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    # The staff account (or a machine client's service account) that asked.
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    actor_role = models.CharField(max_length=30, blank=True)
    client_id = models.CharField(_("machine client"), max_length=100, blank=True)
    area_paths = models.JSONField(_("areas"), default=list)
    resource_types = models.JSONField(_("resource types"), default=list)
    since = models.DateTimeField(_("changed since"), null=True, blank=True)
    request_url = models.CharField(max_length=2000)
    transaction_time = models.DateTimeField(_("transaction time"))
    resources_written = models.PositiveIntegerField(default=0)
    # [{"type": "Patient", "name": "Patient.ndjson", "count": 123}, …]
    files = models.JSONField(default=list, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("FHIR bulk export")
        verbose_name_plural = _("FHIR bulk exports")
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return f"export {self.uuid} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED, self.Status.CANCELLED)


class PatientRecords(models.Model):
    """A person's records as `Patient/$everything` serves them: each group of resources
    (doses, results, their reports and specimens, home-care vital signs and conditions)
    kept as the JSON text of its Bundle entries, built by the same builders on the first
    read and served as it is until a record of the person changes.

    Kept in step by the database itself (triggers of migration 0002, whatever writes: the
    ORM, raw SQL, an import): a write of a person's dose, result, sample, tube, tube
    result, care order or self-check adds one to `generation` and empties the text; a
    change of a vaccine or a lot that the resources name adds one to `RecordsEpoch`. The
    text is served only while its `epoch` and `build` (the builders' code) are current,
    and it is kept only if `generation` has not moved since it was read
    (`fhir.everything`). The Patient itself and the places are built at each read (from
    the person's row and the per-process caches)."""

    person = models.OneToOneField(
        "people.Person",
        primary_key=True,
        on_delete=models.DO_NOTHING,  # the person's delete removes it (a trigger)
        db_constraint=False,
        related_name="fhir_records",
    )
    generation = models.BigIntegerField(db_default=0)
    build = models.CharField(max_length=16, db_default="")
    epoch = models.BigIntegerField(db_default=0)
    # NULL: not built, or a record changed since.
    immunizations = models.TextField(null=True)  # noqa: DJ001 - NULL and "" differ here
    observations = models.TextField(db_default="")
    vitals = models.TextField(db_default="")
    conditions = models.TextField(db_default="")
    reports = models.TextField(db_default="")
    # {"counts": {group: n}, "places": {group: [[kind, pk], …]}}
    meta = models.TextField(db_default="")

    class Meta:
        verbose_name = _("kept FHIR records of a person")
        verbose_name_plural = _("kept FHIR records of people")

    def __str__(self) -> str:
        return f"kept records of person {self.person_id} (generation {self.generation})"


class RecordsEpoch(models.Model):
    """One row: how many times a vaccine or a lot changed what the kept records name."""

    value = models.BigIntegerField(db_default=0)

    def __str__(self) -> str:
        return f"records epoch {self.value}"
