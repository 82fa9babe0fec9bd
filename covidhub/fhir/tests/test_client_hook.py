"""The machine-client extension point: a bearer authenticator registered in
`access.bearer_authenticators` (as covidhub.clients does) gives a reader that is scoped by
its service account's areas, audited with the client named, and owns its exports."""

from __future__ import annotations

from typing import Any

import pytest

from covidhub.audit.models import AuditEvent
from covidhub.core.testing import run_queued_tasks
from covidhub.fhir import access
from covidhub.fhir.access import CLIENT, Reader

pytestmark = pytest.mark.django_db
TOKEN = "national-system-token"


@pytest.fixture
def client_account(make_staff: Any, area_tree: dict[str, Any]) -> Any:
    return make_staff("svc-national", "district_officer", area_tree["district"])


@pytest.fixture
def registered(client_account: Any, settings: Any, tmp_path: Any) -> Any:
    settings.FHIR_EXPORT_DIR = tmp_path / "exports"

    def authenticate(request: Any) -> Reader | None:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return None
        return Reader(kind=CLIENT, user=client_account, client_id="client-1")

    access.bearer_authenticators.append(authenticate)
    yield
    access.bearer_authenticators.remove(authenticate)


def test_client_reads_within_its_account_areas_and_is_audited(
    client, registered, make_person, make_records, area_tree
):
    here = make_person()
    far = make_person(commune=area_tree["far_commune"], full_name="Phạm Văn Xa")
    make_records(here, doses=1, results=0)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    assert client.get(f"/fhir/Patient/{here.uuid}", **headers).status_code == 200
    assert client.get(f"/fhir/Patient/{far.uuid}", **headers).status_code == 404
    event = AuditEvent.objects.get(action="fhir.patient.read")
    assert event.details == {"client": "client-1"}
    assert event.person_uuid == here.uuid
    # Another token is not this client's.
    assert client.get("/fhir/Patient", HTTP_AUTHORIZATION="Bearer other").status_code == 401


def test_client_export_belongs_to_the_client_only(
    client,
    login,
    registered,
    client_account,
    make_person,
    make_records,
    django_capture_on_commit_callbacks,
):
    make_records(make_person(), doses=1, results=1)
    headers = {
        "HTTP_AUTHORIZATION": f"Bearer {TOKEN}",
        "HTTP_PREFER": "respond-async",
        "HTTP_ACCEPT": "application/fhir+json",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get("/fhir/$export", {"area": "288"}, **headers)
    assert response.status_code == 202
    status_path = response["Content-Location"].removeprefix("http://testserver")
    run_queued_tasks()
    manifest = client.get(status_path, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert manifest.status_code == 200
    # The service account's own session is not the client: 404.
    assert login(client_account).get(status_path).status_code == 404
