"""Importing an instrument's CSV/XLSX export of tube results.

Validation looks at every row (unknown tube or another lab's tube, duplicate row, result
already recorded, tube not received, malformed value) and stores the verdict; the
technician then imports nothing or exactly the good rows. The good rows are re-checked
under row locks at commit, stored with one bulk insert and released set-based. Importing
the same file again finds every row already recorded and so changes nothing.
"""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from covidhub.audit.services import audit_record
from covidhub.core.errors import NotFound
from covidhub.core.import_jobs import (
    RowOutcome,
    import_job_create,
    import_job_get_for_actor,
    import_job_run,
)
from covidhub.core.models import ImportJob
from covidhub.core.spreadsheets import SheetLimits, SpreadsheetRefused, sheet_read
from covidhub.core.text import fold_ascii
from covidhub.testing.codes import barcode_normalise
from covidhub.testing.errors import ImportDecided
from covidhub.testing.models import ImportBatch, Lab, Result, Tube, TubeResult
from covidhub.testing.release import results_release
from covidhub.testing.results import ct_parse, value_parse
from covidhub.testing.scope import labs_for_actor, role_of

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
CHUNK = 5000

REASONS = {
    "malformed": gettext_lazy("The barcode, result or Ct value is not valid."),
    "duplicate_row": gettext_lazy("This tube appears in an earlier row of the file."),
    # A tube of another laboratory reads exactly like an unknown one: a technician learns
    # nothing about other laboratories' tubes from an import.
    "unknown_tube": gettext_lazy("No tube with this barcode was sent to this laboratory."),
    "other_lab": gettext_lazy("No tube with this barcode was sent to this laboratory."),
    "already_recorded": gettext_lazy("A result is already recorded for this tube."),
    "not_received": gettext_lazy("This tube has not been received by the laboratory."),
}

_HEADERS = {
    "barcode": {
        "barcode",
        "tube",
        "tube barcode",
        "tube_barcode",
        "ma ong",
        "sample id",
        "sample_id",
        "sample",
        "ma mau",
        "id",
    },
    "value": {"result", "value", "ket qua", "interpretation", "outcome"},
    "ct": {"ct", "ct value", "ct_value", "cq"},
}


def reason_text(code: str) -> str:
    return str(REASONS.get(code, code))


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        key = fold_ascii(unicodedata.normalize("NFC", name)).replace("-", " ").strip()
        for column, aliases in _HEADERS.items():
            if key in aliases and column not in found:
                found[column] = index
    return found


def _file_error(message: str) -> SpreadsheetRefused:
    return SpreadsheetRefused(message, reason="columns")


def rows_parse(*, file_name: str, content: bytes) -> list[tuple[int, str, str, str]]:
    """(row number as the spreadsheet shows it, barcode, result, Ct) for each data row."""
    rows = [
        ["" if cell is None else str(cell) for cell in row]
        for row in sheet_read(
            content=content,
            # Instruments' CSV exports are often still in the Windows Vietnamese code page.
            limits=SheetLimits(max_bytes=MAX_BYTES, max_rows=MAX_ROWS + 1),
            legacy_encoding="cp1258",
        )
    ]
    columns = _columns(rows[0])
    if "barcode" not in columns or "value" not in columns:
        raise _file_error(
            _("The first row must name the columns: barcode, result and (optionally) ct.")
        )
    indexes = (columns["barcode"], columns["value"], columns.get("ct"))
    out = []
    for number, row in enumerate(rows[1:], start=2):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        barcode, value, ct = (
            cells[index] if index is not None and index < len(cells) else "" for index in indexes
        )
        out.append((number, barcode, value, ct))
    return out


