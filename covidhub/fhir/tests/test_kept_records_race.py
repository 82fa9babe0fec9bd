"""Reads of a person's $everything racing a write of their records, on PostgreSQL: real
parallel requests against the live server, each build held open 1.5 s while the writer
commits (0.6 s in). What stays kept is what the records are after the write; a control
that keeps without checking `generation` keeps what was read before it (the race is
real)."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest
from django.db import connection, connections

from covidhub.core.testing import http_request, race, session_headers
from covidhub.fhir import everything
from covidhub.fhir.access import STAFF, Reader
from covidhub.vaccination.models import Dose

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BUILD_HELD = 1.5  # seconds each build waits before it is kept
WRITE_AFTER = 0.6  # the writer commits while the first builds wait


def _resources(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["resource"] for e in entries]


def _race(live_server: Any, headers: dict[str, str], person: Any, dose: Any, readers: int) -> None:
    url = f"{live_server.url}/fhir/Patient/{person.uuid}/$everything"

    def read() -> Any:
        result = http_request("GET", url, headers={**headers, "Accept": "application/fhir+json"})
        assert result.status == 200, result.body
        return result

    def write() -> None:
        time.sleep(WRITE_AFTER)
        try:
            Dose.objects.filter(pk=dose.pk).update(
                status=Dose.Status.VOIDED, void_reason="entered twice"
            )
        finally:
            connections.close_all()

    race([read] * readers + [write], workers=readers + 1)


def test_reads_racing_a_write_keep_the_records_after_it(
    live_server, login, commune_officer, make_person, make_records, monkeypatch
):
    built = everything._built

    def held(*args: Any) -> Any:
        kept = built(*args)
        time.sleep(BUILD_HELD)
        return kept

    monkeypatch.setattr(everything, "_built", held)
    headers = session_headers(login(commune_officer))
    reader = Reader(kind=STAFF, user=commune_officer, session=True)

    def stale(person: Any) -> bool:
        url = f"{live_server.url}/fhir/Patient/{person.uuid}/$everything"
        served = http_request("GET", url, headers=headers).body["entry"]
        entries, _count = everything.everything_entries(
            reader=reader, patient_id=str(person.uuid), keep=False
        )
        return _resources(served) != _resources(orjson.loads(entries))

    person = make_person()
    made = make_records(person, doses=3, results=2)
    _race(live_server, headers, person, made["doses"][1], readers=6)
    assert not stale(person)
    assert Dose.objects.get(pk=made["doses"][1].pk).status == Dose.Status.VOIDED

    # Control: kept whatever the generation (the one there is at the time of keeping).
    keep = everything._keep

    def keep_regardless(person_id: int, generation: Any, epoch: int, kept: Any) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT generation FROM fhir_patientrecords WHERE person_id = %s", [person_id]
            )
            row = cursor.fetchone()
        keep(person_id, row[0] if row else None, epoch, kept)

    monkeypatch.setattr(everything, "_keep", keep_regardless)
    found_stale = False
    for name in ("Đỗ Văn An", "Đỗ Văn Bình", "Đỗ Văn Cường"):
        other = make_person(full_name=name, sex="M")
        made = make_records(other, doses=3, results=2)
        _race(live_server, headers, other, made["doses"][1], readers=6)
        found_stale = stale(other)
        if found_stale:
            break
    assert found_stale
