"""The read surface: metadata, read, search, paging, $everything, errors; every resource
validated with fhir.resources."""

from __future__ import annotations

from typing import Any

import pytest

from covidhub.audit.models import AuditEvent
from covidhub.fhir import codes

pytestmark = pytest.mark.django_db
FHIR = "application/fhir+json"


def _json(response: Any) -> Any:
    assert response["Content-Type"].startswith(FHIR), response["Content-Type"]
    return response.json()


def _entries(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle.get("entry", [])]


def test_metadata_is_public_and_valid(client, validate):
    response = client.get("/fhir/metadata")
    assert response.status_code == 200
    statement = _json(response)
    validate(statement)
    assert statement["fhirVersion"] == "4.0.1"
    types = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert set(types) == {
        "Patient",
        "Immunization",
        "Observation",
        "DiagnosticReport",
        "Specimen",
        "Condition",
        "Organization",
        "Location",
    }
    patient_params = {p["name"] for p in types["Patient"]["searchParam"]}
    assert {"identifier", "birthdate", "_lastUpdated"} <= patient_params


def test_every_declared_search_parameter_is_accepted(login, commune_officer, client):
    """The statement claims nothing the search refuses."""
    statement = client.get("/fhir/metadata").json()
    officer = login(commune_officer)
    samples = {"token": "x", "string": "an", "date": "ge2020-01-01", "reference": "Patient/x"}
    for resource in statement["rest"][0]["resource"]:
        for param in resource["searchParam"]:
            value = samples[param["type"]]
            if param["name"] == "gender":
                value = "male"
            response = officer.get(f"/fhir/{resource['type']}", {param["name"]: value})
            assert response.status_code == 200, (resource["type"], param, response.content)


def test_officer_reads_every_resource_type_and_each_validates(
    login, commune_officer, make_person, make_records, validate
):
    person = make_person(id_type="cccd", id_number="030085001234", address_line="12 Phố Huế")
    other = make_person(full_name="Trần Thị Hai", birth="01/01/1990", sex="F")
    made = make_records(person, doses=3, results=2, pooled_with=[other], rapid=1)
    officer = login(commune_officer)

    patient = _json(officer.get(f"/fhir/Patient/{person.uuid}"))
    validate(patient)
    assert patient["gender"] == "male"
    assert patient["birthDate"] == "1985-03-15"
    assert patient["name"][0]["family"] == "Nguyễn"
    cccd = next(i for i in patient["identifier"] if i["system"] == codes.SID_CCCD)
    assert cccd["value"] == "030085001234"
    commune_code = patient["address"][0]["extension"][0]["valueCoding"]
    assert commune_code == {
        "system": codes.SID_ADMIN_UNIT,
        "code": "10507",
        "display": "Phường Cẩm Thượng",
    }

    dose = made["doses"][0]
    immunization = _json(officer.get(f"/fhir/Immunization/{dose.uuid}"))
    validate(immunization)
    systems = {c["system"]: c["code"] for c in immunization["vaccineCode"]["coding"]}
    assert systems[codes.CVX] == "208"
    assert systems[codes.SNOMED] == "1119349007"
    assert systems[codes.CS_DCC_PRODUCT] == "EU/1/20/1528"
    assert immunization["lotNumber"] == "FK1234"
    assert immunization["protocolApplied"][0]["doseNumberPositiveInt"] == 1
    assert immunization["performer"][0]["actor"]["reference"].startswith("Organization/vs-")

    pcr, positive, rapid, pooled = made["results"]
    observation = _json(officer.get(f"/fhir/Observation/{pcr.uuid}"))
    validate(observation)
    assert observation["code"]["coding"][0]["code"] == "94500-6"
    assert observation["valueCodeableConcept"]["coding"][0]["code"] == "260415000"
    assert observation["subject"]["reference"] == f"Patient/{person.uuid}"
    rapid_obs = _json(officer.get(f"/fhir/Observation/{rapid.uuid}"))
    validate(rapid_obs)
    assert rapid_obs["code"]["coding"][0]["code"] == "94558-4"
    assert rapid_obs["performer"][0]["reference"].startswith("Organization/ts-")

    pool_obs = _json(officer.get(f"/fhir/Observation/{pooled.uuid}"))
    validate(pool_obs)
    assert pool_obs["status"] == "preliminary"
    pool_specimen_id = pool_obs["specimen"]["reference"].removeprefix("Specimen/")
    assert pool_specimen_id == str(pooled.sample.tube.uuid)
    specimen = _json(officer.get(f"/fhir/Specimen/{pool_specimen_id}"))
    validate(specimen)
    assert "subject" not in specimen  # a pool has no single subject
    assert specimen["extension"][0] == {"url": codes.EXT_POOL_SIZE, "valueInteger": 2}
    single = _json(officer.get(f"/fhir/Specimen/{pcr.sample.tube.uuid}"))
    assert single["subject"]["reference"] == f"Patient/{person.uuid}"

    report = _json(officer.get(f"/fhir/DiagnosticReport/{positive.uuid}"))
    validate(report)
    assert report["result"] == [{"reference": f"Observation/{positive.uuid}"}]

    org_id = immunization["performer"][0]["actor"]["reference"].removeprefix("Organization/")
    validate(_json(officer.get(f"/fhir/Organization/{org_id}")))
    validate(_json(officer.get(f"/fhir/Location/{org_id}")))
    lab_ref = observation["performer"][0]["reference"].removeprefix("Organization/")
    lab = _json(officer.get(f"/fhir/Organization/{lab_ref}"))
    validate(lab)
    assert {"system": codes.SID_LAB, "value": "CDCHD"} in lab["identifier"]


