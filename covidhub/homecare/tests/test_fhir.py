"""The FHIR view of home care: each self-check's vital signs as vital-sign Observations,
the confirmed case (an F0's order) as a Condition; read, searched, in $everything, the bulk
export and the citizen's own download; scoped (the neighbouring officer gets 404) and
audited like every FHIR read; every resource validated with fhir.resources."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from covidhub.audit.models import AuditEvent
from covidhub.fhir import codes
from covidhub.homecare.models import CareOrder
from covidhub.homecare.services.checks import self_check_submit
from covidhub.homecare.tests.conftest import check_data

pytestmark = pytest.mark.django_db

LOINC_OF = {"temp": "8310-5", "spo2": "2708-6", "pulse": "8867-4", "resp": "9279-1"}


def _entries(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content
    return [e["resource"] for e in response.json().get("entry", [])]


@pytest.fixture
def checked(order: Any, citizen: Any) -> dict[str, Any]:
    """Two checks of the order: a normal one (all four vitals) and one with a low SpO2
    and no breathing rate."""
    now = timezone.now()
    normal, _c = self_check_submit(
        actor=citizen,
        order=order,
        data=check_data(
            1,
            pulse="88",
            breathing_rate="18",
            measured_at=(now - datetime.timedelta(hours=5)).isoformat(),
        ),
    )
    low, _c = self_check_submit(
        actor=citizen,
        order=order,
        data=check_data(2, spo2="92", temperature="38.4", pulse="101"),
    )
    return {"order": order, "normal": normal, "low": low}


def test_vital_signs_are_valid_vital_sign_observations(
    checked, login, commune_officer, validate, citizen_person
):
    officer = login(commune_officer)
    normal, low = checked["normal"], checked["low"]
    for vital, loinc in LOINC_OF.items():
        response = officer.get(f"/fhir/Observation/{normal.uuid}-{vital}")
        assert response.status_code == 200, (vital, response.content)
        observation = response.json()
        validate(observation)
        assert observation["category"][0]["coding"][0]["code"] == "vital-signs"
        assert observation["code"]["coding"][0] == {
            "system": codes.LOINC,
            "code": loinc,
            "display": observation["code"]["coding"][0]["display"],
        }
        assert observation["subject"] == {"reference": f"Patient/{citizen_person.uuid}"}
        assert observation["valueQuantity"]["system"] == "http://unitsofmeasure.org"
        assert codes.VITAL_SIGNS_PROFILE in observation["meta"]["profile"]
        assert "interpretation" not in observation
    temperature = officer.get(f"/fhir/Observation/{normal.uuid}-temp").json()
    assert temperature["valueQuantity"] == {
        "value": 37.2,
        "unit": "°C",
        "system": "http://unitsofmeasure.org",
        "code": "Cel",
    }
    spo2 = officer.get(f"/fhir/Observation/{low.uuid}-spo2").json()
    validate(spo2)
    assert {c["code"] for c in spo2["code"]["coding"]} == {"2708-6", "59408-5"}
    assert spo2["valueQuantity"]["value"] == 92 and spo2["valueQuantity"]["code"] == "%"
    assert spo2["interpretation"][0]["coding"][0]["code"] == "L"
    # Not measured: no resource.
    assert officer.get(f"/fhir/Observation/{low.uuid}-resp").status_code == 404
    assert officer.get(f"/fhir/Observation/{low.uuid}-weight").status_code == 404
    assert AuditEvent.objects.filter(
        action="fhir.observation.read",
        object_type="homecare.selfcheck",
        object_id=str(low.uuid),
        person_uuid=citizen_person.uuid,
        actor=commune_officer,
    ).exists()


def test_the_confirmed_case_is_a_condition_with_onset_and_abatement(
    checked, login, commune_officer, validate, citizen_person
):
    order = checked["order"]
    officer = login(commune_officer)
    condition = officer.get(f"/fhir/Condition/{order.uuid}").json()
    validate(condition)
    assert condition["code"]["coding"][0]["code"] == "840539006"
    assert condition["clinicalStatus"]["coding"][0]["code"] == "active"
    assert condition["verificationStatus"]["coding"][0]["code"] == "confirmed"
    assert condition["onsetDateTime"] == order.onset_date.isoformat()
    assert "abatementDateTime" not in condition
    assert condition["subject"] == {"reference": f"Patient/{citizen_person.uuid}"}

    released_at = timezone.now()
    CareOrder.objects.filter(pk=order.pk).update(
        status=CareOrder.Status.RELEASED,
        released_at=released_at,
        release_reason=CareOrder.ReleaseReason.DAYS,
    )
    resolved = officer.get(f"/fhir/Condition/{order.uuid}").json()
    validate(resolved)
    assert resolved["clinicalStatus"]["coding"][0]["code"] == "resolved"
    assert resolved["abatementDateTime"].startswith(
        timezone.localtime(released_at).date().isoformat()
    )
    found = _entries(officer.get("/fhir/Condition", {"clinical-status": "resolved"}))
    assert [c["id"] for c in found] == [str(order.uuid)]
    assert _entries(officer.get("/fhir/Condition", {"clinical-status": "active"})) == []
    assert AuditEvent.objects.filter(
        action="fhir.condition.read", object_id=str(order.uuid), actor=commune_officer
    ).exists()


def test_a_quarantine_is_no_condition(login, commune_officer, make_person):
    from covidhub.homecare.protocol import protocol_active

    person = make_person()
    today = timezone.localdate()
    quarantine = CareOrder.objects.create(
        person=person,
        kind=CareOrder.Kind.QUARANTINE,
        source=CareOrder.Source.CONTACT,
        protocol=protocol_active(),
        commune=person.commune,
        commune_path=person.commune_path,
        start_date=today,
        planned_end=today + datetime.timedelta(days=7),
    )
    officer = login(commune_officer)
    assert officer.get(f"/fhir/Condition/{quarantine.uuid}").status_code == 404
    assert _entries(officer.get("/fhir/Condition", {"patient": str(person.uuid)})) == []


def test_search_by_patient_code_and_paging_over_results_and_vital_signs(
    checked, login, commune_officer, make_result, citizen_person, validate, make_person
):
    result = make_result(citizen_person, "negative")
    other = make_person(full_name="Lê Văn Khác")
    make_result(other, "negative")
    officer = login(commune_officer)
    mine = _entries(officer.get("/fhir/Observation", {"patient": str(citizen_person.uuid)}))
    for resource in mine:
        validate(resource)
    ids = [r["id"] for r in mine]
    normal, low = checked["normal"], checked["low"]
    assert sorted(ids) == sorted(
        [str(result.uuid)]
        + [f"{normal.uuid}-{v}" for v in LOINC_OF]
        + [f"{low.uuid}-{v}" for v in ("temp", "spo2", "pulse")]
    )
    # Ordered by when measured or collected, whatever the source.
    times = [r["effectiveDateTime"] for r in mine]
    assert times == sorted(times)
    assert [r["id"] for r in _entries(officer.get("/fhir/Observation", {"code": "8310-5"}))] == [
        f"{normal.uuid}-temp",
        f"{low.uuid}-temp",
    ]
    spo2 = _entries(officer.get("/fhir/Observation", {"code": f"{codes.LOINC}|59408-5"}))
    assert len(spo2) == 2
    assert (
        _entries(officer.get("/fhir/Observation", {"_id": f"{low.uuid}-pulse"}))[0][
            "valueQuantity"
        ]["value"]
        == 101
    )
    # Pages of three over the eight Observations: nothing lost, nothing twice.
    seen: list[str] = []
    url: str | None = f"/fhir/Observation?patient={citizen_person.uuid}&_count=3"
    while url:
        page = officer.get(url).json()
        seen += [e["resource"]["id"] for e in page.get("entry", [])]
        url = next((link["url"] for link in page["link"] if link["relation"] == "next"), None)
    assert seen == ids
    assert _entries(officer.get("/fhir/Observation", {"code": "0000-0"})) == []
    conditions = _entries(officer.get("/fhir/Condition", {"patient": str(citizen_person.uuid)}))
    assert [c["id"] for c in conditions] == [str(checked["order"].uuid)]
    assert _entries(officer.get("/fhir/Condition", {"code": "http://snomed.info/sct|1"})) == []
    assert AuditEvent.objects.filter(
        action="fhir.observation.searched", object_type="homecare.selfcheck"
    ).exists()


def test_everything_and_the_citizens_download_hold_the_home_care_records(
    checked, login, commune_officer, citizen, citizen_person, validate
):
    officer = login(commune_officer)
    bundle = officer.get(f"/fhir/Patient/{citizen_person.uuid}/$everything").json()
    validate(bundle)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds.count("Condition") == 1
    vitals = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation"
        and e["resource"]["category"][0]["coding"][0]["code"] == "vital-signs"
    ]
    assert len(vitals) == 7
    for entry in bundle["entry"]:
        validate(entry["resource"])

    download = login(citizen).get(f"/me/health-records/{citizen_person.uuid}/fhir.json")
    assert download.status_code == 200
    mine = download.json()
    validate(mine)
    kinds = [e["resource"]["resourceType"] for e in mine["entry"]]
    assert kinds.count("Condition") == 1
    assert kinds.count("Observation") == 7


def test_the_neighbouring_officer_gets_404_and_is_audited(
    checked, login, neighbour_officer, citizen_person
):
    neighbour = login(neighbour_officer)
    low = checked["low"]
    for path in (
        f"/fhir/Observation/{low.uuid}-spo2",
        f"/fhir/Condition/{checked['order'].uuid}",
    ):
        response = neighbour.get(path)
        assert response.status_code == 404, path
        assert response.json()["resourceType"] == "OperationOutcome"
    assert (
        AuditEvent.objects.filter(actor=neighbour_officer, action="security.access.denied").count()
        == 2
    )
    assert _entries(neighbour.get("/fhir/Condition")) == []
    assert _entries(neighbour.get("/fhir/Observation", {"code": "2708-6"})) == []


def test_a_citizen_reads_their_own_by_token(
    checked, client, citizen, citizen_person, make_person, auth_headers
):
    headers = auth_headers(citizen)
    response = client.get("/fhir/Condition", headers=headers)
    assert [e["resource"]["id"] for e in response.json()["entry"]] == [str(checked["order"].uuid)]
    found = client.get("/fhir/Observation", {"code": "9279-1"}, headers=headers).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [f"{checked['normal'].uuid}-resp"]


def test_the_bulk_export_holds_conditions_and_vital_signs(
    checked, district_officer, validate, settings, tmp_path
):
    from covidhub.fhir.access import STAFF, Reader
    from covidhub.fhir.bulk import export_request, export_run, job_dir

    settings.FHIR_EXPORT_DIR = str(tmp_path)
    reader = Reader(kind=STAFF, user=district_officer, role="district_officer")
    job = export_request(
        reader=reader,
        request_url="http://testserver/fhir/$export",
        resource_types="Observation,Condition",
        since=None,
        area_code=None,
        output_format=None,
    )
    done = export_run(job_uuid=str(job.uuid))
    assert done is not None and done.status == "done"
    counts = {f["type"]: f["count"] for f in done.files}
    assert counts == {"Observation": 7, "Condition": 1}
    import orjson

    for name in ("Observation.ndjson", "Condition.ndjson"):
        for line in (job_dir(done) / name).read_bytes().splitlines():
            validate(orjson.loads(line))
    assert AuditEvent.objects.filter(
        action="fhir.export.condition", object_id=str(checked["order"].uuid)
    ).exists()


def test_the_capability_statement_lists_condition(client):
    statement = client.get("/fhir/metadata").json()
    types = {r["type"]: r for r in statement["rest"][0]["resource"]}
    params = {p["name"] for p in types["Condition"]["searchParam"]}
    assert {"patient", "onset-date", "clinical-status", "code"} <= params


def test_everything_reads_home_care_only_for_a_person_who_has_it(
    checked, login, commune_officer, citizen_person, make_person
):
    """Most people never had home care: the build of their $everything sends no read of
    self-checks or orders; a person with an order gets both (and the Bundle holds them,
    above). Once kept, neither is read again."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    other = make_person(full_name="Trần Văn Khoẻ")
    officer = login(commune_officer)

    def care_reads(person: Any) -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            assert officer.get(f"/fhir/Patient/{person.uuid}/$everything").status_code == 200
        # A column only the read of each selects (the patient's read asks whether an
        # order exists, by person only).
        return [
            table
            for table, column in (
                ("homecare_selfcheck", "measured_at"),
                ("homecare_careorder", "start_date"),
            )
            if any(f'"{table}"."{column}"' in q["sql"] for q in queries.captured_queries)
        ]

    assert care_reads(citizen_person) == ["homecare_selfcheck", "homecare_careorder"]
    assert care_reads(other) == []
    assert care_reads(citizen_person) == []  # kept
    assert care_reads(other) == []