def import_validate(*, actor: Any, lab: Lab, file_name: str, content: bytes) -> ImportBatch:
    """Check every row and keep the verdict; nothing is recorded yet."""
    if not labs_for_actor(actor).filter(pk=lab.pk).exists():
        raise NotFound()
    rows = rows_parse(file_name=file_name, content=content)
    good: list[list[Any]] = []
    bad: list[list[Any]] = []
    seen: set[str] = set()
    candidates: list[tuple[int, str, str, str]] = []
    for number, raw_barcode, raw_value, raw_ct in rows:
        barcode = barcode_normalise(raw_barcode)
        value = value_parse(raw_value)
        try:
            ct = ct_parse(raw_ct)
        except ValueError:
            ct, value = None, None
        if barcode is None or value is None:
            bad.append([number, raw_barcode[:40], "malformed"])
            continue
        if barcode in seen:
            bad.append([number, barcode, "duplicate_row"])
            continue
        seen.add(barcode)
        candidates.append((number, barcode, value, "" if ct is None else str(ct)))
    tubes = _tubes_by_barcode([c[1] for c in candidates])
    for number, barcode, value, ct_text in candidates:
        tube = tubes.get(barcode)
        if tube is None or tube[0] != lab.pk:
            bad.append([number, barcode, "unknown_tube"])
        elif tube[1] == Tube.Status.RESULTED:
            bad.append([number, barcode, "already_recorded"])
        elif tube[1] != Tube.Status.RECEIVED:
            bad.append([number, barcode, "not_received"])
        else:
            good.append([number, barcode, value, ct_text])
    bad.sort(key=lambda row: row[0])
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            lab=lab,
            file_name=file_name[:200],
            file_sha256=hashlib.sha256(content).hexdigest(),
            rows_total=len(rows),
            good_rows=good,
            bad_rows=bad,
            created_by=actor,
        )
        audit_record(
            actor=actor,
            actor_role=role_of(actor),
            action="testing.import.validated",
            obj=batch,
            details={"rows": len(rows), "good": len(good), "bad": len(bad)},
        )
    return batch


def _tubes_by_barcode(barcodes: list[str]) -> dict[str, tuple[int | None, str]]:
    """Lab and status of the tubes with these barcodes (on PostgreSQL one newline-separated
    parameter rather than tens of thousands of placeholders; a barcode holds no newline)."""
    tubes: dict[str, tuple[int | None, str]] = {}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT barcode, lab_id, status FROM {Tube._meta.db_table}"  # noqa: S608
                " WHERE barcode = ANY(string_to_array(%s, E'\\n'))",
                ["\n".join(barcodes)],
            )
            for code, lab_id, status in cursor.fetchall():
                tubes[code] = (lab_id, status)
        return tubes
    for start in range(0, len(barcodes), CHUNK):
        for code, lab_id, status in Tube.objects.filter(
            barcode__in=barcodes[start : start + CHUNK]
        ).values_list("barcode", "lab_id", "status"):
            tubes[code] = (lab_id, status)
    return tubes


def import_commit(*, actor: Any, batch: ImportBatch, import_good_rows: bool) -> ImportBatch:
    """Import exactly the good rows (re-checked under lock), or nothing.

    A file of at most `LAB_IMPORT_JOB_ROWS` good rows is stored in the request, in one
    transaction (on PostgreSQL one set-based statement). A larger one is decided here and
    becomes an import job that the worker applies in chunks of short transactions, so that
    SQLite's single write lock is free between them for every other write; `import_job_of`
    then finds the job.
    """
    if not labs_for_actor(actor).filter(pk=batch.lab_id).exists():
        raise NotFound()
    if import_good_rows and len(batch.good_rows) > job_threshold():
        return _commit_as_job(actor=actor, batch=batch)
    return _commit_at_once(actor=actor, batch=batch, import_good_rows=import_good_rows)


IMPORT_JOB_KIND = "testing.lab_results"


def job_threshold() -> int:
    return int(getattr(settings, "LAB_IMPORT_JOB_ROWS", 2000))


def job_chunk_rows() -> int:
    return int(getattr(settings, "LAB_IMPORT_CHUNK_ROWS", 2000))


