"""The one-statement booking and injection (PostgreSQL) write what the ORM paths write,
answer in the same order, and undo nothing around them; on SQLite both sides of each
comparison run the ORM path."""

from __future__ import annotations

import pytest

from covidhub.audit.models import AuditEvent
from covidhub.vaccination import services
from covidhub.vaccination.errors import AlreadyBooked, SessionFull
from covidhub.vaccination.models import Booking, Session
from covidhub.vaccination.services import statements

pytestmark = pytest.mark.django_db

COMPARED_BOOKING = ("session_id", "dose_number", "status", "invited_at", "cancelled_at")


def _orm_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("booking", "day"):
        monkeypatch.setattr(
            f"covidhub.vaccination.services.{module}.single_statement_supported", lambda: False
        )


COMPARED_AUDIT = ("actor_role", "action", "object_type", "request_id", "details")


def test_the_statement_writes_what_the_orm_path_writes(
    citizen, citizen_person, make_citizen, register, site, make_session, monkeypatch
):
    session = make_session(site=site)
    other = make_citizen("+84912333222", full_name="Trần Văn Năm")
    other_person = other.people.get()
    for person in (citizen_person, other_person):
        register(person)
    fast = services.booking_create(actor=citizen, person=citizen_person, session=session)
    _orm_paths(monkeypatch)
    orm = services.booking_create(actor=other, person=other_person, session=session)
    rows = {b.person_id: b for b in Booking.objects.all()}
    assert fast.pk is not None and not fast._state.adding
    for name in COMPARED_BOOKING:
        assert getattr(rows[citizen_person.pk], name) == getattr(rows[other_person.pk], name)
    assert rows[citizen_person.pk].confirmed_at is not None
    assert rows[citizen_person.pk].booked_by_id == citizen.pk
    assert rows[other_person.pk].booked_by_id == other.pk
    assert rows[citizen_person.pk].code == fast.code and len(fast.code) == 10
    events = {e.object_id: e for e in AuditEvent.objects.filter(action__startswith="vaccination")}
    assert set(events) == {str(fast.uuid), str(orm.uuid)}
    for name in COMPARED_AUDIT:
        assert getattr(events[str(fast.uuid)], name) == getattr(events[str(orm.uuid)], name)
    assert events[str(fast.uuid)].person_uuid == citizen_person.uuid
    assert events[str(fast.uuid)].actor_id == citizen.pk
    session.refresh_from_db()
    assert session.booked_count == 2


def test_full_or_already_booked_in_the_same_order_and_nothing_written(
    citizen, citizen_person, make_citizen, register, site, make_session
):
    register(citizen_person)
    full = make_session(site=site, capacity=1)
    stale = Session.objects.get(pk=full.pk)  # read before the last place goes
    other = make_citizen("+84912333111", full_name="Lý Thị Sáu")
    register(other.people.get())
    services.booking_create(actor=other, person=other.people.get(), session=full)
    services.booking_create(actor=citizen, person=citizen_person, session=make_session(site=site))
    before = (Booking.objects.count(), AuditEvent.objects.count())
    # Already booked for this dose elsewhere: said before "full", as the ORM path does.
    with pytest.raises(AlreadyBooked):
        services.booking_create(actor=citizen, person=citizen_person, session=stale)
    third = make_citizen("+84912333000", full_name="Hồ Văn Bảy")
    register(third.people.get())
    with pytest.raises(SessionFull):
        services.booking_create(
            actor=third, person=third.people.get(), session=Session.objects.get(pk=full.pk)
        )
    stale.booked_count = 0
    with pytest.raises(SessionFull):
        services.booking_create(actor=third, person=third.people.get(), session=stale)
    assert (Booking.objects.count(), AuditEvent.objects.count()) == before
    full.refresh_from_db()
    assert full.booked_count == 1
    # The caller's transaction goes on after a refusal (a savepoint kept it usable).
    assert Booking.objects.filter(session=full).count() == 1


