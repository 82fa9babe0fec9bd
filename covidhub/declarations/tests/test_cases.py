"""Confirmed cases (F0): two officers, audited; F1 candidates from check-ins at the same
venues within the window; each officer reviews and notifies their own area's candidates,
once, in each person's language; a positive test result proposes a case."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from covidhub.audit.models import AuditEvent
from covidhub.declarations.models import Case, CheckIn, ExposureCandidate
from covidhub.declarations.receivers import positive_result_received
from covidhub.declarations.services import (
    case_approve,
    case_candidate_from_positive,
    case_propose,
    checkin_record,
    exposure_overlaps_find,
)
from covidhub.notifications.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_officer(make_staff, area_tree):
    return make_staff("officer2", "commune_officer", area_tree["commune"])


@pytest.fixture
def scene(citizen, citizen_person, venue, make_venue, owner, make_citizen, area_tree):
    """The case visits the market at 09:00; others come and go around it."""
    base = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time(9)))
    base -= datetime.timedelta(days=1)
    other_venue = make_venue(actor=owner, name="Quán phở")
    people = {}
    for label, phone, commune in [
        ("near", "+84912000101", "commune"),
        ("neighbour", "+84912000102", "neighbour_commune"),
        ("late", "+84912000103", "commune"),
        ("elsewhere", "+84912000104", "commune"),
        ("english", "+84912000105", "commune"),
    ]:
        account = make_citizen(phone, full_name=f"Người {label}", commune=area_tree[commune])
        people[label] = account.people.get()
    account = people["english"].managed_by
    account.language = "en"
    account.save()
    checkin_record(actor=citizen, venue=venue, people=[citizen_person], now=base)
    for label, minutes, where in [
        ("near", 30, venue),
        ("neighbour", -50, venue),
        ("english", 100, venue),  # within 60 min after the default one-hour stay
        ("late", 200, venue),  # outside the window
        ("elsewhere", 0, other_venue),  # another venue
    ]:
        person = people[label]
        checkin_record(
            actor=person.managed_by,
            venue=where,
            people=[person],
            now=base + datetime.timedelta(minutes=minutes),
        )
    return {"base": base, "people": people}


def test_one_officer_cannot_confirm_their_own_proposal(
    citizen_person, commune_officer, second_officer, login, scene
):
    client = login(commune_officer)
    response = client.post(
        "/api/v1/declarations/staff/cases",
        {"person": str(citizen_person.uuid), "onset_date": timezone.localdate().isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    case_uuid = response.json()["uuid"]
    refused = client.post(f"/api/v1/declarations/staff/cases/{case_uuid}/approve")
    assert refused.status_code == 403
    assert refused.json()["code"] == "second_officer_required"
    assert Case.objects.get().status == Case.Status.PENDING
    assert not ExposureCandidate.objects.exists()
    # The database holds the rule too.
    case = Case.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(status="confirmed", decided_by=commune_officer)

    approved = login(second_officer).post(f"/api/v1/declarations/staff/cases/{case_uuid}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "confirmed"
    assert AuditEvent.objects.filter(
        action="declarations.case.proposed", actor=commune_officer
    ).exists()
    assert AuditEvent.objects.filter(
        action="declarations.case.approved", actor=second_officer
    ).exists()
    again = login(second_officer).post(f"/api/v1/declarations/staff/cases/{case_uuid}/approve")
    assert again.status_code == 409


def test_a_neighbouring_officer_can_neither_propose_nor_approve(
    citizen_person, commune_officer, neighbour_officer, login
):
    client = login(neighbour_officer)
    response = client.post(
        "/api/v1/declarations/staff/cases",
        {"person": str(citizen_person.uuid), "onset_date": timezone.localdate().isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 404
    case = case_propose(
        actor=commune_officer, person=citizen_person, onset_date=timezone.localdate()
    )
    assert client.post(f"/api/v1/declarations/staff/cases/{case.uuid}/approve").status_code == 404
    assert client.get(f"/staff/declarations/cases/{case.uuid}/").status_code == 404


def test_tracing_finds_the_people_at_the_same_venue_within_the_window(
    citizen_person, commune_officer, second_officer, scene
):
    case = case_propose(
        actor=commune_officer, person=citizen_person, onset_date=timezone.localdate()
    )
    found = {o.person_id for o in exposure_overlaps_find(case=Case.objects.get(pk=case.pk))}
    people = scene["people"]
    assert found == {people["near"].pk, people["neighbour"].pk, people["english"].pk}
    case.window_minutes = 0  # a narrower window: only who came during the visit
    assert {o.person_id for o in exposure_overlaps_find(case=case)} == {people["near"].pk}
    case.window_minutes = 60
    case_approve(actor=second_officer, case=case)
    assert ExposureCandidate.objects.filter(case=case).count() == 3


def test_tracing_in_groups_of_visits_finds_the_same_people_and_first_overlaps(
    citizen_person, commune_officer, scene, monkeypatch
):
    from covidhub.declarations import services
    from covidhub.declarations.models import Venue

    # A second visit, at the pho shop, where "elsewhere" was at the same time.
    other = Venue.objects.get(name="Quán phở")
    checkin_record(actor=citizen_person.managed_by, venue=other, people=[citizen_person],
                   now=scene["base"] + datetime.timedelta(minutes=5))  # fmt: skip
    case = case_propose(
        actor=commune_officer, person=citizen_person, onset_date=timezone.localdate()
    )
    whole = exposure_overlaps_find(case=case)
    monkeypatch.setattr(services, "TRACE_RANGES_PER_QUERY", 1)  # one visit per statement
    assert exposure_overlaps_find(case=case) == whole
    people = scene["people"]
    assert {o.person_id for o in whole} == {
        people[label].pk for label in ("near", "neighbour", "english", "elsewhere")
    }
    assert [o.first_at for o in whole] == sorted(o.first_at for o in whole)


def test_each_officer_reviews_and_notifies_their_own_area_once_in_each_language(
    citizen_person, commune_officer, second_officer, neighbour_officer, login, scene
):
    case = case_propose(
        actor=commune_officer, person=citizen_person, onset_date=timezone.localdate()
    )
    case_approve(actor=second_officer, case=case)
    people = scene["people"]
    mine = login(commune_officer).get(f"/api/v1/declarations/staff/cases/{case.uuid}/candidates")
    assert {c["person"] for c in mine.json()["items"]} == {
        str(people["near"].uuid),
        str(people["english"].uuid),
    }
    theirs = login(neighbour_officer).get(
        f"/api/v1/declarations/staff/cases/{case.uuid}/candidates"
    )
    assert [c["person"] for c in theirs.json()["items"]] == [str(people["neighbour"].uuid)]
    # The neighbouring officer sees the case only through their candidate, without its name.
    detail = login(neighbour_officer).get(f"/api/v1/declarations/staff/cases/{case.uuid}").json()
    assert detail["full_name"] == "" and detail["person"] is None
    page = login(neighbour_officer).get(f"/staff/declarations/cases/{case.uuid}/").content.decode()
    assert citizen_person.full_name not in page and "Người neighbour" in page

    client = login(commune_officer)
    sent = client.post(
        f"/api/v1/declarations/staff/cases/{case.uuid}/notify", {}, content_type="application/json"
    )
    assert sent.json() == {"count": 2}
    again = client.post(
        f"/api/v1/declarations/staff/cases/{case.uuid}/notify", {}, content_type="application/json"
    )
    assert again.json() == {"count": 0}
    english = Message.objects.get(channel="inapp", user=people["english"].managed_by)
    assert english.language == "en" and "confirmed COVID-19 case" in english.body
    vietnamese = Message.objects.get(channel="inapp", user=people["near"].managed_by)
    assert vietnamese.language == "vi" and "Quán" not in vietnamese.body
    assert Message.objects.filter(channel="sms").count() == 2
    assert not Message.objects.filter(user=people["neighbour"].managed_by).exists()
    assert AuditEvent.objects.filter(
        action="declarations.exposure.notified", person_uuid=people["english"].uuid
    ).exists()
    assert citizen_person.full_name not in english.body


def test_the_case_pages_propose_and_approve(
    citizen_person, commune_officer, second_officer, login, scene
):
    type(citizen_person).objects.filter(pk=citizen_person.pk).update(phone="+84912345678")
    client = login(commune_officer)
    response = client.post(
        "/staff/declarations/cases/",
        {"query": "0912345678", "onset_date": timezone.localdate().isoformat()},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    case = Case.objects.get()
    page = login(second_officer).get(f"/staff/declarations/cases/{case.uuid}/")
    assert 'value="approve"' in page.content.decode()
    assert (
        'value="approve"'
        not in client.get(f"/staff/declarations/cases/{case.uuid}/").content.decode()
    )
    login(second_officer).post(f"/staff/declarations/cases/{case.uuid}/", {"action": "approve"})
    case.refresh_from_db()
    assert case.status == "confirmed" and case.decided_by == second_officer
    assert client.get("/staff/declarations/cases/").status_code == 200
    bad = client.post(
        "/staff/declarations/cases/", {"query": "0999999999", "onset_date": "2999-01-01"}
    )
    assert bad.status_code == 200 and Case.objects.count() == 1


def test_a_positive_result_proposes_a_case_that_one_officer_approves(
    citizen_person, commune_officer, scene
):
    onset = timezone.localdate() - datetime.timedelta(days=1)
    positive_result_received(
        sender=None, person=citizen_person, collected_on=onset, result_uuid="r-1"
    )
    positive_result_received(
        sender=None, person=citizen_person, collected_on=onset, result_uuid="r-1"
    )
    case = Case.objects.get()
    assert (
        case.source == Case.Source.TESTING and case.onset_date == onset and case.proposed_by is None
    )
    case_approve(actor=commune_officer, case=case)
    assert ExposureCandidate.objects.filter(case=case).count() == 3
    assert case_candidate_from_positive(person=citizen_person, onset=onset) is None


def test_testings_positive_result_signal_reaches_exposure_tracing(citizen_person):
    import importlib

    try:
        signals = importlib.import_module("covidhub.testing.signals")
    except ModuleNotFoundError:
        pytest.skip("testing has no signals module yet")
    collected_at = timezone.now() - datetime.timedelta(days=2)
    signals.positive_result_released.send(
        sender=None, person=citizen_person, collected_at=collected_at
    )
    case = Case.objects.get()
    assert case.onset_date == timezone.localdate(collected_at)
    assert case.status == Case.Status.PENDING and case.source == Case.Source.TESTING


def test_checkins_of_the_case_before_the_infectious_period_are_ignored(
    citizen, citizen_person, venue, commune_officer, make_citizen
):
    long_ago = timezone.now() - datetime.timedelta(days=10)
    checkin_record(actor=citizen, venue=venue, people=[citizen_person], now=long_ago)
    other = make_citizen("+84912000201").people.get()
    checkin_record(actor=other.managed_by, venue=venue, people=[other], now=long_ago)
    case = case_propose(
        actor=commune_officer, person=citizen_person, onset_date=timezone.localdate()
    )
    assert exposure_overlaps_find(case=case) == []
    assert CheckIn.objects.count() == 2
