"""Patient/$everything serves a person's records from the text kept for them
(`PatientRecords`): after every kind of write that changes what they show (through the
ORM or in raw SQL, as an import or psql would), the answer is what the builders make from
the records at that moment, never what was kept before; a build that read the records
before a write does not keep them; and the kept read costs no read of the records."""

from __future__ import annotations

import datetime
from typing import Any

import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from covidhub.fhir import everything
from covidhub.fhir.access import STAFF, Reader
from covidhub.fhir.models import PatientRecords
from covidhub.testing.models import Result, Tube, TubeResult
from covidhub.vaccination.models import Dose, Vaccine, VaccineLot

pytestmark = pytest.mark.django_db

RECORD_TABLES = ("vaccination_dose", "testing_result", "testing_tube")


def _served(client: Any, person: Any) -> list[dict[str, Any]]:
    response = client.get(f"/fhir/Patient/{person.uuid}/$everything")
    assert response.status_code == 200, response.content
    bundle = response.json()
    assert bundle["total"] == len(bundle["entry"])
    return bundle["entry"]


def _built(user: Any, person: Any) -> list[dict[str, Any]]:
    """What the builders make from the records now (nothing kept, nothing read kept)."""
    reader = Reader(kind=STAFF, user=user, session=True)
    entries, count = everything.everything_entries(
        reader=reader, patient_id=str(person.uuid), keep=False
    )
    found = orjson.loads(entries)
    assert count == len(found)
    return found


def _same(served: list[dict[str, Any]], built: list[dict[str, Any]]) -> None:
    assert [e["resource"] for e in served] == [e["resource"] for e in built]
    assert [e["fullUrl"].rsplit("/fhir/", 1)[1] for e in served] == [e["fullUrl"] for e in built]


def _kept(person: Any) -> PatientRecords | None:
    return PatientRecords.objects.filter(person_id=person.pk).first()


@pytest.fixture
def officer_client(login: Any, commune_officer: Any) -> Any:
    return login(commune_officer)


def test_the_second_read_is_the_kept_text_and_reads_no_record(
    officer_client, commune_officer, make_person, make_records
):
    person = make_person()
    make_records(person, doses=3, results=4)
    first = _served(officer_client, person)
    kept = _kept(person)
    assert kept is not None and kept.immunizations and kept.build == everything.BUILD
    with CaptureQueriesContext(connection) as queries:
        second = _served(officer_client, person)
    assert second == first
    _same(second, _built(commune_officer, person))
    sql = " ".join(q["sql"] for q in queries)
    for table in RECORD_TABLES:
        assert f'"{table}"' not in sql, table
    # Control: the same read without the kept text reads the records.
    PatientRecords.objects.filter(person_id=person.pk).update(immunizations=None)
    with CaptureQueriesContext(connection) as queries:
        assert _served(officer_client, person) == first
    sql = " ".join(q["sql"] for q in queries)
    assert '"vaccination_dose"' in sql and '"testing_result"' in sql


def _void_dose(made: dict[str, Any], **_: Any) -> None:
    dose = made["doses"][0]
    dose.status = Dose.Status.VOIDED
    dose.void_reason = "entered twice"
    dose.save()


def _new_dose(made: dict[str, Any], person: Any, **_: Any) -> None:
    last = made["doses"][-1]
    Dose.objects.create(
        person=person,
        vaccine=last.vaccine,
        series=Dose.Series.BOOSTER,
        dose_number=1,
        sequence=last.sequence + 1,
        administered_at=last.administered_at + datetime.timedelta(days=120),
        day=(last.administered_at + datetime.timedelta(days=120)).date(),
        commune=person.commune,
        commune_path=person.commune_path,
        lot=last.lot,
        site=last.site,
    )


def _result_corrected_in_sql(made: dict[str, Any], **_: Any) -> None:
    # Raw SQL, as an import or an operator would write: the database's triggers see it.
    result = made["results"][0]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE testing_result SET outcome = %s, version = version + 1 WHERE id = %s",
            [Result.Outcome.POSITIVE, result.pk],
        )


def _tube_changed(made: dict[str, Any], **_: Any) -> None:
    tube = made["results"][0].sample.tube
    Tube.objects.filter(pk=tube.pk).update(
        received_at=tube.received_at + datetime.timedelta(minutes=30)
    )


def _ct_value_changed(made: dict[str, Any], **_: Any) -> None:
    positive = next(r for r in made["results"] if r.outcome == Result.Outcome.POSITIVE)
    TubeResult.objects.filter(pk=positive.tube_result_id).update(ct_value=31.0)


def _lot_renumbered(made: dict[str, Any], **_: Any) -> None:
    lot = made["doses"][0].lot
    lot.number = "FK1234-B"
    lot.save()


def _vaccine_renamed(made: dict[str, Any], **_: Any) -> None:
    Vaccine.objects.filter(pk=made["doses"][0].vaccine_id).update(name="Comirnaty (Pfizer)")


def _dose_moved_away(made: dict[str, Any], other: Any, **_: Any) -> None:
    # A merge of duplicate people moves records: both people's answers change.
    Dose.objects.filter(pk=made["doses"][1].pk).update(person=other)


