"""Issue 16: a staff roster was applied in one transaction — 20,000 rows held SQLite's write
lock for a minute (bench/bench_roster_apply.py) and a write waiting for it failed. Now the
decision is one short transaction and the plan is applied in chunks (core.import_jobs)."""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

import pytest
from django.db import OperationalError, connection, connections

from covidhub.adoption import services
from covidhub.adoption.errors import UploadAlreadyDecided
from covidhub.adoption.models import RosterMember, RosterUpload
from covidhub.adoption.tests.conftest import roster_csv, staff_row
from covidhub.audit.models import AuditEvent
from covidhub.core import import_jobs
from covidhub.core.import_jobs import import_job_chunk
from covidhub.core.models import ImportJob
from covidhub.core.testing import run_queued_tasks


def _check(agency: Any, head: Any, rows: list[list[Any]]) -> RosterUpload:
    return services.roster_upload_create(
        actor=head, agency=agency, data=roster_csv(rows), file_name="roster.csv"
    )


@pytest.mark.django_db
def test_a_long_roster_is_decided_at_once_and_applied_chunk_by_chunk(
    agencies: dict[str, Any], head: Any, upload_roster: Any, settings: Any
) -> None:
    ward = agencies["ward"]
    upload_roster(ward, [staff_row(n) for n in range(1, 5)])  # members 1-4, inline
    settings.ROSTER_INLINE_ROWS = 0
    settings.ROSTER_CHUNK_ROWS = 2
    renamed = staff_row(2, name="Trần Văn Đổi Tên")
    upload = _check(ward, head, [staff_row(1), renamed, staff_row(5), staff_row(6)])
    upload = services.roster_upload_apply(actor=head, upload=upload)
    # Decided: counts known, the file's rows gone, nothing applied yet.
    assert upload.status == RosterUpload.Status.APPLYING
    assert (upload.joined_count, upload.left_count, upload.updated_count) == (2, 2, 1)
    assert upload.rows == []
    assert RosterMember.objects.filter(agency=ward, left_at__isnull=True).count() == 4
    job = ImportJob.objects.filter(kind=services.ROSTER_JOB_KIND).latest("pk")
    assert job.rows_total == 5
    with pytest.raises(UploadAlreadyDecided):
        services.roster_upload_apply(actor=head, upload=upload)
    # One chunk is one transaction: the two leavers are out, nobody has joined yet.
    import_job_chunk(job_uuid=job.uuid, apply_chunk=services._roster_chunk_apply, chunk_size=2)
    current = RosterMember.objects.filter(agency=ward, left_at__isnull=True)
    assert sorted(m.id_number[-1] for m in current) == ["1", "2"]
    # The worker does the rest; the task run twice applies nothing twice.
    from covidhub.adoption.tasks import roster_upload_run_task

    roster_upload_run_task.enqueue(str(job.uuid))
    run_queued_tasks()
    services.roster_upload_run(job_uuid=job.uuid)
    upload.refresh_from_db()
    assert upload.status == RosterUpload.Status.APPLIED
    current = RosterMember.objects.filter(agency=ward, left_at__isnull=True)
    assert sorted(m.id_number[-1] for m in current) == ["1", "2", "5", "6"]
    assert current.get(id_number__endswith="2").full_name == "Trần Văn Đổi Tên"
    assert RosterMember.objects.filter(agency=ward).count() == 6
    assert AuditEvent.objects.filter(action="adoption.roster.imported").count() == 2
    assert "rows" not in ImportJob.objects.get(pk=job.pk).payload


