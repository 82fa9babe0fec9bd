"""The API: every step, scoping (another site's or district's staff get 404), bad input,
AEFI escalation, list imports."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from covidhub.audit.models import AuditEvent
from covidhub.notifications.models import Message
from covidhub.vaccination.models import AdverseEvent, Booking, Dose, Registration

API = "/api/v1/vaccination"


def _json(client, method, url, data=None):
    return getattr(client, method)(url, data=data, content_type="application/json")


@pytest.fixture
def booked(citizen, citizen_person, register, site, make_session, make_lot, login):
    register(citizen_person)
    session = make_session(site=site)
    allocation = make_lot(site=site)
    response = _json(
        login(citizen),
        "post",
        f"{API}/me/bookings",
        {"person_uuid": str(citizen_person.uuid), "session": str(session.uuid)},
    )
    assert response.status_code == 201, response.json()
    return Booking.objects.get(uuid=response.json()["uuid"]), allocation


def test_every_step_through_the_api(booked, vaccinator, login, citizen, citizen_person):
    booking, allocation = booked
    staff = login(vaccinator)
    site = booking.session.site
    r = _json(staff, "post", f"{API}/staff/sites/{site.uuid}/checkin", {"code": booking.code})
    assert r.status_code == 200 and r.json()["status"] == "checked_in"
    r = _json(
        staff,
        "post",
        f"{API}/staff/bookings/{booking.uuid}/screening",
        {"answers": {}, "temperature": 36.5, "outcome": "vaccinate"},
    )
    assert r.status_code == 201, r.json()
    r = _json(
        staff,
        "post",
        f"{API}/staff/bookings/{booking.uuid}/dose",
        {"lot": str(allocation.lot.uuid)},
    )
    assert r.status_code == 201, r.json()
    assert r.json()["sequence"] == 1
    r = staff.get(f"{API}/staff/sites/{site.uuid}/observation")
    assert [row["person_uuid"] for row in r.json()["items"]] == [str(citizen_person.uuid)]
    mine = login(citizen).get(f"{API}/me").json()["items"]
    assert mine[0]["doses"][0]["vaccine_code"] == "astrazeneca"
    due = timezone.localdate() + datetime.timedelta(days=84)
    assert mine[0]["next_dose"]["due_on"] == due.isoformat()


def test_another_sites_vaccinator_gets_404(booked, other_vaccinator, login):
    booking, allocation = booked
    staff = login(other_vaccinator)
    site = booking.session.site
    assert (
        _json(
            staff, "post", f"{API}/staff/sites/{site.uuid}/checkin", {"code": booking.code}
        ).status_code
        == 404
    )
    assert staff.get(f"{API}/staff/sites/{site.uuid}/queue").status_code == 404
    r = _json(
        staff, "post", f"{API}/staff/bookings/{booking.uuid}/screening", {"outcome": "vaccinate"}
    )
    assert r.status_code == 404
    r = _json(
        staff,
        "post",
        f"{API}/staff/bookings/{booking.uuid}/dose",
        {"lot": str(allocation.lot.uuid)},
    )
    assert r.status_code == 404
    # Only the refusals are on record (denied access is audited); no read or write of the person.
    assert set(
        AuditEvent.objects.filter(actor=other_vaccinator).values_list("action", flat=True)
    ) == {"security.access.denied"}


def test_another_districts_officer_gets_404(
    booked, citizen_person, other_district_officer, district_officer, login
):
    other = login(other_district_officer)
    assert other.get(f"{API}/staff/people/{citizen_person.uuid}").status_code == 404
    session = booked[0].session
    r = _json(other, "post", f"{API}/staff/sessions/{session.uuid}/invitations", {"count": 1})
    assert r.status_code == 404
    own = login(district_officer).get(f"{API}/staff/people/{citizen_person.uuid}")
    assert own.status_code == 200
    assert AuditEvent.objects.filter(
        actor=district_officer, action="vaccination.person.viewed", person_uuid=citizen_person.uuid
    ).exists()


def test_the_neighbouring_officer_gets_404_on_pages(citizen_person, neighbour_officer, login):
    page = login(neighbour_officer).get(f"/staff/vaccination/people/{citizen_person.uuid}/")
    assert page.status_code == 404


def test_full_session_gives_a_clear_answer(
    citizen, citizen_person, make_citizen, register, site, make_session, login
):
    register(citizen_person)
    session = make_session(site=site, capacity=1)
    other = make_citizen("+84912777666", full_name="Vũ Văn Ba")
    register(other.people.get())
    assert (
        _json(
            login(other),
            "post",
            f"{API}/me/bookings",
            {"person_uuid": str(other.people.get().uuid), "session": str(session.uuid)},
        ).status_code
        == 201
    )
    r = _json(
        login(citizen),
        "post",
        f"{API}/me/bookings",
        {"person_uuid": str(citizen_person.uuid), "session": str(session.uuid)},
    )
    assert r.status_code == 409 and r.json()["code"] == "session_full"
    assert r.json()["message"]


def test_bad_api_fields_get_translated_messages_and_save_nothing(citizen, citizen_person, login):
    client = login(citizen)
    r = _json(
        client,
        "post",
        f"{API}/me/registrations",
        {
            "person_uuid": str(citizen_person.uuid),
            "priority_group": "g99",
            "health_answers": {"bogus": True},
        },
    )
    assert r.status_code == 422
    fields = r.json()["details"]["fields"]
    assert set(fields) == {"priority_group", "health_answers"}
    r = client.post(
        f"{API}/me/registrations",
        data={"person_uuid": "x"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="vi",
    )
    assert r.status_code == 422
    assert not Registration.objects.exists()


def test_serious_aefi_reaches_the_district_officers_at_once(
    booked, citizen, citizen_person, district_officer, other_district_officer, login
):
    district_officer.phone = "+84913000111"
    district_officer.save()
    r = _json(
        login(citizen),
        "post",
        f"{API}/me/reactions",
        {
            "person_uuid": str(citizen_person.uuid),
            "severity": "serious",
            "symptoms": "Khó thở, nổi mẩn toàn thân sau tiêm 20 phút",
            "onset_at": timezone.now().isoformat(),
        },
    )
    assert r.status_code == 201, r.json()
    event = AdverseEvent.objects.get()
    assert event.escalated_at is not None and event.reported_by_citizen
    assert Message.objects.filter(user=district_officer, channel="inapp").exists()
    sms = Message.objects.get(channel="sms", to="+84913000111")
    assert citizen_person.full_name not in sms.body
    assert not Message.objects.filter(user=other_district_officer).exists()
    listed = login(district_officer).get(f"{API}/staff/aefi").json()["items"]
    assert [row["severity"] for row in listed] == ["serious"]
    assert login(other_district_officer).get(f"{API}/staff/aefi").json()["items"] == []


def test_mild_aefi_is_not_escalated(booked, citizen, citizen_person, login):
    r = _json(
        login(citizen),
        "post",
        f"{API}/me/reactions",
        {
            "person_uuid": str(citizen_person.uuid),
            "severity": "mild",
            "symptoms": "Đau tại chỗ tiêm",
            "onset_at": timezone.now().isoformat(),
        },
    )
    assert r.status_code == 201
    assert AdverseEvent.objects.get().escalated_at is None
    assert not Message.objects.filter(channel="sms").exists()


CSV_HEADER = "Họ và tên,Ngày sinh,Giới tính,Số CCCD,Mã xã,Nhóm ưu tiên,Nghề nghiệp\n"


def _csv(rows):
    return SimpleUploadedFile("list.csv", (CSV_HEADER + "".join(rows)).encode(), "text/csv")


def test_import_reports_bad_rows_and_imports_nothing_or_only_good_rows(commune_officer, login):
    rows = [
        "Nguyễn Văn Một,15/03/1985,Nam,030085000101,10507,1,Bác sĩ\n",
        "Trần Thị Hai,02/11/1990,Nữ,030190000102,10507,5,\n",
        "Lê Văn Ba,bad-date,Nam,030085000103,10507,4,Giáo viên\n",
        "Nguyễn Văn Một,15/03/1985,Nam,030085000101,10507,3,\n",
        "Phạm Văn Tư,01/01/1970,Nam,030070000104,10546,11,\n",
    ]
    client = login(commune_officer)
    r = client.post(f"{API}/staff/registrations/import", {"file": _csv(rows), "source": "commune"})
    assert r.status_code == 422, r.content
    errors = r.json()["details"]["errors"]
    assert {(e["row"], e["field"]) for e in errors} == {(4, "birth"), (6, "commune")}
    assert not Registration.objects.exists()
    r = client.post(
        f"{API}/staff/registrations/import",
        {"file": _csv(rows), "source": "commune", "only_good_rows": "true"},
    )
    assert r.status_code == 200, r.content
    report = r.json()
    assert (report["imported"], report["merged"], report["created_people"]) == (2, 1, 2)
    assert Registration.objects.get(person__id_number="030085000101").priority_group == "g01"


def test_the_same_identity_number_is_merged_into_the_existing_person(
    commune_officer, login, make_person
):
    existing = make_person(full_name="Nguyễn Văn Một", id_type="cccd", id_number="030085000101")
    rows = ["Nguyễn Văn Một,15/03/1985,Nam,030085000101,10507,5,\n"]
    r = login(commune_officer).post(
        f"{API}/staff/registrations/import", {"file": _csv(rows), "source": "commune"}
    )
    assert r.status_code == 200 and r.json()["merged"] == 1
    assert Registration.objects.get().person == existing


def test_dose_elsewhere_through_the_api(citizen_person, district_officer, login):
    client = login(district_officer)
    evidence = SimpleUploadedFile("chung-nhan.pdf", b"%PDF-1.4 test", "application/pdf")
    r = client.post(
        f"{API}/staff/people/{citizen_person.uuid}/doses-elsewhere",
        {
            "vaccine": "pfizer",
            "administered_on": "2021-09-01",
            "place": "Singapore",
            "country": "SG",
            "evidence": evidence,
        },
    )
    assert r.status_code == 201, r.content
    dose = Dose.objects.get()
    assert dose.given_elsewhere and dose.evidence.name.endswith(".pdf")


def test_coverage_and_reports(booked, vaccinator, district_officer, login):
    client = login(district_officer)
    rows = client.get(f"{API}/staff/reports/coverage?by=age_band").json()["items"]
    assert [r["key"] for r in rows] == ["0-11", "12-17", "18-49", "50-64", "65+"]
    assert client.get(f"{API}/staff/reports/coverage?by=priority_group").status_code == 200
    assert client.get(f"{API}/staff/reports/stock").status_code == 200
    today = timezone.localdate().isoformat()
    assert (
        client.get(f"{API}/staff/reports/doses-per-day?since={today}&until={today}").status_code
        == 200
    )


def test_public_lists(client, db):
    vaccines = client.get(f"{API}/vaccines").json()["items"]
    sinopharm = next(v for v in vaccines if v["code"] == "sinopharm")
    assert (sinopharm["product_code"], sinopharm["manufacturer_code"]) == (
        "BBIBP-CorV",
        "ORG-100020693",
    )
    assert len(client.get(f"{API}/priority-groups").json()["items"]) == 12


def test_a_campaign_beyond_reach_is_404_whatever_site_the_body_names(
    area_tree: Any,
    vaccines: Any,
    site: Any,
    district_officer: Any,
    other_district_officer: Any,
    login: Any,
) -> None:
    """Issue 16 (the access matrix's loose entries): adding a session looked the campaign up
    unscoped, so a planner naming a campaign of another district with their own site got
    422 "this site is not part of the campaign" — the campaign exists — instead of 404."""
    from covidhub.vaccination.models import Campaign, Session

    today = timezone.localdate()
    far = Campaign.objects.create(
        name="Đợt tiêm Chí Linh",
        area=area_tree["other_district"],
        area_path=area_tree["other_district"].path,
        vaccine=vaccines["astrazeneca"],
        starts_on=today,
        ends_on=today + datetime.timedelta(days=30),
    )
    body = {
        "site": str(site.uuid),  # a site of the planner's own district
        "date": today.isoformat(),
        "starts_at": "08:00",
        "ends_at": "11:00",
        "capacity": 10,
    }
    url = f"/api/v1/vaccination/staff/campaigns/{far.uuid}/sessions"
    response = login(district_officer).post(url, body, content_type="application/json")
    assert response.status_code == 404
    assert (
        response.content
        == login(district_officer)
        .post(
            f"/api/v1/vaccination/staff/campaigns/{uuid.uuid4()}/sessions",
            body,
            content_type="application/json",
        )
        .content
    )
    assert not Session.objects.exists()
