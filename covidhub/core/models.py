from __future__ import annotations

from django.conf import settings
from django.db import models


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