def _someone_writes_during_the_apply(
    *, agencies: dict[str, Any], head: Any, settings: Any, path: str, chunk: int
) -> tuple[list[str], str]:
    """Apply a 600-row roster in one thread and write in another, on a file copy of the
    test database (WAL, IMMEDIATE, as in production) with a 0.5 s busy timeout. The write
    comes at a set point, not after a guessed delay: between the first two chunks when
    there are several (where the lock is free), inside the only chunk otherwise (where the
    old single transaction held it). Returns the errors and the upload's status then."""
    settings.ROSTER_INLINE_ROWS = 0
    settings.ROSTER_CHUNK_ROWS = chunk
    upload = _check(agencies["ward"], head, [staff_row(n) for n in range(1, 601)])
    upload = services.roster_upload_apply(actor=head, upload=upload)
    job = ImportJob.objects.filter(kind=services.ROSTER_JOB_KIND).latest("pk")
    db = connections.settings["default"]
    saved = (db["NAME"], dict(db.get("OPTIONS", {})))
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    errors: list[str] = []
    status_at_write: list[str] = []
    write_now, write_done = threading.Event(), threading.Event()
    original_apply, original_time = services._roster_chunk_apply, import_jobs.time  # type: ignore[attr-defined]

    def apply_and_hold(job: Any, items: list[Any]) -> Any:  # inside a chunk's transaction
        outcomes = original_apply(job, items)
        if chunk >= len(items) == job.rows_total and not write_now.is_set():
            write_now.set()
            write_done.wait(timeout=10)
        return outcomes

    class BetweenChunks:  # the pause between two chunks' transactions
        @staticmethod
        def sleep(seconds: float) -> None:
            if not write_now.is_set():
                write_now.set()
                write_done.wait(timeout=10)

    def run_apply() -> None:
        try:
            services.roster_upload_run(job_uuid=job.uuid)
        except Exception as exc:  # the control run may lose its lock too
            errors.append(f"apply: {exc}")
        finally:
            write_now.set()
            connections.close_all()

    def write_meanwhile() -> None:
        try:
            write_now.wait(timeout=60)
            from covidhub.adoption.models import Agency

            Agency.objects.filter(pk=agencies["ward2"].pk).update(name="UBND phường Bình Hàn mới")
            status_at_write.append(RosterUpload.objects.get(pk=upload.pk).status)
        except OperationalError as exc:
            errors.append(f"write: {exc}")
        finally:
            write_done.set()
            connections.close_all()

    services._roster_chunk_apply = apply_and_hold  # type: ignore[assignment]
    import_jobs.time = BetweenChunks  # type: ignore[assignment,attr-defined]
    try:
        db["NAME"] = path
        db["OPTIONS"] = {**saved[1], "timeout": 0.5}
        threads = [threading.Thread(target=run_apply), threading.Thread(target=write_meanwhile)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
    finally:
        db["NAME"], db["OPTIONS"] = saved
        services._roster_chunk_apply = original_apply  # type: ignore[assignment]
        import_jobs.time = original_time  # type: ignore[attr-defined]
    return errors, (status_at_write[0] if status_at_write else "")


@pytest.mark.django_db(transaction=True)
def test_a_write_during_a_long_roster_apply_succeeds_on_sqlite(
    agencies: dict[str, Any], head: Any, settings: Any, tmp_path: Any
) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL locks rows: a roster never blocks unrelated writes there")
    errors, status = _someone_writes_during_the_apply(
        agencies=agencies, head=head, settings=settings, path=str(tmp_path / "c.sqlite3"), chunk=200
    )
    assert errors == []
    assert status == RosterUpload.Status.APPLYING  # the write went in while it was applying


@pytest.mark.django_db(transaction=True)
def test_control_the_same_roster_in_one_transaction_blocks_the_write(
    agencies: dict[str, Any], head: Any, settings: Any, tmp_path: Any
) -> None:
    """The harness catches the bug: with the whole plan as one chunk (what main did), the
    write waits for the lock past its timeout."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    errors, _status = _someone_writes_during_the_apply(
        agencies=agencies, head=head, settings=settings, path=str(tmp_path / "c.sqlite3"), chunk=600
    )
    assert any("database is locked" in e for e in errors), errors
