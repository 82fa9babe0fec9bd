"""The vaccination day through the services: check-in, screening, injection, observation;
the vaccines' rules, stock, and doses given elsewhere."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from django.utils.translation import gettext as _

from covidhub.audit.models import AuditEvent
from covidhub.core.dates import date_text
from covidhub.core.errors import InvalidInput, NotFound
from covidhub.vaccination import services
from covidhub.vaccination.errors import (
    AgeNotAllowed,
    LotUnusable,
    SessionFull,
    TooEarly,
    WrongStep,
    WrongVaccine,
)
from covidhub.vaccination.models import Booking, Dose, LotAllocation, PersonVaccination, Session
from covidhub.vaccination.signals import dose_recorded


def _elsewhere(officer, person, vaccine, days_ago):
    return services.dose_record_elsewhere(
        actor=officer,
        person=person,
        vaccine=vaccine,
        administered_on=timezone.localdate() - datetime.timedelta(days=days_ago),
        place="Bệnh viện Bạch Mai, Hà Nội",
        evidence_note="Giấy xác nhận tiêm chủng số 123",
    )


def _to_injection(citizen, person, session, vaccinator):
    booking = services.booking_create(actor=citizen, person=person, session=session)
    services.checkin_record(actor=vaccinator, site=session.site, text=booking.code)
    booking.refresh_from_db()
    services.screening_record(
        actor=vaccinator, booking=booking, answers={}, temperature=36.6, outcome="vaccinate"
    )
    return booking


def test_the_four_steps_record_a_dose_and_the_next_due_date(
    citizen,
    citizen_person,
    register,
    site,
    vaccinator,
    make_session,
    make_lot,
    django_capture_on_commit_callbacks,
):
    register(citizen_person)
    session = make_session(site=site)
    allocation = make_lot(site=site, doses=5)
    booking = services.booking_create(actor=citizen, person=citizen_person, session=session)
    assert booking.status == Booking.Status.CONFIRMED and booking.dose_number == 1

    checked = services.checkin_record(
        actor=vaccinator, site=site, text=citizen_person.id_number or booking.code
    )
    assert checked.status == Booking.Status.CHECKED_IN
    with pytest.raises(InvalidInput) as refused:
        services.screening_record(
            actor=vaccinator,
            booking=checked,
            answers={"fever": True},
            temperature=38.2,
            outcome="vaccinate",
        )
    assert "outcome" in refused.value.details["fields"]
    services.screening_record(
        actor=vaccinator,
        booking=checked,
        answers={"age_65": True},
        temperature=36.8,
        outcome="vaccinate",
    )
    received = []
    dose_recorded.connect(lambda sender, dose, person, **kw: received.append(dose.pk), weak=False)
    with django_capture_on_commit_callbacks(execute=True):
        dose = services.dose_record(actor=vaccinator, booking=checked, lot_uuid=allocation.lot.uuid)
    assert (dose.series, dose.dose_number, dose.sequence) == ("primary", 1, 1)
    assert dose.vaccinator == vaccinator and dose.lot == allocation.lot
    assert received == [dose.pk]
    allocation.refresh_from_db()
    assert allocation.doses_used == 1
    status = PersonVaccination.objects.get(person=citizen_person)
    today = timezone.localdate()
    assert status.next_earliest_on == today + datetime.timedelta(days=56)  # AstraZeneca 8 weeks
    assert status.next_due_on == today + datetime.timedelta(days=84)  # … to 12 weeks
    assert AuditEvent.objects.filter(
        action="vaccination.dose.recorded", person_uuid=citizen_person.uuid
    ).exists()
    # The observation list shows who may leave when.
    from covidhub.vaccination.selectors import observation_list

    (watched,) = observation_list(actor=vaccinator, site=site)
    assert watched.observation_ends_at == dose.administered_at + datetime.timedelta(minutes=30)


def test_injection_needs_check_in_and_screening(
    citizen, citizen_person, register, site, vaccinator, make_session, make_lot
):
    register(citizen_person)
    allocation = make_lot(site=site)
    booking = services.booking_create(
        actor=citizen, person=citizen_person, session=make_session(site=site)
    )
    with pytest.raises(WrongStep) as refused:
        services.dose_record(actor=vaccinator, booking=booking, lot_uuid=allocation.lot.uuid)
    assert refused.value.message == _("Check the person in and screen them before the injection.")
    services.checkin_record(actor=vaccinator, site=site, text=booking.code)
    with pytest.raises(WrongStep) as refused:
        services.dose_record(actor=vaccinator, booking=booking, lot_uuid=allocation.lot.uuid)
    assert refused.value.message == _("The screening must conclude “vaccinate now” first.")
    assert not Dose.objects.exists()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CHECKED_IN
    assert not PersonVaccination.objects.filter(person=citizen_person).exists()
    services.screening_record(
        actor=vaccinator, booking=booking, answers={}, temperature=36.6, outcome="vaccinate"
    )
    services.dose_record(actor=vaccinator, booking=booking, lot_uuid=allocation.lot.uuid)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.VACCINATED
    with pytest.raises(WrongStep):
        services.dose_record(actor=vaccinator, booking=booking, lot_uuid=allocation.lot.uuid)
    assert Dose.objects.count() == 1


def test_a_dose_rewrites_the_summary_but_keeps_its_reminder(
    citizen,
    citizen_person,
    register,
    site,
    vaccinator,
    district_officer,
    make_session,
    make_lot,
    vaccines,
):
    register(citizen_person, "g01")
    _elsewhere(district_officer, citizen_person, vaccines["astrazeneca"], 60)
    status = PersonVaccination.objects.get(person=citizen_person)
    assert (status.doses, status.priority_group) == (1, "g01")
    PersonVaccination.objects.filter(pk=status.pk).update(reminded_for="2:20210101")
    from covidhub.vaccination.models import Registration

    Registration.objects.filter(person=citizen_person).update(priority_group="g05")
    allocation = make_lot(site=site)
    booking = _to_injection(citizen, citizen_person, make_session(site=site), vaccinator)
    dose = services.dose_record(actor=vaccinator, booking=booking, lot_uuid=allocation.lot.uuid)
    assert (dose.series, dose.dose_number, dose.sequence) == ("primary", 2, 2)
    status.refresh_from_db()
    assert (status.doses, status.primary_doses, status.primary_complete) == (2, 2, True)
    assert status.last_dose_on == timezone.localdate()
    assert status.priority_group == "g05"
    assert status.reminded_for == "2:20210101"
    assert PersonVaccination.objects.filter(person=citizen_person).count() == 1


def test_booking_and_dose_stay_within_their_round_trips(
    citizen,
    citizen_person,
    register,
    site,
    vaccinator,
    make_session,
    make_lot,
    django_assert_max_num_queries,
):
    """The busiest writes of a campaign day: a regression guard on their queries."""
    register(citizen_person)
    session = make_session(site=site)
    allocation = make_lot(site=site)
    # The doses, the booking, its audit row, the place (and a savepoint pair); the
    # registration came with the person (one more query when it did not).
    with django_assert_max_num_queries(7):
        booking = services.booking_create(actor=citizen, person=citizen_person, session=session)
    services.checkin_record(actor=vaccinator, site=site, text=booking.code)
    booking.refresh_from_db()
    services.screening_record(
        actor=vaccinator, booking=booking, answers={}, temperature=36.6, outcome="vaccinate"
    )
    # The lot, the person's summary (created and locked), the booking's step, the doses,
    # the dose, the summary, the audit row, the stock, the certificate's queue row (and a
    # savepoint pair); before: 20, and a task row of its own after the commit.
    with django_assert_max_num_queries(11):
        services.dose_record(actor=vaccinator, booking=booking, lot_uuid=allocation.lot.uuid)


@pytest.mark.parametrize(
    ("vaccine", "days_ago", "allowed"),
    [
        ("astrazeneca", 55, False),  # 8 weeks minimum
        ("astrazeneca", 56, True),
        ("pfizer", 20, False),  # 3 weeks
        ("pfizer", 21, True),
        ("moderna", 27, False),  # 4 weeks
        ("moderna", 28, True),
        ("sinopharm", 20, False),  # 3–4 weeks
        ("sinopharm", 21, True),
        ("sputnik-v", 20, False),
        ("sputnik-v", 21, True),
        ("abdala", 13, False),  # 14 days
        ("abdala", 14, True),
    ],
)
def test_interval_rules(
    vaccine,
    days_ago,
    allowed,
    citizen,
    citizen_person,
    register,
    site,
    vaccinator,
    district_officer,
    make_session,
    make_lot,
    vaccines,
):
    register(citizen_person)
    _elsewhere(district_officer, citizen_person, vaccines[vaccine], days_ago)
    allocation = make_lot(site=site, vaccine=vaccine)
    session = make_session(site=site, vaccine=vaccine)
    if not allowed:
        with pytest.raises(TooEarly) as refused:
            services.booking_create(actor=citizen, person=citizen_person, session=session)
        earliest = timezone.localdate() + datetime.timedelta(
            days=vaccines[vaccine].min_interval_days - days_ago
        )
        assert date_text(earliest) in str(refused.value.message)  # the active language's
        return
    booking = _to_injection(citizen, citizen_person, session, vaccinator)
    dose = services.dose_record(actor=vaccinator, booking=booking, lot_uuid=allocation.lot.uuid)
    assert (dose.series, dose.dose_number) == ("primary", 2)
    assert dose.completes_primary is (vaccine != "abdala")


def test_abdala_has_three_primary_doses_and_janssen_one(
    citizen_person, district_officer, vaccines, make_person
):
    for days in (40, 26):
        _elsewhere(district_officer, citizen_person, vaccines["abdala"], days)
    status = PersonVaccination.objects.get(person=citizen_person)
    assert (status.primary_doses, status.primary_complete) == (2, False)
    assert status.next_earliest_on == timezone.localdate() - datetime.timedelta(days=12)
    other = make_person(full_name="Lê Văn Một")
    _elsewhere(district_officer, other, vaccines["janssen"], 70)
    status = PersonVaccination.objects.get(person=other)
    assert status.primary_complete and status.primary_doses == 1
    # Janssen's booster from 2 months.
    assert status.next_earliest_on == timezone.localdate() - datetime.timedelta(days=10)


def test_another_vaccine_for_the_series_needs_an_officer_override(
    citizen,
    citizen_person,
    register,
    site,
    vaccinator,
    site_manager,
    district_officer,
    make_session,
    make_lot,
    vaccines,
):
    register(citizen_person)
    _elsewhere(district_officer, citizen_person, vaccines["astrazeneca"], 70)
    allocation = make_lot(site=site, vaccine="pfizer")
    session = make_session(site=site, vaccine="astrazeneca")
    booking = _to_injection(citizen, citizen_person, session, vaccinator)
    with pytest.raises(WrongVaccine):
        services.dose_record(actor=vaccinator, booking=booking, lot_uuid=allocation.lot.uuid)
    with pytest.raises(InvalidInput) as refused:
        services.dose_record(
            actor=vaccinator,
            booking=booking,
            lot_uuid=allocation.lot.uuid,
            override_reason="AstraZeneca hết hàng",
        )
    assert "override_reason" in refused.value.details["fields"]
    dose = services.dose_record(
        actor=site_manager,
        booking=booking,
        lot_uuid=allocation.lot.uuid,
        override_reason="AstraZeneca hết hàng; tiêm trộn theo hướng dẫn của Bộ Y tế",
    )
    assert dose.vaccine.code == "pfizer" and dose.override_reason
    assert dose.completes_primary


def test_under_age_is_refused(citizen, make_person, register, site, make_session):
    child = make_person(
        full_name="Nguyễn Bé Na",
        birth=f"01/01/{timezone.localdate().year - 15}",
        managed_by=citizen,
        relationship="child",
    )
    register(child)
    with pytest.raises(AgeNotAllowed) as refused:
        services.booking_create(
            actor=citizen, person=child, session=make_session(site=site, vaccine="astrazeneca")
        )
    assert "15" in str(refused.value.message)
    booking = services.booking_create(
        actor=citizen, person=child, session=make_session(site=site, vaccine="pfizer")
    )
    assert booking.status == "confirmed"


def test_expired_or_exhausted_lot_is_refused(
    citizen, citizen_person, make_citizen, register, site, vaccinator, make_session, make_lot
):
    register(citizen_person)
    session = make_session(site=site)
    booking = _to_injection(citizen, citizen_person, session, vaccinator)
    expired = make_lot(site=site, expiry=timezone.localdate() - datetime.timedelta(days=1))
    with pytest.raises(LotUnusable):
        services.dose_record(actor=vaccinator, booking=booking, lot_uuid=expired.lot.uuid)
    empty = make_lot(site=site, doses=1)
    LotAllocation.objects.filter(pk=empty.pk).update(doses_wasted=1)
    with pytest.raises(LotUnusable):
        services.dose_record(actor=vaccinator, booking=booking, lot_uuid=empty.lot.uuid)
    assert not Dose.objects.exists()


def test_wastage_and_stock_report(
    site, vaccinator, district_officer, make_lot, area_tree, vaccines
):
    lot = services.lot_receive(
        actor=district_officer,
        vaccine=vaccines["pfizer"],
        number="fk1234",
        expiry_date=timezone.localdate() + datetime.timedelta(days=90),
        doses=600,
        store_area=area_tree["district"],
    )
    allocation = services.lot_allocate(actor=district_officer, lot=lot, site=site, doses=120)
    with pytest.raises(Exception) as short:
        services.lot_allocate(actor=district_officer, lot=lot, site=site, doses=481)
    assert getattr(short.value, "code", "") == "stock_short"
    with pytest.raises(InvalidInput):
        services.wastage_record(
            actor=vaccinator, allocation=allocation, doses=6, reason="opened_vial"
        )  # a Pfizer vial holds 6 doses: an opened one leaves at most 5
    services.wastage_record(actor=vaccinator, allocation=allocation, doses=4, reason="opened_vial")
    allocation.refresh_from_db()
    assert allocation.doses_left == 116
    from covidhub.vaccination.selectors import stock_by_district, stock_by_site

    (row,) = stock_by_site(actor=district_officer)
    assert (row.allocated, row.wasted, row.left) == (120, 4, 116)
    (district_row,) = stock_by_district(actor=district_officer)
    assert (district_row.received, district_row.allocated) == (600, 120)


def test_session_is_never_overbooked_and_one_booking_per_dose(
    citizen, citizen_person, make_citizen, register, site, make_session
):
    register(citizen_person)
    session = make_session(site=site, capacity=1)
    services.booking_create(actor=citizen, person=citizen_person, session=session)
    with pytest.raises(Exception) as twice:
        services.booking_create(
            actor=citizen, person=citizen_person, session=make_session(site=site)
        )
    assert getattr(twice.value, "code", "") == "already_booked"
    assert AuditEvent.objects.filter(action="vaccination.booking.created").count() == 1
    assert sorted(Session.objects.values_list("booked_count", flat=True)) == [0, 1]
    other = make_citizen("+84912999888", full_name="Phạm Thị Hai")
    other_person = other.people.get()
    register(other_person)
    with pytest.raises(SessionFull):
        services.booking_create(actor=other, person=other_person, session=session)
    waiting = services.booking_create(
        actor=other, person=other_person, session=session, waitlist=True
    )
    assert waiting.status == "waitlisted"
    # A cancellation frees the place and the waiting list fills it.
    first = Booking.objects.get(person=citizen_person)
    services.booking_cancel(actor=citizen, booking=first)
    waiting.refresh_from_db()
    session.refresh_from_db()
    assert waiting.status == "confirmed" and session.booked_count == 1


def test_invitations_go_in_priority_order_and_a_decline_frees_the_place(
    make_citizen, register, site, district_officer, make_session
):
    people = []
    for n, group in enumerate(["g11", "g01", "g05"]):
        account = make_citizen(f"+8491200010{n}", full_name=f"Người Thứ {'ABC'[n]}")
        person = account.people.get()
        register(person, group)
        people.append((account, person, group))
    session = make_session(site=site, capacity=2, self_booking=False)
    invited = services.invitations_send(actor=district_officer, session=session, count=5)
    assert [b.person.pk for b in invited] == [people[1][1].pk, people[2][1].pk]
    from covidhub.notifications.models import Message

    assert Message.objects.filter(user=people[1][0], channel="inapp").exists()
    services.invitation_respond(account=people[2][0], booking=invited[1], accept=False)
    session.refresh_from_db()
    assert session.booked_count == 1
    more = services.invitations_send(actor=district_officer, session=session, count=5)
    assert [b.person.pk for b in more] == [people[0][1].pk]


def test_dose_elsewhere_is_marked_and_needs_evidence(
    citizen_person, district_officer, neighbour_officer, vaccines
):
    with pytest.raises(InvalidInput) as refused:
        services.dose_record_elsewhere(
            actor=district_officer,
            person=citizen_person,
            vaccine=vaccines["pfizer"],
            administered_on=timezone.localdate(),
            place="Singapore",
            country="SG",
        )
    assert "evidence" in refused.value.details["fields"]
    with pytest.raises(NotFound):
        _elsewhere(neighbour_officer, citizen_person, vaccines["pfizer"], 10)
    dose = _elsewhere(district_officer, citizen_person, vaccines["pfizer"], 10)
    assert dose.given_elsewhere and dose.lot is None and dose.sequence == 1


def test_voided_dose_returns_stock_and_signals(
    citizen,
    citizen_person,
    register,
    site,
    vaccinator,
    district_officer,
    make_session,
    make_lot,
    django_capture_on_commit_callbacks,
):
    from covidhub.vaccination.signals import dose_corrected

    register(citizen_person)
    allocation = make_lot(site=site)
    booking = _to_injection(citizen, citizen_person, make_session(site=site), vaccinator)
    dose = services.dose_record(actor=vaccinator, booking=booking, lot_uuid=allocation.lot.uuid)
    seen = []
    dose_corrected.connect(lambda sender, dose, person, **kw: seen.append(dose.pk), weak=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.dose_void(actor=district_officer, dose=dose, reason="Nhập nhầm người")
    allocation.refresh_from_db()
    assert allocation.doses_used == 0 and seen == [dose.pk]
    assert PersonVaccination.objects.get(person=citizen_person).doses == 0


def test_reminder_before_the_next_dose_is_sent_once(
    citizen, citizen_person, district_officer, vaccines
):
    from covidhub.notifications.models import Message

    _elsewhere(district_officer, citizen_person, vaccines["astrazeneca"], 82)  # due in 2 days
    assert services.reminders_send() == 1
    assert services.reminders_send() == 0
    inbox = Message.objects.filter(user=citizen, channel="inapp")
    assert inbox.count() == 1
    assert Message.objects.filter(channel="sms", to=citizen.phone).count() == 1