def test_a_check_after_a_read_is_in_the_next_one(
    checked, login, commune_officer, citizen, citizen_person
):
    """The kept records of a person followed at home are emptied by their next self-check
    (the database's trigger, through the order): it is in the next $everything."""
    officer = login(commune_officer)
    path = f"/fhir/Patient/{citizen_person.uuid}/$everything"

    def vitals() -> int:
        return sum(
            1
            for r in _entries(officer.get(path))
            if r["resourceType"] == "Observation"
            and r["category"][0]["coding"][0]["code"] == "vital-signs"
        )

    before = vitals()
    assert vitals() == before  # kept
    self_check_submit(
        actor=citizen, order=checked["order"], data=check_data(3, pulse="90", breathing_rate="20")
    )
    assert vitals() == before + 4


def test_machine_clients_read_home_care_only_under_its_own_scope(
    checked, province_admin, settings, tmp_path
):
    """A laboratory's or the testing database's client (testing:read) reads results, not a
    person's care: no Condition (403), no vital sign by search, id, $everything or bulk
    export. A client given homecare:read reads them all. The scope is read-only."""
    from covidhub.clients.scopes import all_scopes
    from covidhub.clients.services import scopes_from
    from covidhub.fhir.bulk import export_run
    from covidhub.fhir.models import ExportJob
    from covidhub.fhir.tests.test_machine_clients import FHIR, _client_api

    settings.FHIR_EXPORT_DIR = str(tmp_path)
    order, low = checked["order"], checked["low"]
    person_uuid = order.person.uuid
    everything = f"/fhir/Patient/{person_uuid}/$everything"

    def exported(api: Any) -> dict[str, int]:
        kicked = api.get(
            "/fhir/$export", {"_type": "Observation"}, HTTP_PREFER="respond-async", **FHIR
        )
        assert kicked.status_code == 202, kicked.content
        job = ExportJob.objects.order_by("-id").first()
        export_run(job_uuid=str(job.uuid))
        job.refresh_from_db()
        assert job.status == "done", job.error
        return {f["type"]: f["count"] for f in job.files}

    testing = _client_api(province_admin, order.commune, {"people": "read", "testing": "read"})
    assert testing.get("/fhir/Condition", **FHIR).status_code == 403
    assert testing.get(f"/fhir/Condition/{order.uuid}", **FHIR).status_code == 403
    assert _entries(testing.get("/fhir/Observation", {"code": "2708-6"}, **FHIR)) == []
    assert testing.get(f"/fhir/Observation/{low.uuid}-spo2", **FHIR).status_code == 404
    bundle = _entries(testing.get(everything, **FHIR))
    assert [r["resourceType"] for r in bundle] == ["Patient"]
    assert (
        testing.get(
            "/fhir/$export", {"_type": "Condition"}, HTTP_PREFER="respond-async", **FHIR
        ).status_code
        == 403
    )
    assert exported(testing) == {"Observation": 0}

    care = _client_api(province_admin, order.commune, {"people": "read", "homecare": "read"})
    assert [r["id"] for r in _entries(care.get("/fhir/Condition", **FHIR))] == [str(order.uuid)]
    assert care.get(f"/fhir/Condition/{order.uuid}", **FHIR).status_code == 200
    found = _entries(care.get("/fhir/Observation", {"code": "2708-6"}, **FHIR))
    assert {r["id"] for r in found} == {f"{checked['normal'].uuid}-spo2", f"{low.uuid}-spo2"}
    assert care.get(f"/fhir/Observation/{low.uuid}-spo2", **FHIR).status_code == 200
    kinds = [r["resourceType"] for r in _entries(care.get(everything, **FHIR))]
    assert kinds.count("Condition") == 1 and kinds.count("Observation") == 7
    assert exported(care) == {"Observation": 7}

    # An export of a client revoked before the worker writes it holds nothing of its care.
    kicked = care.get(
        "/fhir/$export", {"_type": "Observation"}, HTTP_PREFER="respond-async", **FHIR
    )
    assert kicked.status_code == 202
    job = ExportJob.objects.order_by("-id").first()
    from covidhub.clients.models import MachineClient
    from covidhub.clients.services import client_revoke

    client_revoke(actor=province_admin, client=MachineClient.objects.get(uuid=job.client_id))
    export_run(job_uuid=str(job.uuid))
    job.refresh_from_db()
    assert {f["type"]: f["count"] for f in job.files} == {"Observation": 0}

    # Read-only: no write scope is offered or given.
    from covidhub.clients.forms import ClientForm

    choices = dict(ClientForm(actor=province_admin).fields["access_homecare"].choices)
    assert set(choices) == {"", "read"}
    assert "homecare:read" in all_scopes() and "homecare:write" not in all_scopes()
    assert scopes_from({"homecare": "write"}) == ["homecare:read"]
