"""A partner laboratory's system records results through the API with its own client:
the lab page's validation, idempotency and four-eyes rules, the same services."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.test import Client

from covidhub.audit.models import AuditEvent
from covidhub.clients import services as clients
from covidhub.testing.models import Amendment, Result, TubeResult

pytestmark = pytest.mark.django_db


@pytest.fixture
def lab_client(province_admin: Any, lab: Any) -> Any:
    return clients.client_register(
        actor=province_admin,
        name="Hệ thống LIS của CDC",
        kind="partner_lab",
        access={"testing": "write"},
        area=None,
        unit_kind="lab",
        unit_uuid=lab.uuid,
    )


def _api(credentials: Any) -> Client:
    basic = base64.b64encode(
        f"{credentials.client_id}:{credentials.client_secret}".encode()
    ).decode()
    answer = Client().post(
        "/oauth/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    assert answer.status_code == 200, answer.content
    return Client(HTTP_AUTHORIZATION=f"Bearer {answer.json()['access_token']}")


def test_lab_client_records_a_result_once(
    lab_client: Any, lab: Any, other_lab: Any, collected_tube: Any, make_person: Any
) -> None:
    tube = collected_tube([make_person()])
    api = _api(lab_client)
    url = f"/api/v1/testing/labs/{lab.uuid}/results"
    body = {"barcode": tube.barcode, "value": "âm tính", "ct_value": None}
    # Validation: the lab page's message, nothing recorded.
    bad = api.post(url, {**body, "value": "maybe"}, content_type="application/json")
    assert bad.status_code == 422
    assert not TubeResult.objects.exists()
    first = api.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="lis-0001")
    assert first.status_code == 201, first.content
    # A retry with the same key, even with a fresh token, is the same call.
    again = _api(lab_client).post(
        url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="lis-0001"
    )
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    # Without the key: the tube already has its result.
    twice = api.post(url, body, content_type="application/json")
    assert twice.status_code == 409
    assert twice.json()["code"] == "result_already_recorded"
    assert TubeResult.objects.count() == 1
    account = lab_client.client.account
    assert TubeResult.objects.get().recorded_by_id == account.pk
    assert AuditEvent.objects.filter(action="testing.tube_result.recorded", actor=account).exists()
    # Another laboratory is not found.
    other = api.post(
        f"/api/v1/testing/labs/{other_lab.uuid}/results", body, content_type="application/json"
    )
    assert other.status_code == 404


def test_lab_clients_correction_waits_for_a_technician(
    lab_client: Any, lab: Any, technician: Any, collected_tube: Any, make_person: Any, login: Any
) -> None:
    person = make_person()
    tube = collected_tube([person])
    api = _api(lab_client)
    recorded = api.post(
        f"/api/v1/testing/labs/{lab.uuid}/results",
        {"barcode": tube.barcode, "value": "negative"},
        content_type="application/json",
    )
    assert recorded.status_code == 201
    asked = api.post(
        f"/api/v1/testing/tube-results/{recorded.json()['uuid']}/amendments",
        {"new_value": "positive", "new_ct_value": "24.5", "reason": "Instrument re-read"},
        content_type="application/json",
    )
    assert asked.status_code == 201, asked.content
    amendment_uuid = asked.json()["uuid"]
    assert Result.objects.get(person=person).outcome == "negative"
    # The system cannot approve its own correction (nor any: it is not a second person).
    self_approval = api.post(
        f"/api/v1/testing/amendments/{amendment_uuid}/decide",
        {"approve": True},
        content_type="application/json",
    )
    assert self_approval.status_code == 403
    assert self_approval.json()["code"] == "amendment_second_technician"
    assert Amendment.objects.get().status == "pending"
    # A technician of the laboratory approves it.
    decided = login(technician).post(
        f"/api/v1/testing/amendments/{amendment_uuid}/decide",
        {"approve": True},
        content_type="application/json",
    )
    assert decided.status_code == 200, decided.content
    assert Amendment.objects.get().status == "approved"
    assert Result.objects.get(person=person).outcome == "positive"


def test_lab_client_without_write_scope_is_refused(
    province_admin: Any, lab: Any, collected_tube: Any, make_person: Any
) -> None:
    reader = clients.client_register(
        actor=province_admin,
        name="Chỉ đọc",
        kind="partner_lab",
        access={"testing": "read"},
        area=None,
        unit_kind="lab",
        unit_uuid=lab.uuid,
    )
    tube = collected_tube([make_person()])
    answer = _api(reader).post(
        f"/api/v1/testing/labs/{lab.uuid}/results",
        {"barcode": tube.barcode, "value": "negative"},
        content_type="application/json",
    )
    assert answer.status_code == 403
    assert not TubeResult.objects.exists()
