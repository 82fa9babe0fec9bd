"""A technician records a tube by hand while the import of the same tube waits for its
row lock (real transactions on PostgreSQL): once the lock is granted the import sees the
tube resulted, leaves it out and imports the rest; nobody gets two outcomes."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection, connections, transaction

from covidhub.testing import imports, results
from covidhub.testing.models import ImportBatch, Result, Tube, TubeResult

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _someone_waits_for_a_row_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return bool(cursor.fetchone()[0])


def test_import_waits_for_a_tube_recorded_meanwhile_and_leaves_it_out(
    make_person: Any, collected_tube: Any, technician: Any, technician2: Any, lab: Any
) -> None:
    a = collected_tube([make_person(full_name="Người Một"), make_person(full_name="Người Hai")])
    b = collected_tube([make_person(full_name="Người Ba"), make_person(full_name="Người Bốn")])
    content = f"barcode,result\n{a.barcode},negative\n{b.barcode},negative\n".encode()
    batch = imports.import_validate(actor=technician, lab=lab, file_name="r.csv", content=content)
    holding, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    done: list[ImportBatch] = []

    def by_hand() -> None:
        try:
            with transaction.atomic():
                Tube.objects.select_for_update().get(pk=b.pk)
                holding.set()
                release.wait(timeout=30)
                results.tube_result_record(
                    actor=technician2, lab=lab, barcode=b.barcode, value="positive"
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def by_import() -> None:
        try:
            done.append(imports.import_commit(actor=technician, batch=batch, import_good_rows=True))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    hand = threading.Thread(target=by_hand)
    hand.start()
    assert holding.wait(timeout=30)
    importer = threading.Thread(target=by_import)
    importer.start()
    deadline = time.monotonic() + 30
    while not _someone_waits_for_a_row_lock():
        assert time.monotonic() < deadline, "the import never waited for the tube's lock"
        assert importer.is_alive(), errors
        time.sleep(0.05)
    release.set()
    hand.join(timeout=60)
    importer.join(timeout=60)
    assert not errors, errors
    assert done[0].imported_count == 1
    assert TubeResult.objects.get(tube=b).import_batch_id is None
    assert TubeResult.objects.get(tube=a).import_batch_id == batch.pk
    outcomes = sorted(Result.objects.values_list("person__full_name", "outcome"))
    assert outcomes == [
        ("Người Ba", "pool_positive"),
        ("Người Bốn", "pool_positive"),
        ("Người Hai", "negative"),
        ("Người Một", "negative"),
    ]
