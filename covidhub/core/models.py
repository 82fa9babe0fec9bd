from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class IdempotencyRecord(models.Model):
    """The stored response of a POST made with an Idempotency-Key header.

    The same key and body from the same caller get the same response; the same key with
    another body is refused. The row is inserted before the work, so that a concurrent
    retry waits on the unique key instead of creating a second object.
    """

    key = models.CharField(max_length=100)
    owner = models.CharField(max_length=80)
    method_path = models.CharField(max_length=300)
    body_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.BinaryField(null=True)
    content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="idempotency_owner_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.owner}:{self.key}"


class ScheduledRun(models.Model):
    """One claimed slot of a periodic job, so that two schedulers never both enqueue it."""

    name = models.CharField(max_length=100)
    slot = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["name", "slot"], name="scheduled_run_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name}@{self.slot}"


class WorkerBeat(models.Model):
    """A task worker's last sign of life: `run_worker` beats every few seconds, and the
    tasks a worker was running when it stopped beating go back to the queue
    (covidhub.core.workers)."""

    worker_id = models.CharField(max_length=100, primary_key=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.worker_id


class Setting(models.Model):
    """Operator-editable values (the status-card rules, retention days, …) by key."""

    key = models.CharField(max_length=100, unique=True)
    value = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class BenchProbe(models.Model):
    """The row the benchmarks' bare baseline view inserts and selects (bench/harness.py)."""

    key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.key


class ImportJob(models.Model):
    """A large import applied in the background, chunk by chunk.

    Each chunk is one short transaction that also moves `rows_done` forward, under this
    row's lock: a chunk run twice (a retried task, two workers) finds the cursor already
    past it and does nothing. `payload` holds the validated rows until the job ends and is
    then emptied (it carries personal data). Only the job's actor may see it.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Finished")
        FAILED = "failed", _("Stopped by an error")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=60)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    scope = models.CharField(_("scope"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    rows_total = models.PositiveIntegerField(_("rows to import"), default=0)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    errors = models.JSONField(_("row errors"), default=list, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["actor", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rows_done__lte=models.F("rows_total")),
                name="import_job_cursor_within_total",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.uuid}"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        return 100 if not self.rows_total else self.rows_done * 100 // self.rows_total
