"""The joined reads of the busy paths give what the ORM gives, field by field (UUIDs, dates,
times, JSON and booleans converted the same way on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.db import models
from django.utils import timezone

from covidhub.vaccination import fastreads, services
from covidhub.vaccination.models import Booking, Dose, Session


def _same(fast: models.Model, orm: models.Model) -> None:
    assert type(fast) is type(orm)
    for field in orm._meta.concrete_fields:
        assert getattr(fast, field.attname) == getattr(orm, field.attname), field.attname


@pytest.mark.django_db
def test_session_with_campaign_matches_the_orm(site, make_session):
    session = make_session(site=site, groups=["g01", "g05"], vaccine="pfizer")
    fast = fastreads.session_with_campaign(session.uuid)
    assert fast is not None
    orm = Session.objects.select_related("campaign__vaccine", "site").get(pk=session.pk)
    _same(fast, orm)
    _same(fast.campaign, orm.campaign)
    _same(fast.campaign.vaccine, orm.campaign.vaccine)
    _same(fast.site, orm.site)
    assert fast.campaign.priority_groups == ["g01", "g05"]
    assert isinstance(fast.starts_at, datetime.time) and isinstance(fast.uuid, uuid.UUID)
    assert fastreads.session_with_campaign(uuid.uuid4()) is None


@pytest.mark.django_db
def test_booking_with_site_and_person_matches_the_orm(
    citizen, citizen_person, register, site, make_session
):
    register(citizen_person)
    booking = services.booking_create(
        actor=citizen, person=citizen_person, session=make_session(site=site)
    )
    fast = fastreads.booking_with_site_and_person(booking.uuid)
    assert fast is not None
    orm = Booking.objects.select_related("session__site", "person").get(pk=booking.pk)
    _same(fast, orm)
    _same(fast.session, orm.session)
    _same(fast.session.site, orm.session.site)
    _same(fast.person, orm.person)
    assert fastreads.booking_with_site_and_person(uuid.uuid4()) is None


@pytest.mark.django_db
def test_dose_history_matches_the_orm_and_skips_voided_doses(
    citizen_person, district_officer, vaccines
):
    for code, days in (("astrazeneca", 200), ("astrazeneca", 120), ("pfizer", 10)):
        services.dose_record_elsewhere(
            actor=district_officer,
            person=citizen_person,
            vaccine=vaccines[code],
            administered_on=timezone.localdate() - datetime.timedelta(days=days),
            place="Bệnh viện Bạch Mai",
            evidence_note="Giấy xác nhận",
        )
    voided = Dose.objects.get(person=citizen_person, sequence=3)
    Dose.objects.filter(pk=voided.pk).update(status=Dose.Status.VOIDED)
    history = fastreads.dose_history(citizen_person.pk)
    expected = [
        (d.sequence, d.vaccine, d.series, d.dose_number, d.day)
        for d in Dose.objects.filter(person=citizen_person, status="valid")
        .select_related("vaccine")
        .order_by("sequence")
    ]
    assert [
        (sequence, f.vaccine, f.series, f.dose_number, f.day) for sequence, f in history
    ] == expected
    assert [sequence for sequence, _fact in history] == [1, 2]
    assert history[0][1].vaccine.min_interval_days == vaccines["astrazeneca"].min_interval_days
    assert isinstance(history[0][1].day, datetime.date)


@pytest.mark.django_db
def test_household_person_with_registration(
    citizen, citizen_person, make_citizen, register, django_assert_num_queries
):
    from covidhub.vaccination.models import Registration

    found = fastreads.household_person_with_registration(
        account=citizen, person_uuid=citizen_person.uuid
    )
    assert found is not None
    _same(found, citizen_person.__class__.objects.get(pk=citizen_person.pk))
    with django_assert_num_queries(0), pytest.raises(Registration.DoesNotExist):
        found.vaccination_registration  # noqa: B018 - known absent, without a query
    registration = register(citizen_person, "g07")
    found = fastreads.household_person_with_registration(
        account=citizen, person_uuid=citizen_person.uuid
    )
    assert found is not None
    expected = Registration.objects.get(pk=registration.pk)
    with django_assert_num_queries(0):
        _same(found.vaccination_registration, expected)
    # Someone else's household: not found.
    other = make_citizen("+84912555444", full_name="Đỗ Thị Tư")
    assert (
        fastreads.household_person_with_registration(account=other, person_uuid=citizen_person.uuid)
        is None
    )


@pytest.mark.django_db
def test_allocation_at_site_matches_the_orm(site, other_site, make_lot):
    from covidhub.vaccination.models import LotAllocation

    allocation = make_lot(site=site, vaccine="moderna")
    make_lot(site=other_site)
    for key in (allocation.lot.uuid, str(allocation.lot.uuid)):
        fast = fastreads.allocation_at_site(site_id=site.pk, lot_uuid=key)
        assert fast is not None
        orm = LotAllocation.objects.select_related("lot__vaccine").get(pk=allocation.pk)
        _same(fast, orm)
        _same(fast.lot, orm.lot)
        _same(fast.lot.vaccine, orm.lot.vaccine)
    # The lot is not allocated to the other site.
    assert fastreads.allocation_at_site(site_id=other_site.pk, lot_uuid=allocation.lot.uuid) is None


@pytest.mark.django_db
def test_status_lock_creates_then_returns_the_stored_summary(
    citizen_person, register, district_officer, vaccines
):
    from covidhub.vaccination.models import PersonVaccination
    from covidhub.vaccination.services.day import status_lock

    register(citizen_person, "g03")
    created = status_lock(citizen_person)
    assert (created.doses, created.priority_group, created.reminded_for) == (0, "g03", "")
    _same(created, PersonVaccination.objects.get(person=citizen_person))
    services.dose_record_elsewhere(
        actor=district_officer,
        person=citizen_person,
        vaccine=vaccines["pfizer"],
        administered_on=timezone.localdate() - datetime.timedelta(days=5),
        place="Bệnh viện Bạch Mai",
        evidence_note="Giấy xác nhận",
    )
    PersonVaccination.objects.filter(person=citizen_person).update(reminded_for="2:20300101")
    again = status_lock(citizen_person)
    assert again.pk == created.pk and again.doses == 1 and again.reminded_for == "2:20300101"
    _same(again, PersonVaccination.objects.get(person=citizen_person))
    assert isinstance(again.last_dose_on, datetime.date)
