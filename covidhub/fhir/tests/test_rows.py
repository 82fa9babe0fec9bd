"""$everything and the bulk export build their resources from plain rows (covidhub.fhir.rows)
instead of model instances; the same builders read both. Each resource they produce must be
exactly the one a read (model instances through the ORM) produces for the same id."""

from __future__ import annotations

import json
from typing import Any

import pytest

from covidhub.core.testing import run_queued_tasks
from covidhub.fhir.rows import Shape

pytestmark = pytest.mark.django_db
FHIR = {"HTTP_ACCEPT": "application/fhir+json"}


def test_shape_nests_relations_and_leaves_unset_ones_none():
    shape = Shape("uuid", "lot_id", "lot__number", "tube_result__lab_id", "tube_result__lab__uuid")
    full = shape.row(("u", 3, "FK1", 7, "lab-uuid"))
    assert (full.uuid, full.lot_id, full.lot.number) == ("u", 3, "FK1")
    assert full.tube_result.lab.uuid == "lab-uuid"
    empty = shape.row(("u", None, None, None, None))
    assert empty.lot is None
    assert empty.tube_result.lab is None


def _read(client: Any, resource: dict[str, Any]) -> dict[str, Any]:
    response = client.get(f"/fhir/{resource['resourceType']}/{resource['id']}", **FHIR)
    assert response.status_code == 200, response.content
    return response.json()


def test_everything_resources_are_those_a_read_builds(
    login, commune_officer, make_person, make_records, validate
):
    person = make_person(email="an@example.com", phone="0912000001")
    mate = make_person(full_name="Trần Thị Hoa", sex="F")
    make_records(person, doses=3, results=3, rapid=1, pooled_with=[mate])
    officer = login(commune_officer)
    bundle = officer.get(f"/fhir/Patient/{person.uuid}/$everything", **FHIR).json()
    found = [entry["resource"] for entry in bundle["entry"]]
    kinds = {r["resourceType"] for r in found}
    assert kinds == {
        "Patient",
        "Immunization",
        "Observation",
        "DiagnosticReport",
        "Specimen",
        "Organization",
        "Location",
    }
    for resource in found:
        validate(resource)
        assert resource == _read(officer, resource), resource["resourceType"]


def test_exported_resources_are_those_a_read_builds(
    login,
    district_officer,
    make_person,
    make_records,
    validate,
    settings,
    tmp_path,
    django_capture_on_commit_callbacks,
):
    settings.FHIR_EXPORT_DIR = tmp_path / "exports"
    person = make_person()
    mate = make_person(full_name="Trần Thị Hoa", sex="F")
    make_records(person, doses=2, results=2, rapid=1, pooled_with=[mate])
    officer = login(district_officer)
    with django_capture_on_commit_callbacks(execute=True):
        kickoff = officer.get("/fhir/$export", HTTP_PREFER="respond-async", **FHIR)
    status = kickoff["Content-Location"].removeprefix("http://testserver")
    run_queued_tasks()
    manifest = officer.get(status).json()
    seen = set()
    for item in manifest["output"]:
        body = officer.get(item["url"].removeprefix("http://testserver")).getvalue()
        for line in body.decode().splitlines():
            resource = json.loads(line)
            validate(resource)
            assert resource == _read(officer, resource), resource["resourceType"]
            seen.add(resource["resourceType"])
    assert seen == {"Patient", "Immunization", "Observation", "DiagnosticReport", "Specimen"}
