"""Finding 2 of issue 16: a citizen rewrote the identity on signed certificates.

Once a person has a dose, result or certificate, their identity is locked for every edit
(API and web, citizen and staff: one rule in `person_update`); a change is a correction
request that an officer of their commune, not the requester, approves with evidence;
only then are the certificates re-issued, the old ones revoked.
"""

import datetime
import json

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from covidhub.audit.models import AuditEvent
from covidhub.certificates.models import IssuedCertificate
from covidhub.certificates.verification import certificate_verify
from covidhub.core.testing import run_queued_tasks
from covidhub.testing.tests.conftest import (  # noqa: F401 - fixtures
    collected_tube,
    lab,
    pcr_session,
    sampler,
    site,
    technician,
)

pytestmark = pytest.mark.django_db

NEW_IDENTITY = {
    "full_name": "Lê Thị Giả",
    "birth": "01/01/1990",
    "sex": "F",
    "id_type": "cccd",
    "id_number": "030190009999",
}


@pytest.fixture
def vaccinated(signing_key, district_officer, citizen_person, django_capture_on_commit_callbacks):
    """The citizen's own person with a dose and its signed certificate."""
    from covidhub.vaccination.models import Vaccine
    from covidhub.vaccination.services.day import dose_record_elsewhere

    with django_capture_on_commit_callbacks(execute=True):
        dose_record_elsewhere(
            actor=district_officer,
            person=citizen_person,
            vaccine=Vaccine.objects.get(code="pfizer"),
            administered_on=timezone.localdate() - datetime.timedelta(days=30),
            place="Bệnh viện Bạch Mai, Hà Nội",
            evidence_note="Giấy xác nhận tiêm số 123",
        )
    with django_capture_on_commit_callbacks(execute=True):
        run_queued_tasks()
    return citizen_person


def _bearer(user):
    from covidhub.accounts.services import api_token_issue

    client = Client()
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {api_token_issue(user=user).token}"
    return client


def _body(person, **identity):
    return {
        **NEW_IDENTITY,
        "commune": person.commune.code,
        "phone": person.phone,
        **identity,
    }


