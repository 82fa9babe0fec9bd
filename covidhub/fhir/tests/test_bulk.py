"""Bulk Data export end to end (kick-off, polling, NDJSON files, cancel, expiry) through the
worker's task, on whichever database the suite runs (SQLite and PostgreSQL in the checks)."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from covidhub.audit.models import AuditEvent
from covidhub.core.testing import run_queued_tasks
from covidhub.fhir.bulk import exports_expire, job_dir
from covidhub.fhir.models import ExportJob

pytestmark = pytest.mark.django_db
ASYNC = {"HTTP_PREFER": "respond-async", "HTTP_ACCEPT": "application/fhir+json"}


@pytest.fixture(autouse=True)
def _export_dir(settings: Any, tmp_path: Any) -> None:
    settings.FHIR_EXPORT_DIR = tmp_path / "exports"


def _kickoff(client: Client, capture: Any, path: str = "/fhir/$export", **params: str) -> Any:
    with capture(execute=True):
        return client.get(path, params, **ASYNC)


def _status_path(response: Any) -> str:
    assert response.status_code == 202, response.content
    return response["Content-Location"].removeprefix("http://testserver")


def _ndjson(client: Client, url: str) -> list[dict[str, Any]]:
    response = client.get(url.removeprefix("http://testserver"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+ndjson"
    body = response.getvalue().decode()
    return [json.loads(line) for line in body.splitlines()]


def test_district_export_end_to_end(
    login,
    district_officer,
    neighbour_officer,
    make_person,
    make_records,
    area_tree,
    validate,
    django_capture_on_commit_callbacks,
):
    people = [make_person(full_name=f"Nguyễn Văn {n}") for n in ("An", "Bình", "Cường")]
    pool_mate = make_person(full_name="Trần Thị Hoa", sex="F")
    for person in people:
        make_records(person, doses=2, results=1)
    make_records(people[0], doses=0, results=0, pooled_with=[pool_mate])
    far = make_person(commune=area_tree["far_commune"], full_name="Phạm Văn Xa")
    make_records(far, doses=1, results=1)

    officer = login(district_officer)
    assert officer.get("/fhir/$export").status_code == 400  # no Prefer: respond-async
    status_path = _status_path(_kickoff(officer, django_capture_on_commit_callbacks))
    queued = officer.get(status_path)
    assert queued.status_code == 202
    assert queued["Retry-After"]
    assert login(neighbour_officer).get(status_path).status_code == 404

    run_queued_tasks()
    done = officer.get(status_path)
    assert done.status_code == 200
    manifest = done.json()
    assert manifest["requiresAccessToken"] is True
    counts = {item["type"]: item["count"] for item in manifest["output"]}
    assert counts == {
        "Patient": 4,
        "Immunization": 6,
        "Observation": 5,
        "DiagnosticReport": 5,
        "Specimen": 4,
        "Condition": 0,  # no home-care order here (covidhub/homecare/tests/test_fhir.py)
    }
    exported: dict[str, list[dict[str, Any]]] = {}
    for item in manifest["output"]:
        rows = _ndjson(officer, item["url"])
        assert len(rows) == item["count"]
        for row in rows:
            assert row["resourceType"] == item["type"]
            validate(row)
        exported[item["type"]] = rows
    assert str(far.uuid) not in {p["id"] for p in exported["Patient"]}
    # Another officer cannot download the files.
    url = manifest["output"][0]["url"].removeprefix("http://testserver")
    assert login(neighbour_officer).get(url).status_code == 404
    # Every exported person is on the audit trail, with the job.
    audited = set(
        AuditEvent.objects.filter(action="fhir.export.patient").values_list(
            "person_uuid", flat=True
        )
    )
    assert audited == {p.uuid for p in [*people, pool_mate]}

    # DELETE removes the files; the job is then gone for its requester too.
    job = ExportJob.objects.get()
    assert job_dir(job).exists()
    assert officer.delete(status_path).status_code == 202
    assert not job_dir(job).exists()
    assert officer.get(status_path).status_code == 404
    assert officer.get(url).status_code == 404


def test_area_since_and_types(
    login,
    district_officer,
    make_person,
    make_records,
    area_tree,
    django_capture_on_commit_callbacks,
):
    here = make_person()
    neighbour = make_person(commune=area_tree["neighbour_commune"], full_name="Lê Văn Bên")
    make_records(here, doses=1, results=1)
    make_records(neighbour, doses=1, results=0)
    officer = login(district_officer)
    status_path = _status_path(
        _kickoff(
            officer,
            django_capture_on_commit_callbacks,
            area="10510",
            _type="Patient,Immunization",
        )
    )
    run_queued_tasks()
    manifest = officer.get(status_path).json()
    assert {i["type"]: i["count"] for i in manifest["output"]} == {"Patient": 1, "Immunization": 1}

    future = (timezone.now() + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S+07:00")
    status_path = _status_path(_kickoff(officer, django_capture_on_commit_callbacks, _since=future))
    run_queued_tasks()
    counts = {i["type"]: i["count"] for i in officer.get(status_path).json()["output"]}
    assert set(counts.values()) == {0}


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"area": "10546"}, 404),  # another district's commune
        ({"area": "99999"}, 404),
        ({"_type": "Medication"}, 400),
        ({"_since": "yesterday"}, 400),
        ({"_outputFormat": "text/csv"}, 400),
        ({"colour": "blue"}, 400),
    ],
)
def test_bad_kickoffs_are_refused(
    login, district_officer, params, status, django_capture_on_commit_callbacks
):
    response = _kickoff(login(district_officer), django_capture_on_commit_callbacks, **params)
    assert response.status_code == status
    assert response.json()["resourceType"] == "OperationOutcome"
    assert not ExportJob.objects.exists()


def test_citizens_and_site_staff_may_not_export(
    login, citizen, make_staff, places, django_capture_on_commit_callbacks
):
    assert _kickoff(login(citizen), django_capture_on_commit_callbacks).status_code == 403
    sampler = make_staff("sampler", "sampler", unit_kind="site", unit_uuid=places["tsite"].uuid)
    assert _kickoff(login(sampler), django_capture_on_commit_callbacks).status_code == 403


def test_cancelled_before_the_worker_runs_writes_nothing(
    login, commune_officer, make_person, make_records, django_capture_on_commit_callbacks
):
    make_records(make_person(), doses=1, results=1)
    officer = login(commune_officer)
    status_path = _status_path(_kickoff(officer, django_capture_on_commit_callbacks))
    assert officer.delete(status_path).status_code == 202
    run_queued_tasks()
    job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.CANCELLED
    assert not job_dir(job).exists()


def test_expired_exports_are_gone_and_deleted(
    login, commune_officer, make_person, make_records, django_capture_on_commit_callbacks
):
    make_records(make_person(), doses=1, results=0)
    officer = login(commune_officer)
    status_path = _status_path(_kickoff(officer, django_capture_on_commit_callbacks))
    run_queued_tasks()
    job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.DONE and job_dir(job).exists()
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now())
    assert officer.get(status_path).status_code == 404
    assert exports_expire() == 1
    assert not job_dir(job).exists()


def test_session_delete_needs_the_csrf_token(
    commune_officer, login, django_capture_on_commit_callbacks
):
    officer = login(commune_officer)
    status_path = _status_path(_kickoff(officer, django_capture_on_commit_callbacks))
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = officer.cookies
    response = strict.delete(status_path)
    assert response.status_code == 403
    assert response.json()["resourceType"] == "OperationOutcome"
    assert ExportJob.objects.get().status == ExportJob.Status.QUEUED


def test_too_many_running_exports(login, commune_officer, django_capture_on_commit_callbacks):
    officer = login(commune_officer)
    for _ in range(3):
        assert _kickoff(officer, django_capture_on_commit_callbacks).status_code == 202
    assert _kickoff(officer, django_capture_on_commit_callbacks).status_code == 429
