"""Finding 8 for laboratories: a large result file is decided once, then stored by the
worker in chunks of short transactions with progress that only its technician can follow;
a chunk run again stores and notifies nothing twice; a write made meanwhile succeeds."""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection, connections
from django.utils import timezone

from covidhub.audit.models import AuditEvent
from covidhub.core.import_jobs import import_job_chunk
from covidhub.core.models import ImportJob
from covidhub.core.testing import run_queued_tasks
from covidhub.notifications.models import Message
from covidhub.testing import imports
from covidhub.testing.models import ImportBatch, Result, Tube, TubeResult
from covidhub.testing.notify import results_notify_pending

API = "/api/v1/testing"


def _csv(rows: list[str]) -> bytes:
    return ("\n".join(["Barcode,Result,Ct", *rows]) + "\n").encode()


@pytest.fixture
def tubes(make_person: Any, collected_tube: Any) -> list[Tube]:
    return [
        collected_tube([make_person(full_name=f"Người Thử {name}", phone=f"091200000{n}")])
        for n, name in enumerate(["An", "Bình", "Chi", "Dũng", "Giang"])
    ]


@pytest.mark.django_db
def test_a_large_file_is_a_202_job_with_progress_for_its_technician_only(
    tubes: list[Tube],
    technician: Any,
    other_technician: Any,
    neighbour_officer: Any,
    lab: Any,
    login: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.LAB_IMPORT_JOB_ROWS = 3
    settings.LAB_IMPORT_CHUNK_ROWS = 2
    client = login(technician)
    upload = SimpleUploadedFile("run.csv", _csv([f"{t.barcode},negative," for t in tubes]))
    checked = client.post(f"{API}/labs/{lab.uuid}/imports", {"file": upload})
    assert checked.status_code == 201, checked.content
    r = client.post(
        f"{API}/imports/{checked.json()['uuid']}/commit",
        {"import_good_rows": True},
        content_type="application/json",
    )
    assert r.status_code == 202, r.content
    body = r.json()
    assert (body["status"], body["rows_total"], body["rows_done"]) == ("queued", 5, 0)
    assert body["url"] == f"{API}/import-jobs/{body['uuid']}"
    assert not TubeResult.objects.exists()  # nothing stored in the request
    batch = ImportBatch.objects.get(uuid=checked.json()["uuid"])
    assert batch.status == ImportBatch.Status.COMMITTED  # decided: a second commit is refused

    # One chunk: one short transaction, the cursor moves on.
    import_job_chunk(job_uuid=body["uuid"], apply_chunk=imports._chunk_apply, chunk_size=2)
    progress = client.get(body["url"]).json()
    assert (progress["status"], progress["rows_done"], progress["imported_count"]) == (
        "running",
        2,
        2,
    )
    page_url = f"/staff/testing/import-jobs/{body['uuid']}/"
    html = client.get(page_url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "data-auto-refresh=" in html and "2 of 5 tubes checked" in html
    assert "Reload now" in html  # works without the refresh too
    vi = client.get(page_url, HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert "Đã kiểm 2 / 5 ống" in vi
    detail = client.get(f"/staff/testing/imports/{batch.uuid}/").content.decode()
    assert page_url in detail  # the checked file links to its progress

    # Another laboratory's technician, a commune officer: no such job.
    for stranger in (other_technician, neighbour_officer):
        other = login(stranger)
        assert other.get(body["url"]).status_code == 404
        assert other.get(page_url).status_code == 404

    # The worker finishes it; the task queued twice (a retry) stores nothing twice.
    from covidhub.testing.tasks import lab_import_run_task

    with django_capture_on_commit_callbacks(execute=True):
        lab_import_run_task.enqueue(body["uuid"])
        lab_import_run_task.enqueue(body["uuid"])
        run_queued_tasks()
    run_queued_tasks()  # the notices queued by the chunks
    done = client.get(body["url"]).json()
    assert (done["status"], done["rows_done"], done["imported_count"]) == ("done", 5, 5)
    assert TubeResult.objects.count() == 5 and Result.objects.count() == 5
    batch.refresh_from_db()
    assert batch.imported_count == 5
    assert AuditEvent.objects.filter(action="testing.import.committed").count() == 1
    assert sorted(Message.objects.filter(channel="sms").values_list("to", flat=True)) == sorted(
        f"+8491200000{n}" for n in range(5)
    )
    assert "rows" not in ImportJob.objects.get(uuid=body["uuid"]).payload
    html = client.get(page_url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "data-auto-refresh=" not in html and "5 tube result(s) stored" in html


@pytest.mark.django_db
def test_the_import_page_sends_a_large_file_to_its_progress_page(
    tubes: list[Tube], technician: Any, lab: Any, login: Any, settings: Any
) -> None:
    settings.LAB_IMPORT_JOB_ROWS = 3
    content = _csv([f"{t.barcode},negative," for t in tubes])
    batch = imports.import_validate(actor=technician, lab=lab, file_name="r.csv", content=content)
    r = login(technician).post(f"/staff/testing/imports/{batch.uuid}/", {"decision": "good_rows"})
    job = ImportJob.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/staff/testing/import-jobs/{job.uuid}/"
    assert job.status == ImportJob.Status.QUEUED and job.rows_total == 5


@pytest.mark.django_db
def test_a_chunk_run_again_stores_and_notifies_nothing_twice(
    tubes: list[Tube],
    technician: Any,
    lab: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.LAB_IMPORT_JOB_ROWS = 0
    content = _csv([f"{t.barcode},positive,20" for t in tubes])
    batch = imports.import_validate(actor=technician, lab=lab, file_name="r.csv", content=content)
    job = imports.import_job_of(
        imports.import_commit(actor=technician, batch=batch, import_good_rows=True)
    )
    assert job is not None

    def stops_after_storing(job: ImportJob, rows: list[Any]) -> list[Any]:
        imports._chunk_apply(job, rows)
        raise RuntimeError("worker killed before the chunk committed")

    # A chunk that dies leaves nothing: its rows and the cursor are one transaction.
    with pytest.raises(RuntimeError):
        import_job_chunk(job_uuid=job.uuid, apply_chunk=stops_after_storing, chunk_size=2)
    assert not TubeResult.objects.exists()
    assert ImportJob.objects.get(pk=job.pk).rows_done == 0
    with django_capture_on_commit_callbacks(execute=True):
        import_job_chunk(job_uuid=job.uuid, apply_chunk=imports._chunk_apply, chunk_size=2)
    assert TubeResult.objects.count() == 2
    # The same rows applied again (a worker that lost the cursor): every tube re-checked
    # under its lock is resulted already, so they are left out.
    rows = ImportJob.objects.get(pk=job.pk).payload["rows"][:2]
    assert imports._chunk_apply(job, rows) == ["skipped", "skipped"]
    with django_capture_on_commit_callbacks(execute=True):
        imports.lab_import_run(job_uuid=job.uuid)
        imports.lab_import_run(job_uuid=job.uuid)  # a retried task: the job is done
    assert TubeResult.objects.count() == 5 and Result.objects.count() == 5
    assert results_notify_pending() == 5
    assert results_notify_pending() == 0
    # One result SMS a person; home care's notice of the order each positive result opened
    # is its own message (covidhub.homecare), told apart by its key.
    sms = Message.objects.filter(channel="sms")
    assert sms.exclude(dedupe_key__startswith="homecare:").count() == 5
    assert sms.filter(dedupe_key__startswith="homecare:order:").count() == 5
    finished = ImportJob.objects.get(pk=job.pk)
    assert (finished.rows_done, finished.created_count) == (5, 5)


def _received_tubes(*, template: Tube, count: int) -> list[str]:
    """`count` received tubes of `template`'s laboratory, made in bulk (no one in them:
    what the test measures is the import's hold on the write lock)."""
    now = timezone.now()
    codes = [f"BULK{n:06d}" for n in range(count)]
    Tube.objects.bulk_create(
        [
            Tube(
                barcode=code,
                session_id=template.session_id,
                site_id=template.site_id,
                test_type=template.test_type,
                capacity=1,
                member_count=1,
                status=Tube.Status.RECEIVED,
                shipment_id=template.shipment_id,
                lab_id=template.lab_id,
                closed_at=now,
                shipped_at=now,
                received_at=now,
            )
            for code in codes
        ],
        batch_size=1000,
    )
    return codes


def _someone_writes_during_the_import(
    *,
    technician: Any,
    lab: Any,
    template: Tube,
    rows: int,
    chunk: int,
    settings: Any,
    path: str,
    write_inside_first_chunk: bool = False,
) -> tuple[list[str], int, int]:
    """Run a lab import job in one thread and a declaration-like write in another, both on
    a file copy of the test database (WAL, IMMEDIATE, as in production) with a short busy
    timeout; return the write's errors, the rows done when it committed, and the total."""
    settings.LAB_IMPORT_JOB_ROWS = 0
    settings.LAB_IMPORT_CHUNK_ROWS = chunk
    codes = _received_tubes(template=template, count=rows)
    content = _csv([f"{code},negative," for code in codes])
    batch = imports.import_validate(actor=technician, lab=lab, file_name="r.csv", content=content)
    job = imports.import_job_of(
        imports.import_commit(actor=technician, batch=batch, import_good_rows=True)
    )
    assert job is not None
    db = connections.settings["default"]
    saved = (db["NAME"], dict(db.get("OPTIONS", {})))
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    errors: list[str] = []
    seen: list[int] = []
    started = threading.Event()
    # The control writes while the first chunk's transaction is open (after its rows are
    # written, so it holds the lock), not after a guessed delay: on a fast machine the whole
    # import could otherwise be done, or not yet begun, when the write comes.
    in_chunk = threading.Event()
    write_done = threading.Event()
    original_apply = imports._chunk_apply

    def apply_and_hold(job: Any, chunk_rows: list[Any]) -> Any:
        outcomes = original_apply(job, chunk_rows)
        if not in_chunk.is_set():
            in_chunk.set()
            write_done.wait(timeout=10)
        return outcomes

    def run_import() -> None:
        try:
            started.set()
            imports.lab_import_run(job_uuid=job.uuid)
        except Exception as exc:  # the control run may lose its lock too
            errors.append(f"import: {exc}")
        finally:
            connections.close_all()

    def write_meanwhile() -> None:
        from covidhub.areas.models import Area
        from covidhub.people.services import person_create
        from covidhub.people.validation import person_input_clean

        try:
            if write_inside_first_chunk:
                in_chunk.wait(timeout=60)
            else:
                started.wait(timeout=60)
                time.sleep(0.3)  # inside the import by now: its first chunk, or its only one
            data = person_input_clean(
                {
                    "full_name": "Người Khai Báo",
                    "birth": "02/11/1990",
                    "sex": "F",
                    "commune": Area.objects.get(code="10510"),
                }
            )
            person_create(actor=None, data=data)
            seen.append(ImportJob.objects.get(pk=job.pk).rows_done)
        except OperationalError as exc:
            errors.append(f"write: {exc}")
        finally:
            write_done.set()
            connections.close_all()

    if write_inside_first_chunk:
        imports._chunk_apply = apply_and_hold  # type: ignore[assignment]
    try:
        db["NAME"] = path
        db["OPTIONS"] = {**saved[1], "timeout": 0.5}
        threads = [threading.Thread(target=run_import), threading.Thread(target=write_meanwhile)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
    finally:
        db["NAME"], db["OPTIONS"] = saved
        imports._chunk_apply = original_apply  # type: ignore[assignment]
    return errors, (seen[0] if seen else -1), rows


@pytest.mark.django_db(transaction=True)
def test_a_write_during_a_long_lab_import_succeeds_on_sqlite(
    technician: Any, lab: Any, collected_tube: Any, make_person: Any, settings: Any, tmp_path: Any
) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL locks rows: an import never blocks unrelated writes there")
    errors, done_at_write, total = _someone_writes_during_the_import(
        technician=technician,
        lab=lab,
        template=collected_tube([make_person(full_name="Mẫu")]),
        rows=6000,
        chunk=300,
        settings=settings,
        path=str(tmp_path / "copy.sqlite3"),
    )
    assert errors == []
    assert 0 <= done_at_write < total  # the write went in while the import was running


@pytest.mark.django_db(transaction=True)
def test_control_the_same_lab_import_in_one_transaction_blocks_the_write(
    technician: Any, lab: Any, collected_tube: Any, make_person: Any, settings: Any, tmp_path: Any
) -> None:
    """The harness catches the bug: with the whole file as one chunk (what main did with a
    file under its SQLite chunk size), the write waits for the lock past its timeout."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    errors, _done, _total = _someone_writes_during_the_import(
        technician=technician,
        lab=lab,
        template=collected_tube([make_person(full_name="Mẫu")]),
        rows=6000,
        chunk=6000,
        settings=settings,
        path=str(tmp_path / "copy.sqlite3"),
        write_inside_first_chunk=True,
    )
    assert any("database is locked" in e for e in errors), errors