def test_citizen_put_cannot_rewrite_the_identity_of_a_vaccinated_person(
    vaccinated, citizen, django_capture_on_commit_callbacks
):
    certificate = IssuedCertificate.objects.get(person=vaccinated)
    response = _bearer(citizen).put(
        f"/api/v1/household/{vaccinated.uuid}",
        _body(vaccinated),
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "identity_locked"
    assert set(response.json()["details"]["locked_fields"]) == {
        "full_name",
        "birth",
        "sex",
        "id_number",
    }
    vaccinated.refresh_from_db()
    assert vaccinated.full_name == "Nguyễn Văn Thử" and vaccinated.id_number == ""
    with django_capture_on_commit_callbacks(execute=True):
        run_queued_tasks()
    assert IssuedCertificate.objects.filter(person=vaccinated).count() == 1
    outcome = certificate_verify(text=certificate.hc1)
    assert outcome.valid and outcome.given_name != "Thị Giả"
    # Fields that are not on certificates stay editable.
    ok = _bearer(citizen).put(
        f"/api/v1/household/{vaccinated.uuid}",
        _body(
            vaccinated,
            full_name=vaccinated.full_name,
            birth="15/03/1985",
            sex="M",
            id_type="",
            id_number="",
            address_line="Số 5 Nguyễn Du",
        ),
        content_type="application/json",
    )
    assert ok.status_code == 200, ok.content
    vaccinated.refresh_from_db()
    assert vaccinated.address_line == "Số 5 Nguyễn Du"


def test_web_edit_page_shows_the_identity_locked_and_ignores_a_posted_change(
    vaccinated, citizen, login
):
    client = login(citizen)
    page = client.get(f"/me/household/{vaccinated.uuid}/", HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="full_name"' in html and "disabled" in html
    assert "Request a correction" in html
    response = client.post(
        f"/me/household/{vaccinated.uuid}/",
        {**_body(vaccinated), "idempotency_key": ""},
    )
    assert response.status_code == 302
    vaccinated.refresh_from_db()
    assert vaccinated.full_name == "Nguyễn Văn Thử" and vaccinated.sex == "M"


def test_staff_edit_of_a_locked_identity_is_refused_too(vaccinated, commune_officer, login):
    response = login(commune_officer).put(
        f"/api/v1/staff/people/{vaccinated.uuid}",
        json.dumps(_body(vaccinated)),
        content_type="application/json",
    )
    assert response.status_code == 409 and response.json()["code"] == "identity_locked"


def test_correction_approved_by_the_commune_reissues_and_revokes(
    vaccinated,
    citizen,
    commune_officer,
    neighbour_officer,
    login,
    django_capture_on_commit_callbacks,
):
    old = IssuedCertificate.objects.get(person=vaccinated)
    api = _bearer(citizen)
    body = {**NEW_IDENTITY, "full_name": "Nguyễn Văn Thủ", "sex": "M", "id_number": "030090001234"}
    body["reason"] = "Tên bị ghi sai dấu tại điểm tiêm"
    extra = api.post(
        f"/api/v1/household/{vaccinated.uuid}/corrections",
        {**body, "approved": True},
        content_type="application/json",
    )
    assert extra.status_code == 422  # unknown fields are refused
    created = api.post(
        f"/api/v1/household/{vaccinated.uuid}/corrections", body, content_type="application/json"
    )
    assert created.status_code == 201, created.content
    request_uuid = created.json()["uuid"]
    assert created.json()["status"] == "pending"
    assert created.json()["proposed"]["id_number"] == "••••••••1234"
    vaccinated.refresh_from_db()
    assert vaccinated.full_name == "Nguyễn Văn Thử"  # nothing changes before a decision
    again = api.post(
        f"/api/v1/household/{vaccinated.uuid}/corrections", body, content_type="application/json"
    )
    assert again.status_code == 409 and again.json()["code"] == "correction_pending"

    # An officer of another commune does not see it at all.
    neighbour = login(neighbour_officer)
    base = f"/api/v1/staff/people/corrections/{request_uuid}"
    assert neighbour.get(base).status_code == 404
    refused = neighbour.post(
        f"{base}/approve", {"evidence_note": "seen"}, content_type="application/json"
    )
    assert refused.status_code == 404
    assert neighbour.get("/api/v1/staff/people/corrections").json()["items"] == []
    assert neighbour.get(f"/staff/corrections/{request_uuid}/").status_code == 404

    officer = login(commune_officer)
    queue = officer.get("/api/v1/staff/people/corrections").json()["items"]
    assert [row["uuid"] for row in queue] == [request_uuid]
    assert queue[0]["proposed"]["id_number"] == "030090001234"
    no_evidence = officer.post(
        f"{base}/approve", {"evidence_note": ""}, content_type="application/json"
    )
    assert no_evidence.status_code == 422
    with django_capture_on_commit_callbacks(execute=True):
        approved = officer.post(
            f"{base}/approve",
            {"evidence_note": "CCCD gốc đã xem, khớp", "evidence_reference": "HS-2021-001"},
            content_type="application/json",
        )
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved"
    with django_capture_on_commit_callbacks(execute=True):
        run_queued_tasks()
    vaccinated.refresh_from_db()
    assert vaccinated.full_name == "Nguyễn Văn Thủ" and vaccinated.id_number == "030090001234"
    assert vaccinated.birth_date == datetime.date(1990, 1, 1)
    old.refresh_from_db()
    assert old.revoked_at is not None
    assert certificate_verify(text=old.hc1).reason == "revoked"
    new = old.superseded_by
    assert certificate_verify(text=new.hc1).valid and new.payload["dob"] == "1990-01-01"
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "people.correction.requested",
        "people.correction.approved",
        "certificates.certificate.reissued",
        "certificates.certificate.revoked",
    } <= actions or {
        "people.correction.requested",
        "people.correction.approved",
        "certificates.certificate.reissued",
    } <= actions
    approval = AuditEvent.objects.get(action="people.correction.approved")
    assert approval.actor == commune_officer and approval.person_uuid == vaccinated.uuid
    decided = officer.post(f"{base}/reject", {"reason": "late"}, content_type="application/json")
    assert decided.status_code == 409 and decided.json()["code"] == "correction_decided"


def test_an_officers_own_correction_needs_a_second_officer(
    vaccinated, commune_officer, district_officer, login, django_capture_on_commit_callbacks
):
    officer = login(commune_officer)
    created = officer.post(
        f"/api/v1/staff/people/{vaccinated.uuid}/corrections",
        {
            **NEW_IDENTITY,
            "full_name": "Nguyễn Văn Thủ",
            "sex": "M",
            "id_number": "",
            "id_type": "",
            "reason": "Sai chính tả",
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    base = f"/api/v1/staff/people/corrections/{created.json()['uuid']}"
    own = officer.post(f"{base}/approve", {"evidence_note": "me"}, content_type="application/json")
    assert own.status_code == 403 and own.json()["code"] == "four_eyes"
    page = officer.get(f"/staff/corrections/{created.json()['uuid']}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "another officer must decide" in page.content.decode()
    vaccinated.refresh_from_db()
    assert vaccinated.full_name == "Nguyễn Văn Thử"
    # The database holds the rule as well.
    from covidhub.people.models import CorrectionRequest

    request = CorrectionRequest.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        CorrectionRequest.objects.filter(pk=request.pk).update(
            status="approved", decided_by=commune_officer, decided_at=timezone.now()
        )
    with django_capture_on_commit_callbacks(execute=True):
        second = login(district_officer).post(
            f"/staff/corrections/{request.uuid}/",
            {"decision": "approve", "evidence_note": "Giấy khai sinh đã xem"},
        )
    assert second.status_code == 302
    vaccinated.refresh_from_db()
    assert vaccinated.full_name == "Nguyễn Văn Thủ"


def test_rejection_keeps_the_identity_and_tells_the_reason(
    vaccinated, citizen, commune_officer, login
):
    client = login(citizen)
    response = client.post(
        f"/me/household/{vaccinated.uuid}/correction/",
        {**_body(vaccinated), "reason": "Muốn đổi tên"},
    )
    assert response.status_code == 302
    from covidhub.people.models import CorrectionRequest

    request = CorrectionRequest.objects.get(person=vaccinated)
    officer = login(commune_officer)
    queue = officer.get("/staff/corrections/")
    assert vaccinated.full_name in queue.content.decode()
    detail = officer.get(f"/staff/corrections/{request.uuid}/")
    assert detail.status_code == 200 and "030190009999" in detail.content.decode()
    empty = officer.post(f"/staff/corrections/{request.uuid}/", {"decision": "reject"})
    assert empty.status_code == 422
    rejected = officer.post(
        f"/staff/corrections/{request.uuid}/",
        {"decision": "reject", "reason": "Không có giấy tờ chứng minh"},
    )
    assert rejected.status_code == 302
    vaccinated.refresh_from_db()
    assert vaccinated.full_name == "Nguyễn Văn Thử"
    mine = _bearer(citizen).get("/api/v1/household/corrections").json()["items"]
    assert mine[0]["status"] == "rejected"
    assert mine[0]["decision_note"] == "Không có giấy tờ chứng minh"
    assert AuditEvent.objects.filter(action="people.correction.rejected").count() == 1
    from covidhub.notifications.models import Message

    told = Message.objects.get(user=citizen, channel="inapp")
    assert "Không có giấy tờ chứng minh" in told.body


def test_a_released_test_result_alone_locks_the_identity(
    make_person,
    collected_tube,  # noqa: F811
    technician,  # noqa: F811
    lab,  # noqa: F811
):
    from covidhub.people.locks import person_identity_locked
    from covidhub.testing import results

    person = make_person(full_name="Vũ Thị Âm", sex="F")
    other = make_person(full_name="Đỗ Văn Dương")
    collected_tube([person], barcode="NEG00001")
    assert not person_identity_locked(person)  # a sample alone carries no signed identity
    results.tube_result_record(actor=technician, lab=lab, barcode="NEG00001", value="negative")
    assert person_identity_locked(person)
    assert not person_identity_locked(other)