def test_everything_is_a_valid_searchset_with_each_record(
    login, commune_officer, make_person, make_records, validate
):
    person = make_person()
    other = make_person(full_name="Lê Văn Ba")
    made = make_records(person, doses=2, results=2, pooled_with=[other])
    make_records(other, doses=1, results=1)
    officer = login(commune_officer)
    response = officer.get(f"/fhir/Patient/{person.uuid}/$everything")
    bundle = _json(response)
    validate(bundle)
    assert bundle["type"] == "searchset"
    found = _entries(bundle)
    for resource in found:
        validate(resource)
    kinds = [r["resourceType"] for r in found]
    assert kinds.count("Patient") == 1
    assert kinds.count("Immunization") == 2
    assert kinds.count("Observation") == 3
    assert kinds.count("DiagnosticReport") == 3
    assert kinds.count("Specimen") == 3
    assert {"Organization", "Location"} <= set(kinds)
    # Nothing of the other person, though they share a pool.
    refs = {r.get("subject", r.get("patient", {})).get("reference") for r in found}
    assert f"Patient/{other.uuid}" not in refs
    ids = {r["id"] for r in found}
    assert {str(d.uuid) for d in made["doses"]} <= ids
    assert AuditEvent.objects.filter(
        action="fhir.patient.everything", person_uuid=person.uuid, actor=commune_officer
    ).exists()