def test_the_audit_row_matches_audit_record(
    citizen_person, district_officer, register, site, make_session
):
    """`audit_event` builds the row that `common.audit` writes (an officer's booking: with
    a role)."""
    from covidhub.vaccination.services.common import audit

    register(citizen_person)
    booking = services.booking_create(
        actor=district_officer, person=citizen_person, session=make_session(site=site)
    )
    first = AuditEvent.objects.get(action="vaccination.booking.created")
    built = statements.audit_event(
        district_officer, "vaccination.booking.created", booking, person_uuid=citizen_person.uuid
    )
    audit(district_officer, "vaccination.booking.created", booking, person_uuid=citizen_person.uuid)
    written = AuditEvent.objects.filter(action="vaccination.booking.created").order_by("-id")[0]
    assert written.pk != first.pk and written.actor_role == "district_officer"
    for field in AuditEvent._meta.concrete_fields:
        if field.name in ("id", "at"):
            continue
        assert getattr(built, field.attname) == getattr(written, field.attname), field.name
        assert getattr(first, field.attname) == getattr(written, field.attname), field.name


def _injection(citizen, person, session, vaccinator):
    booking = services.booking_create(actor=citizen, person=person, session=session)
    services.checkin_record(actor=vaccinator, site=session.site, text=booking.code)
    booking.refresh_from_db()
    services.screening_record(
        actor=vaccinator, booking=booking, answers={}, temperature=36.6, outcome="vaccinate"
    )
    return booking


def test_the_injection_statement_writes_what_the_orm_path_writes(
    citizen,
    citizen_person,
    make_citizen,
    register,
    site,
    vaccinator,
    make_session,
    make_lot,
    monkeypatch,
):
    from covidhub.vaccination.models import Dose, LotAllocation, PersonVaccination

    allocation = make_lot(site=site, doses=5)
    session = make_session(site=site)
    other = make_citizen("+84912333444", full_name="Mai Thị Tám")
    people = [citizen_person, other.people.get()]
    for person, group in zip(people, ("g01", "g05"), strict=True):
        register(person, group)
    bookings = [
        _injection(account, person, session, vaccinator)
        for account, person in zip((citizen, other), people, strict=True)
    ]
    PersonVaccination.objects.create(
        person=people[1], commune_id=people[1].commune_id, birth_year=1900, reminded_for="x"
    )
    fast = services.dose_record(actor=vaccinator, booking=bookings[0], lot_uuid=allocation.lot.uuid)
    _orm_paths(monkeypatch)
    orm = services.dose_record(actor=vaccinator, booking=bookings[1], lot_uuid=allocation.lot.uuid)
    assert fast.pk is not None and not fast._state.adding
    rows = {d.pk: d for d in Dose.objects.all()}
    skip = {"id", "uuid", "person", "booking", "administered_at", "created_at", "updated_at"}
    for field in Dose._meta.concrete_fields:
        if field.name not in skip:
            assert getattr(rows[fast.pk], field.attname) == getattr(rows[orm.pk], field.attname), (
                field.name
            )
    summaries = {s.person_id: s for s in PersonVaccination.objects.all()}
    fast_summary, orm_summary = summaries[people[0].pk], summaries[people[1].pk]
    for name in statements.SUMMARY_FIELDS:
        if name not in ("updated_at", "priority_group", "birth_year"):
            assert getattr(fast_summary, name) == getattr(orm_summary, name), name
    assert (fast_summary.priority_group, orm_summary.priority_group) == ("g01", "g05")
    assert orm_summary.reminded_for == "x" and orm_summary.birth_year == people[1].birth_year
    events = {e.object_id: e for e in AuditEvent.objects.filter(action="vaccination.dose.recorded")}
    assert set(events) == {str(fast.uuid), str(orm.uuid)}
    for name in ("actor_id", "actor_role", "object_type", "details", "request_id"):
        assert getattr(events[str(fast.uuid)], name) == getattr(events[str(orm.uuid)], name)
    assert events[str(fast.uuid)].details == {"sequence": 1, "override": False}
    assert events[str(fast.uuid)].person_uuid == people[0].uuid
    allocation = LotAllocation.objects.get(pk=allocation.pk)
    assert allocation.doses_used == 2
    assert set(Booking.objects.values_list("status", flat=True)) == {"vaccinated"}