@pytest.mark.parametrize(
    "change",
    [
        _void_dose,
        _new_dose,
        _result_corrected_in_sql,
        _tube_changed,
        _ct_value_changed,
        _lot_renumbered,
        _vaccine_renamed,
        _dose_moved_away,
    ],
)
def test_after_each_change_the_answer_is_the_records(
    change, officer_client, commune_officer, make_person, make_records
):
    person = make_person()
    other = make_person(full_name="Trần Văn Khác", sex="M")
    made = make_records(person, doses=2, results=2)
    make_records(other, doses=0, results=1)
    before = _served(officer_client, person)
    other_before = _served(officer_client, other)
    assert _served(officer_client, person) == before  # kept
    change(made=made, person=person, other=other)
    after = _served(officer_client, person)
    assert [e["resource"] for e in after] != [e["resource"] for e in before]
    _same(after, _built(commune_officer, person))
    _same(_served(officer_client, other), _built(commune_officer, other))
    if change is _dose_moved_away:
        assert len(_served(officer_client, other)) > len(other_before)


def test_a_changed_lot_no_one_shows_keeps_the_text(
    officer_client, make_person, make_records, places
):
    """What the resources do not show (the doses a lot has given out) leaves the kept text
    served: the triggers watch only what the resources hold."""
    person = make_person()
    make_records(person, doses=2, results=0)
    _served(officer_client, person)
    kept = _kept(person)
    VaccineLot.objects.filter(pk=places["lot"].pk).update(doses_allocated=50)
    with CaptureQueriesContext(connection) as queries:
        _served(officer_client, person)
    assert '"vaccination_dose"' not in " ".join(q["sql"] for q in queries)
    assert _kept(person).generation == kept.generation


def test_new_builders_rebuild_what_older_ones_kept(
    officer_client, make_person, make_records, monkeypatch
):
    person = make_person()
    make_records(person, doses=1, results=1)
    first = _served(officer_client, person)
    monkeypatch.setattr(everything, "BUILD", "0123456789abcdef")
    with CaptureQueriesContext(connection) as queries:
        assert _served(officer_client, person) == first
    assert '"vaccination_dose"' in " ".join(q["sql"] for q in queries)
    assert _kept(person).build == "0123456789abcdef"


def test_a_build_that_read_before_a_write_is_not_kept(commune_officer, make_person, make_records):
    """The interleaving a parallel read and write can make, step by step: the records read,
    then changed (and committed) by a writer, then the build kept: it must not be."""
    reader = Reader(kind=STAFF, user=commune_officer, session=True)
    person = make_person()
    made = make_records(person, doses=2, results=1)
    reads = everything._reads_for(reader)
    row = reads.kept.rows(person.uuid)[0]
    generation = row[everything._PATIENT_COLUMNS]
    epoch = row[-1]
    built = everything._built(reads, "default", person.uuid)
    _void_dose(made)  # the writer, after the read
    everything._keep(person.pk, generation, epoch, built)
    assert _kept(person).immunizations is None
    # Control: kept with the generation as it is now, it is kept.
    everything._keep(person.pk, _kept(person).generation, epoch, built)
    assert _kept(person).immunizations is not None

    # A person with no row yet: a writer that comes between makes one, and the insert of
    # what was read before it then does nothing.
    fresh = make_person(full_name="Phạm Thị Mới", sex="F")
    PatientRecords.objects.filter(person_id=fresh.pk).delete()
    row = reads.kept.rows(fresh.uuid)[0]
    assert row[everything._PATIENT_COLUMNS] is None
    built = everything._built(reads, "default", fresh.uuid)
    make_records(fresh, doses=1, results=0)
    everything._keep(fresh.pk, None, epoch, built)
    assert _kept(fresh).immunizations is None
    # Control: with no write between, the insert keeps it.
    PatientRecords.objects.filter(person_id=fresh.pk).delete()
    everything._keep(fresh.pk, None, epoch, built)
    assert _kept(fresh).immunizations is not None


def test_a_deleted_person_takes_their_kept_records(officer_client, make_person):
    person = make_person()
    _served(officer_client, person)
    assert _kept(person) is not None
    person_pk = person.pk
    person.delete()
    assert not PatientRecords.objects.filter(person_id=person_pk).exists()


def test_scopes_choose_among_the_kept_groups(
    commune_officer, make_person, make_records, officer_client
):
    """A machine client with people and immunizations, not results: the same kept text
    gives it the doses and their site, nothing of the results."""
    person = make_person()
    make_records(person, doses=2, results=2)
    _served(officer_client, person)  # kept
    reader = Reader(
        kind=STAFF,
        user=commune_officer,
        session=True,
        capabilities=frozenset({"vaccination"}),
    )
    entries, count = everything.everything_entries(reader=reader, patient_id=str(person.uuid))
    kinds = [e["resource"]["resourceType"] for e in orjson.loads(entries)]
    assert count == len(kinds)
    assert kinds.count("Immunization") == 2
    assert not {"Observation", "DiagnosticReport", "Specimen"} & set(kinds)
    assert {"Organization", "Location"} <= set(kinds)  # the vaccination site


def test_kept_records_are_no_wider_than_the_scope(
    officer_client, login, neighbour_officer, make_person, make_records
):
    """What one officer's read kept is found only through the next reader's own scope: the
    neighbouring commune's officer still gets 404 (and the kept row is left as it was)."""
    person = make_person()
    make_records(person, doses=2, results=1)
    _served(officer_client, person)
    kept = _kept(person)
    assert kept is not None and kept.immunizations
    neighbour = login(neighbour_officer)
    response = neighbour.get(f"/fhir/Patient/{person.uuid}/$everything")
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"
    assert "Immunization" not in response.content.decode()
    assert _kept(person).generation == kept.generation
