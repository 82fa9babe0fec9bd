"""Large imports applied in chunks, each chunk one short transaction.

A list of 20,000 people written in one transaction held SQLite's write lock for 45 s, and
every other write in the platform (a declaration, a dose) waited and failed. An import now
validates the whole file first (nothing written), keeps the good rows in an `ImportJob`,
and applies them `IMPORT_CHUNK_ROWS` at a time: the lock is held for one chunk, then every
waiting write gets its turn. The capability gives the function that applies one row; this
module owns the cursor, the counts, the errors and the scoping of the job.

A capability that applies rows set-based (the laboratory's result files: one statement per
chunk on PostgreSQL) gives `apply_chunk` instead, which takes the chunk's rows and returns
one outcome per row; it also chooses its own `chunk_size`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from covidhub.core.errors import NotFound
from covidhub.core.models import ImportJob

# What `apply_row` returns: "created", "updated", a row error {"row", "field", "message"},
# or "skipped" (left out without an error, e.g. a tube resulted by hand meanwhile).
RowOutcome = str | dict[str, Any]
RowApplier = Callable[[ImportJob, Any], RowOutcome]
ChunkApplier = Callable[[ImportJob, list[Any]], list[RowOutcome]]

IMPORT_CHUNK_ROWS = 200
# SQLite has one write lock and its busy handler retries every 100 ms at most: a pause this
# long between chunks lets every write that waited for the lock take it, rather than the
# next chunk grabbing it again at once. PostgreSQL locks rows, so nothing waits there.
SQLITE_PAUSE_SECONDS = 0.15


def chunk_rows() -> int:
    return int(getattr(settings, "IMPORT_CHUNK_ROWS", IMPORT_CHUNK_ROWS))


def import_job_create(
    *,
    actor: Any,
    kind: str,
    scope: str,
    rows: list[Any],
    errors: list[dict[str, Any]],
    params: dict[str, Any],
) -> ImportJob:
    """Keep the validated rows of one file until they are applied."""
    return ImportJob.objects.create(
        kind=kind,
        actor=actor,
        scope=scope[:500],
        rows_total=len(rows),
        errors=errors,
        payload={"rows": rows, "params": params},
    )


def import_job_get_for_actor(*, actor: Any, job_uuid: Any, kind: str) -> ImportJob:
    """The actor's own job of this kind; anyone else's is not found (404)."""
    if not getattr(actor, "is_authenticated", False):
        raise NotFound()
    try:
        return ImportJob.objects.get(uuid=job_uuid, kind=kind, actor_id=actor.pk)
    except (ImportJob.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound() from exc


def import_job_chunk(
    *,
    job_uuid: Any,
    apply_row: RowApplier | None = None,
    apply_chunk: ChunkApplier | None = None,
    finish: Callable[[ImportJob], None] | None = None,
    chunk_size: int | None = None,
) -> ImportJob:
    """Apply the next chunk of rows in one transaction; return the job as left.

    The job row is locked first (on SQLite the IMMEDIATE transaction takes the write lock),
    so that two runs of the same job apply each row once.
    """
    size = chunk_size or chunk_rows()
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().select_related("actor").get(uuid=job_uuid)
        if job.finished:
            return job
        rows = job.payload.get("rows", [])
        start = job.rows_done
        items = rows[start : start + size]
        if apply_chunk is not None:
            outcomes = apply_chunk(job, items) if items else []
        else:
            assert apply_row is not None
            outcomes = [apply_row(job, item) for item in items]
        for outcome in outcomes:
            if outcome == "created":
                job.created_count += 1
            elif outcome == "updated":
                job.updated_count += 1
            elif isinstance(outcome, dict):
                job.errors.append(outcome)
        job.rows_done = min(start + size, job.rows_total)
        job.status = ImportJob.Status.RUNNING
        if job.rows_done >= job.rows_total:
            job.status = ImportJob.Status.DONE
            job.finished_at = timezone.now()
            job.errors.sort(key=lambda e: e.get("row", 0))
            if finish is not None:
                finish(job)
            # The rows carry names and identity numbers: not kept once applied.
            job.payload = {"params": job.payload.get("params", {})}
            job.save()
        else:
            # The rows (megabytes for a large file) are not rewritten with every chunk.
            job.save(update_fields=_PROGRESS_FIELDS)
    return job


_PROGRESS_FIELDS = [
    "rows_done",
    "status",
    "created_count",
    "updated_count",
    "errors",
    "updated_at",
]


def import_job_run(
    *,
    job_uuid: Any,
    apply_row: RowApplier | None = None,
    apply_chunk: ChunkApplier | None = None,
    finish: Callable[[ImportJob], None] | None = None,
    chunk_size: int | None = None,
) -> ImportJob:
    """Apply every remaining chunk, each in its own transaction; a job that raises is
    marked failed (the rows already applied stay, the cursor says how far it got)."""
    try:
        while True:
            job = import_job_chunk(
                job_uuid=job_uuid,
                apply_row=apply_row,
                apply_chunk=apply_chunk,
                finish=finish,
                chunk_size=chunk_size,
            )
            if job.finished:
                return job
            if connection.vendor == "sqlite":
                time.sleep(SQLITE_PAUSE_SECONDS)
    except Exception:
        ImportJob.objects.filter(uuid=job_uuid).exclude(status=ImportJob.Status.DONE).update(
            status=ImportJob.Status.FAILED, finished_at=timezone.now(), payload={}
        )
        raise