def test_search_by_identifier_date_and_paging(login, commune_officer, make_person, make_records):
    people = [
        make_person(full_name=f"Nguyễn Văn {n}") for n in ("An", "Bình", "Cường", "Dũng", "Em")
    ]
    target = make_person(id_type="cccd", id_number="030085009999")
    for person in people:
        make_records(person, doses=2, results=0)
    officer = login(commune_officer)

    bundle = _json(officer.get("/fhir/Patient", {"identifier": f"{codes.SID_CCCD}|030085009999"}))
    assert [r["id"] for r in _entries(bundle)] == [str(target.uuid)]
    assert (
        _entries(
            _json(officer.get("/fhir/Patient", {"identifier": f"{codes.SID_CMND}|030085009999"}))
        )
        == []
    )

    first = _json(officer.get("/fhir/Immunization", {"_count": 4}))
    assert len(first["entry"]) == 4
    next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    seen = {r["id"] for r in _entries(first)}
    while next_url:
        page = _json(officer.get(next_url))
        seen |= {r["id"] for r in _entries(page)}
        next_url = next((link["url"] for link in page["link"] if link["relation"] == "next"), None)
    assert len(seen) == 10

    by_patient = _json(officer.get("/fhir/Immunization", {"patient": f"Patient/{people[0].uuid}"}))
    assert len(by_patient["entry"]) == 2
    recent = _json(officer.get("/fhir/Immunization", {"date": "ge2100-01-01"}))
    assert "entry" not in recent
    updated = _json(officer.get("/fhir/Patient", {"_lastUpdated": "ge2000-01-01", "_count": 100}))
    assert len(updated["entry"]) == 6
    # Every row returned is audited as a read.
    assert AuditEvent.objects.filter(action="fhir.patient.searched").count() >= 7


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/fhir/Patient", {"colour": "blue"}, 400, "invalid"),
        ("/fhir/Patient", {"birthdate": "15/03/1985"}, 400, "invalid"),
        ("/fhir/Patient", {"_count": "-1"}, 400, "invalid"),
        ("/fhir/Observation", {"date": "ge2021-13-40"}, 400, "invalid"),
        ("/fhir/Patient", {"_format": "xml"}, 406, "not-supported"),
        ("/fhir/Medication", {}, 404, "not-found"),
        ("/fhir/Patient/not-a-uuid", {}, 404, "not-found"),
        ("/fhir/Patient/5d5f8d43-41aa-4a0b-8f5a-7a8b8c1d2e3f", {}, 404, "not-found"),
        ("/fhir/nothing/here/at/all", {}, 404, "not-found"),
    ],
)
def test_errors_are_operation_outcomes(
    login, commune_officer, validate, path, params, status, code
):
    response = login(commune_officer).get(path, params)
    assert response.status_code == status
    outcome = _json(response)
    validate(outcome)
    assert outcome["issue"][0]["code"] == code


def test_unauthenticated_and_unverified_get_401(client, make_staff, area_tree, validate):
    response = client.get("/fhir/Patient")
    assert response.status_code == 401
    validate(_json(response))
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/fhir/Patient", HTTP_AUTHORIZATION="Bearer nonsense").status_code == 401
    staff = make_staff("unverified", "commune_officer", area_tree["commune"])
    unverified = client
    unverified.force_login(staff)  # password only, no TOTP step
    assert unverified.get("/fhir/Patient").status_code == 401


def test_path_refused_by_input_cleaning_is_still_an_operation_outcome(client):
    response = client.get("/fhir/Patient/%00")
    assert response.status_code == 404
    assert _json(response)["resourceType"] == "OperationOutcome"


def test_wrong_method_is_405_outcome(login, commune_officer):
    response = login(commune_officer).post("/fhir/Patient", {})
    assert response.status_code in (403, 405)
    assert _json(response)["resourceType"] == "OperationOutcome"


def test_a_renamed_site_shows_in_everything_at_once(
    login, commune_officer, make_person, make_records, places
):
    person = make_person()
    make_records(person, doses=1, results=0)
    officer = login(commune_officer)
    url = f"/fhir/Patient/{person.uuid}/$everything"

    def names() -> set[str]:
        return {
            r["name"] for r in _entries(officer.get(url).json()) if r["resourceType"] == "Location"
        }

    assert names() == {"TYT P. Cẩm Thượng"}
    site = places["vsite"]
    site.name = "Trạm Y tế Cẩm Thượng (mới)"
    site.save()
    assert names() == {"Trạm Y tế Cẩm Thượng (mới)"}


def test_everything_and_search_cost_no_query_per_record(
    login, commune_officer, make_person, make_records, django_assert_max_num_queries
):
    """No N+1: a person with many records costs as many queries as one with few."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    few, many = make_person(), make_person(full_name="Lê Thị Nhiều", sex="F")
    make_records(few, doses=1, results=1)
    make_records(many, doses=4, results=12, rapid=2)
    officer = login(commune_officer)
    for person in (few, many):  # warm the caches (scope, places, look-up budget)
        officer.get(f"/fhir/Patient/{person.uuid}/$everything")
    counts = []
    for person in (few, many):
        with CaptureQueriesContext(connection) as queries:
            assert officer.get(f"/fhir/Patient/{person.uuid}/$everything").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(counts[1]):
        officer.get("/fhir/Observation", {"_count": 50})
