"""FHIR reads go to a hot standby (issue 18, item 1): read, search and $everything read
the person's records there, while the writes they make (the staff look-up budget, the
audit event) and the budget's count stay on the primary. The standby is a second
connection to the test database (as in core/tests/test_replicas.py), so that each
statement shows where it went; committed rows are needed, hence transactional tests."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from covidhub.audit.models import AuditEvent
from covidhub.core.replicas import PIN_COOKIE, health
from covidhub.core.tests.databases import database_alias, like_default

pytestmark = pytest.mark.django_db(transaction=True)

STANDBY = "replica_1"


@pytest.fixture
def standby(settings: Any) -> Any:
    settings.DATABASE_REPLICAS = [STANDBY]
    settings.DATABASE_ROUTERS = ["covidhub.core.replicas.PrimaryReplicaRouter"]
    settings.REPLICA_MAX_LAG_SECONDS = 5
    settings.REPLICA_LAG_CHECK_SECONDS = 1
    settings.REPLICA_RETRY_SECONDS = 5
    settings.REPLICA_PIN_SECONDS = 10
    health.forget()
    with database_alias(STANDBY, like_default()) as second:
        yield second
    health.forget()


def _signed_in(login: Any, user: Any) -> Any:
    client = login(user)
    # A session's first request records the account's last activity (a write, at most
    # hourly), after which that request reads the primary: made here, not measured.
    client.get("/fhir/metadata")
    return client


def _where(client: Any, path: str, standby: Any) -> tuple[list[str], list[str]]:
    """The SQL the request ran on the standby and on the primary."""
    with (
        CaptureQueriesContext(standby) as on_standby,
        CaptureQueriesContext(connection) as on_primary,
    ):
        response = client.get(path, HTTP_ACCEPT="application/fhir+json")
    assert response.status_code == 200, response.content
    return (
        [q["sql"] for q in on_standby.captured_queries],
        [q["sql"] for q in on_primary.captured_queries],
    )


def test_everything_reads_the_standby_and_writes_the_primary(
    standby, login, commune_officer, make_person, make_records
):
    person = make_person()
    make_records(person, doses=2, results=2)
    officer = _signed_in(login, commune_officer)
    path = f"/fhir/Patient/{person.uuid}/$everything"
    on_standby, on_primary = _where(officer, path, standby)
    # (The doses are joined to the patient's read.)
    for table in ("people_person", "vaccination_dose", "testing_result"):
        assert any(f'FROM "{table}"' in sql or f'JOIN "{table}"' in sql for sql in on_standby), (
            table
        )
    assert not any(sql.lstrip().upper().startswith("INSERT") for sql in on_standby)
    # The look-up budget is a security decision: counted and charged on the primary.
    assert not any("audit_stafflookup" in sql for sql in on_standby)
    assert any("audit_stafflookup" in sql and "COUNT" in sql.upper() for sql in on_primary)
    assert any('INSERT INTO "audit_auditevent"' in sql for sql in on_primary)
    # What was built from the standby's rows is kept on the primary (the row the triggers
    # made when the records were written, updated).
    assert any(sql.startswith("UPDATE fhir_patientrecords SET") for sql in on_primary)
    event = AuditEvent.objects.get(action="fhir.patient.everything", person_uuid=person.uuid)
    assert event.details["resources"] >= 9  # patient, 2 doses, 2 × 3 for results, places

    # Control: a client that wrote a moment ago is pinned to the primary, and then nothing
    # of the request is read on the standby (the capture tells the two apart).
    officer.cookies[PIN_COOKIE] = "1"
    on_standby, on_primary = _where(officer, path, standby)
    assert on_standby == []
    # (The records are kept now: the patient's read brings them.)
    assert any('FROM "people_person"' in sql and "fhir_patientrecords" in sql for sql in on_primary)


def test_read_and_search_read_the_standby(
    standby, login, commune_officer, make_person, make_records
):
    person = make_person()
    made = make_records(person, doses=1, results=1)
    officer = _signed_in(login, commune_officer)
    dose = made["doses"][0]
    on_standby, on_primary = _where(officer, f"/fhir/Immunization/{dose.uuid}", standby)
    assert any('FROM "vaccination_dose"' in sql for sql in on_standby)
    assert any('INSERT INTO "audit_auditevent"' in sql for sql in on_primary)
    on_standby, _on_primary = _where(officer, f"/fhir/Observation?patient={person.uuid}", standby)
    assert any('FROM "testing_result"' in sql for sql in on_standby)