@transaction.atomic
def _commit_at_once(*, actor: Any, batch: ImportBatch, import_good_rows: bool) -> ImportBatch:
    locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if locked.status != ImportBatch.Status.VALIDATED:
        raise ImportDecided()
    now = timezone.now()
    role = role_of(actor)
    locked.decided_at = now
    if not import_good_rows:
        locked.status = ImportBatch.Status.DISCARDED
        locked.save(update_fields=["status", "decided_at"])
        audit_record(actor=actor, actor_role=role, action="testing.import.discarded", obj=locked)
        return locked
    if connection.vendor == "postgresql":
        imported = len(_store_postgresql(actor=actor, batch=locked, rows=locked.good_rows, now=now))
    else:
        imported = len(
            _store_rows_portable(actor=actor, batch=locked, rows=locked.good_rows, now=now)
        )
    people = 0
    if imported:
        people = results_release(
            actor=actor,
            actor_role=role,
            import_batch_id=locked.pk,
            released_at=now,
            tubes_marked=connection.vendor == "postgresql",
        )
    locked.status = ImportBatch.Status.COMMITTED
    locked.imported_count = imported
    locked.save(update_fields=["status", "decided_at", "imported_count"])
    audit_record(
        actor=actor,
        actor_role=role,
        action="testing.import.committed",
        obj=locked,
        details={"tubes": imported, "people": people},
    )
    return locked


def _commit_as_job(*, actor: Any, batch: ImportBatch) -> ImportBatch:
    """A large file: decided once under the batch's lock, and its good rows handed to an
    import job in the same transaction; the worker's task starts once it commits."""
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status != ImportBatch.Status.VALIDATED:
            raise ImportDecided()
        locked.status = ImportBatch.Status.COMMITTED
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "decided_at"])
        job = import_job_create(
            actor=actor,
            kind=IMPORT_JOB_KIND,
            scope=str(locked.uuid),
            rows=locked.good_rows,
            errors=[],
            params={"batch": locked.pk},
        )
        audit_record(
            actor=actor,
            actor_role=role_of(actor),
            action="testing.import.job_started",
            obj=locked,
            details={"job": str(job.uuid), "rows": job.rows_total},
        )
        from covidhub.testing.tasks import lab_import_run_task

        job_uuid = str(job.uuid)
        transaction.on_commit(lambda: lab_import_run_task.enqueue(job_uuid))
    return locked


def import_job_of(batch: ImportBatch) -> ImportJob | None:
    """The job applying this batch's rows, if it was large enough to have one."""
    return ImportJob.objects.filter(kind=IMPORT_JOB_KIND, scope=str(batch.uuid)).first()


def import_job_get_for_lab_actor(*, actor: Any, job_uuid: Any) -> ImportJob:
    """The actor's own job, while the actor still works for its laboratory; else 404."""
    job = import_job_get_for_actor(actor=actor, job_uuid=job_uuid, kind=IMPORT_JOB_KIND)
    batch = ImportBatch.objects.filter(uuid=job.scope).only("lab_id").first()
    if batch is None or not labs_for_actor(actor).filter(pk=batch.lab_id).exists():
        raise NotFound()
    return job


def lab_import_run(*, job_uuid: Any) -> ImportJob:
    """Apply a lab import job's remaining rows, chunk by chunk (the worker's task)."""
    return import_job_run(
        job_uuid=job_uuid,
        apply_chunk=_chunk_apply,
        finish=_job_finish,
        chunk_size=job_chunk_rows(),
    )


def _chunk_apply(job: ImportJob, rows: list[Any]) -> list[RowOutcome]:
    """One chunk, in the job's transaction: its tubes re-checked under their locks (a tube
    resulted meanwhile is left out), stored and released; on PostgreSQL set-based."""
    batch = ImportBatch.objects.get(pk=job.payload["params"]["batch"])
    actor: Any = job.actor
    now = timezone.now()
    if connection.vendor == "postgresql":
        stored_ids = _store_postgresql(actor=actor, batch=batch, rows=rows, now=now)
    else:
        stored_ids = [
            r.pk for r in _store_rows_portable(actor=actor, batch=batch, rows=rows, now=now)
        ]
    if stored_ids:
        results_release(
            actor=actor,
            actor_role=role_of(actor),
            tube_result_ids=stored_ids,
            released_at=now,
            tubes_marked=connection.vendor == "postgresql",
            imported=True,
        )
        ImportBatch.objects.filter(pk=batch.pk).update(
            imported_count=F("imported_count") + len(stored_ids)
        )
    outcomes: list[RowOutcome] = ["created"] * len(stored_ids)
    return outcomes + ["skipped"] * (len(rows) - len(stored_ids))


