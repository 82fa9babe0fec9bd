"""Finding 8: a long list is applied by the worker in chunks of short transactions, with
progress the actor (and nobody else) can follow; a write made meanwhile succeeds."""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection, connections

from covidhub.core.import_jobs import import_job_chunk
from covidhub.core.models import ImportJob
from covidhub.core.testing import run_queued_tasks
from covidhub.people.models import Person
from covidhub.vaccination import services
from covidhub.vaccination.models import Registration

API = "/api/v1/vaccination"
CSV_HEADER = "Họ và tên,Ngày sinh,Giới tính,Số CCCD,Mã xã,Nhóm ưu tiên\n"


def _rows(count: int, start: int = 0) -> str:
    # CCCD 030 0 85 nnnnnn: Hải Dương, a man born in 1985.
    return "".join(
        f"Nguyễn Văn Thử,15/03/1985,Nam,0300850{n:05d},10507,5\n"
        for n in range(start, start + count)
    )


def _file(count: int) -> SimpleUploadedFile:
    return SimpleUploadedFile("list.csv", (CSV_HEADER + _rows(count)).encode(), "text/csv")


@pytest.mark.django_db
def test_a_long_list_is_a_202_job_with_progress_for_its_actor_only(
    commune_officer: Any, neighbour_officer: Any, login: Any, settings: Any
) -> None:
    settings.IMPORT_INLINE_ROWS = 3
    settings.IMPORT_CHUNK_ROWS = 2
    client = login(commune_officer)
    r = client.post(f"{API}/staff/registrations/import", {"file": _file(7), "source": "commune"})
    assert r.status_code == 202, r.content
    body = r.json()
    assert (body["status"], body["rows_total"], body["rows_done"]) == ("queued", 7, 0)
    assert not Registration.objects.exists()  # nothing written in the request

    # One chunk: one short transaction, the cursor moves on.
    import_job_chunk(job_uuid=body["uuid"], apply_row=services.registration._row_apply, finish=None)
    progress = client.get(body["url"]).json()
    assert (progress["status"], progress["rows_done"], progress["created_count"]) == (
        "running",
        2,
        2,
    )
    page = client.get(f"/staff/vaccination/import/jobs/{body['uuid']}/", HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert page.status_code == 200
    assert "data-auto-refresh=" in html and "2 of 7 rows done" in html
    assert "Reload now" in html  # works without the refresh too
    vi = client.get(f"/staff/vaccination/import/jobs/{body['uuid']}/", HTTP_ACCEPT_LANGUAGE="vi")
    assert "Đã xong 2 / 7 dòng" in vi.content.decode()

    # Another officer, even of the same district, sees no such job.
    other = login(neighbour_officer)
    assert other.get(body["url"]).status_code == 404
    assert other.get(f"/staff/vaccination/import/jobs/{body['uuid']}/").status_code == 404

    # The worker finishes it; the task queued twice (a retry) applies nothing twice.
    from covidhub.vaccination.tasks import registration_import_run_task

    registration_import_run_task.enqueue(body["uuid"])
    run_queued_tasks()
    done = client.get(body["url"]).json()
    assert (done["status"], done["rows_done"], done["created_count"]) == ("done", 7, 7)
    assert Person.objects.count() == 7 and Registration.objects.count() == 7
    job = ImportJob.objects.get(uuid=body["uuid"])
    assert "rows" not in job.payload  # personal data dropped once applied
    page = client.get(f"/staff/vaccination/import/jobs/{body['uuid']}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "data-auto-refresh=" not in page.content.decode()


def _someone_writes_during_the_import(
    *, officer: Any, rows: int, chunk: int, settings: Any, path: str
) -> tuple[list[str], int, int]:
    """Run the import job in one thread and a write in another, both on a file copy of the
    test database (WAL, IMMEDIATE, as in production) with a 1 s busy timeout; return the
    write's errors, the rows done when it committed, and the total.

    The write starts once the import has written its first row (inside its first chunk's
    transaction), and every INSERT of the import takes 2 ms more, as on a slower disk: a
    400-row transaction then holds the lock well past the timeout on any machine (it took
    1.4 s without the delay on a fast one, and a write started after a fixed 0.5 s could
    slip in), while a 25-row chunk holds it for a fraction of it."""
    settings.IMPORT_INLINE_ROWS = 0
    settings.IMPORT_CHUNK_ROWS = chunk
    job = services.registration_import(
        actor=officer,
        filename="list.csv",
        content=(CSV_HEADER + _rows(rows)).encode(),
        source="commune",
    )
    db = connections.settings["default"]
    saved = (db["NAME"], dict(db.get("OPTIONS", {})))
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    errors: list[str] = []
    seen: list[int] = []
    writing = threading.Event()

    def slow_insert(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        try:
            return execute(sql, params, many, context)
        finally:
            if sql.lstrip().upper().startswith("INSERT"):
                writing.set()
                time.sleep(0.002)

    def run_import() -> None:
        try:
            with connection.execute_wrapper(slow_insert):  # this thread's connection
                services.registration_import_run(job_uuid=job.uuid)
        except Exception as exc:  # the control run may lose its lock too
            errors.append(f"import: {exc}")
        finally:
            connections.close_all()

    def write_meanwhile() -> None:
        from covidhub.areas.models import Area
        from covidhub.people.services import person_create
        from covidhub.people.validation import person_input_clean

        try:
            writing.wait(timeout=60)  # inside the import: its first chunk, or its only one
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
            connections.close_all()

    try:
        db["NAME"] = path
        db["OPTIONS"] = {**saved[1], "timeout": 1}
        threads = [threading.Thread(target=run_import), threading.Thread(target=write_meanwhile)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
    finally:
        db["NAME"], db["OPTIONS"] = saved
    return errors, (seen[0] if seen else -1), rows


@pytest.mark.django_db(transaction=True)
def test_a_write_during_a_long_import_succeeds_on_sqlite(
    commune_officer: Any, settings: Any, tmp_path: Any
) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL locks rows: an import never blocks unrelated writes there")
    errors, done_at_write, total = _someone_writes_during_the_import(
        officer=commune_officer,
        rows=400,
        chunk=25,
        settings=settings,
        path=str(tmp_path / "copy.sqlite3"),
    )
    assert errors == []
    assert 0 <= done_at_write < total  # the write went in while the import was running


@pytest.mark.django_db(transaction=True)
def test_control_the_same_import_in_one_transaction_blocks_the_write(
    commune_officer: Any, settings: Any, tmp_path: Any
) -> None:
    """The harness catches the bug: with the whole list as one chunk (what main did), the
    write waits for the lock past its timeout and fails."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    errors, _done, _total = _someone_writes_during_the_import(
        officer=commune_officer,
        rows=400,
        chunk=400,
        settings=settings,
        path=str(tmp_path / "copy.sqlite3"),
    )
    assert any("database is locked" in e for e in errors), errors


@pytest.mark.django_db
def test_the_import_page_sends_a_long_list_to_its_progress_page(
    commune_officer: Any, login: Any, settings: Any
) -> None:
    settings.IMPORT_INLINE_ROWS = 3
    r = login(commune_officer).post(
        "/staff/vaccination/import/",
        {"file": _file(5), "source": "commune", "only_good_rows": "0"},
    )
    job = ImportJob.objects.get()
    assert r.status_code == 302
    assert r["Location"] == f"/staff/vaccination/import/jobs/{job.uuid}/"
    assert job.status == ImportJob.Status.QUEUED and job.rows_total == 5