def _job_finish(job: ImportJob) -> None:
    batch = ImportBatch.objects.get(pk=job.payload["params"]["batch"])
    audit_record(
        actor=job.actor,
        actor_role=role_of(job.actor),
        action="testing.import.committed",
        obj=batch,
        details={
            "tubes": job.created_count,
            "people": Result.objects.filter(tube_result__import_batch=batch).count(),
            "job": str(job.uuid),
        },
    )


def _store_postgresql(
    *, actor: Any, batch: ImportBatch, rows: list[list[Any]], now: Any
) -> list[int]:
    """Lock these rows' tubes (in id order) that are still waiting for a result, mark them
    resulted and store their results, in one statement; return the stored results' ids.

    A tube recorded by someone else since the check no longer matches `status =
    'received'` once its lock is granted, and is left out.
    """
    # The columns travel as newline-separated text (barcodes, result codes and Ct values
    # hold no newline): one string each is far cheaper to send than a 20,000-item array.
    barcodes, values, cts = ("\n".join(str(row[i]) for row in rows) for i in (1, 2, 3))
    t, tr = Tube._meta.db_table, TubeResult._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH wanted (barcode, value, ct) AS (
                SELECT * FROM unnest(string_to_array(%s, E'\\n'),
                                     string_to_array(%s, E'\\n'),
                                     string_to_array(%s, E'\\n'))
            ), locked AS (
                SELECT id FROM {t}
                 WHERE barcode = ANY(string_to_array(%s, E'\\n'))
                   AND lab_id = %s AND status = 'received'
                 ORDER BY id
                   FOR UPDATE
            ), marked AS (
                UPDATE {t} t SET status = 'resulted', resulted_at = %s
                  FROM locked WHERE t.id = locked.id
                RETURNING t.id, t.barcode
            ), stored AS (
                INSERT INTO {tr} (uuid, tube_id, lab_id, value, ct_value, recorded_by_id,
                                  recorded_at, import_batch_id, version)
                SELECT gen_random_uuid(), marked.id, %s, wanted.value,
                       NULLIF(wanted.ct, '')::numeric, %s, %s, %s, 1
                  FROM marked JOIN wanted ON wanted.barcode = marked.barcode
                RETURNING id
            )
            SELECT id FROM stored
            """,  # noqa: S608 - table names from model metadata, values as parameters
            [
                barcodes,
                values,
                cts,
                barcodes,
                batch.lab_id,
                now,
                batch.lab_id,
                actor.pk,
                now,
                batch.pk,
            ],
        )
        return [int(row[0]) for row in cursor.fetchall()]


def _store_rows_portable(
    *, actor: Any, batch: ImportBatch, rows: list[list[Any]], now: Any
) -> list[TubeResult]:
    wanted = {row[1]: row for row in rows}
    ready: list[TubeResult] = []
    codes = sorted(wanted)
    for start in range(0, len(codes), CHUNK):
        for tube_id, code, status in (
            Tube.objects.select_for_update()
            .filter(barcode__in=codes[start : start + CHUNK], lab_id=batch.lab_id)
            .order_by("id")
            .values_list("id", "barcode", "status")
        ):
            if status != Tube.Status.RECEIVED:
                continue  # recorded by someone else since the check: left out
            _n, _b, value, ct_text = wanted[code]
            ready.append(
                TubeResult(
                    tube_id=tube_id,
                    lab_id=batch.lab_id,
                    value=value,
                    ct_value=ct_parse(ct_text),
                    recorded_by=actor,
                    recorded_at=now,
                    import_batch=batch,
                )
            )
    TubeResult.objects.bulk_create(ready, batch_size=CHUNK)
    return ready
