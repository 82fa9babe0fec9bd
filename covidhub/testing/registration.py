"""Registration: testing rounds, time slots, and people's appointments.

Locks are taken in one order everywhere in this app: Slot (by id) → Appointment → Tube →
TubeResult, so that two operations never wait on each other in a circle.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from covidhub.accounts.scoping import OFFICER_ROLES, actor_scope
from covidhub.areas.models import Area
from covidhub.audit.services import audit_record
from covidhub.core.errors import InvalidInput, NotFound
from covidhub.people.models import Person
from covidhub.testing.codes import appointment_code_new
from covidhub.testing.errors import (
    AlreadyRegistered,
    AppointmentClosed,
    NotEligible,
    SlotFull,
)
from covidhub.testing.models import Appointment, Site, Slot, TestingRound, TestType
from covidhub.testing.scope import role_of, sites_for_actor


def _fields_error(fields: dict[str, list[str]]) -> InvalidInput:
    return InvalidInput(details={"fields": fields})


@transaction.atomic
def round_create(
    *,
    actor: Any,
    name: str,
    area: Area,
    sites: list[Site],
    starts_on: datetime.date,
    ends_on: datetime.date,
    test_type: str,
    pool_size: int,
    streets: str = "",
) -> TestingRound:
    """An officer plans a mass-testing round for an area inside their own."""
    scope = actor_scope(actor)
    if not scope.has_role(*OFFICER_ROLES) or not scope.covers_path(area.path):
        raise NotFound()
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [_("Enter a name for the round.")]
    if test_type not in TestType.values:
        errors["test_type"] = [_("Choose the test type.")]
    if not 1 <= pool_size <= 10:
        errors["pool_size"] = [_("Pool size must be between 1 and 10 people per tube.")]
    if test_type == TestType.RAPID and pool_size != 1:
        errors["pool_size"] = [_("Rapid antigen tests are not pooled: use 1.")]
    if ends_on < starts_on:
        errors["ends_on"] = [_("The last day cannot be before the first day.")]
    if not sites:
        errors["sites"] = [_("Choose at least one sampling site.")]
    visible = set(sites_for_actor(actor).values_list("pk", flat=True))
    if any(site.pk not in visible for site in sites):
        errors["sites"] = [_("Choose sites in your area.")]
    if errors:
        raise _fields_error(errors)
    testing_round = TestingRound.objects.create(
        name=name.strip(),
        area=area,
        area_path=area.path,
        streets=streets.strip(),
        starts_on=starts_on,
        ends_on=ends_on,
        test_type=test_type,
        pool_size=pool_size,
        created_by=actor,
    )
    testing_round.sites.set(sites)
    audit_record(
        actor=actor, actor_role=role_of(actor), action="testing.round.created", obj=testing_round
    )
    return testing_round


@transaction.atomic
def slot_create(
    *,
    actor: Any,
    site: Site,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    capacity: int,
    test_type: str = TestType.PCR,
) -> Slot:
    """A site manager or officer opens a time slot for bookings."""
    if not sites_for_actor(actor).filter(pk=site.pk).exists():
        raise NotFound()
    errors: dict[str, list[str]] = {}
    if ends_at <= starts_at:
        errors["ends_at"] = [_("The end must be after the start.")]
    if not 1 <= capacity <= 10_000:
        errors["capacity"] = [_("Capacity must be between 1 and 10,000.")]
    if test_type not in TestType.values:
        errors["test_type"] = [_("Choose the test type.")]
    if errors:
        raise _fields_error(errors)
    slot = Slot.objects.create(
        site=site, starts_at=starts_at, ends_at=ends_at, capacity=capacity, test_type=test_type
    )
    audit_record(actor=actor, actor_role=role_of(actor), action="testing.slot.created", obj=slot)
    return slot


def _create_appointment(**fields: Any) -> Appointment:
    """Insert with a fresh random code; a clash of codes (1 in 10^11) just draws again."""
    for _attempt in range(5):
        code = appointment_code_new()
        try:
            with transaction.atomic():
                return Appointment.objects.create(code=code, **fields)
        except IntegrityError as exc:
            if not Appointment.objects.filter(code=code).exists():
                # The other unique rule: one booked appointment per person and round/slot.
                raise AlreadyRegistered() from exc
    raise RuntimeError("could not draw a free appointment code")


def _check_actor_for_person(actor: Any, person: Person) -> None:
    if getattr(actor, "kind", "") == "citizen" and person.managed_by_id != actor.pk:
        raise NotFound()


def _audit(actor: Any, action: str, appointment: Appointment) -> None:
    audit_record(
        actor=actor,
        actor_role=role_of(actor),
        action=action,
        obj=appointment,
        person_uuid=appointment.person.uuid,
    )


@transaction.atomic
def appointment_book(
    *,
    actor: Any,
    person: Person,
    slot: Slot | None = None,
    testing_round: TestingRound | None = None,
) -> Appointment:
    """Register a person at a slot (capacity held by a row lock and a constraint) or in a
    round of their area."""
    _check_actor_for_person(actor, person)
    if (slot is None) == (testing_round is None):
        raise _fields_error({"slot": [_("Choose a time slot or a testing round.")]})
    now = timezone.now()
    if slot is not None:
        locked = Slot.objects.select_for_update().filter(pk=slot.pk).first()
        if locked is None or locked.ends_at <= now or not locked.site.is_active:
            raise _fields_error({"slot": [_("This time slot is no longer available.")]})
        if Appointment.objects.filter(
            person=person, slot=locked, status=Appointment.Status.BOOKED
        ).exists():
            raise AlreadyRegistered()
        if locked.booked >= locked.capacity:
            raise SlotFull()
        Slot.objects.filter(pk=locked.pk).update(booked=F("booked") + 1, updated_at=now)
        appointment = _create_appointment(
            person=person, kind=Appointment.Kind.SLOT, slot=locked, created_by=_user(actor)
        )
    else:
        assert testing_round is not None
        if testing_round.ends_on < timezone.localdate():
            raise _fields_error({"testing_round": [_("This testing round has ended.")]})
        if not person.commune_path.startswith(testing_round.area_path):
            raise NotEligible()
        appointment = _create_appointment(
            person=person,
            kind=Appointment.Kind.ROUND,
            testing_round=testing_round,
            created_by=_user(actor),
        )
    _audit(actor, "testing.appointment.booked", appointment)
    return appointment


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _lock_appointment(appointment: Appointment, *, slot_ids: list[int]) -> Appointment:
    for slot_id in sorted(set(slot_ids)):
        Slot.objects.select_for_update().filter(pk=slot_id).first()
    locked = (
        Appointment.objects.select_for_update()
        .select_related("person")
        .filter(pk=appointment.pk)
        .first()
    )
    if locked is None:
        raise NotFound()
    if locked.status != Appointment.Status.BOOKED:
        raise AppointmentClosed()
    return locked


@transaction.atomic
def appointment_cancel(*, actor: Any, appointment: Appointment) -> Appointment:
    """Cancel a booked appointment; its place in the slot is given back."""
    _check_actor_for_person(actor, appointment.person)
    locked = _lock_appointment(appointment, slot_ids=[appointment.slot_id or 0])
    if locked.slot_id is not None:
        Slot.objects.filter(pk=locked.slot_id).update(booked=F("booked") - 1)
    locked.status = Appointment.Status.CANCELLED
    locked.save(update_fields=["status", "updated_at"])
    _audit(actor, "testing.appointment.cancelled", locked)
    return locked


@transaction.atomic
def appointment_move(*, actor: Any, appointment: Appointment, slot: Slot) -> Appointment:
    """Move a slot appointment to another slot, keeping its code."""
    _check_actor_for_person(actor, appointment.person)
    if appointment.kind != Appointment.Kind.SLOT:
        raise AppointmentClosed(_("Only an appointment at a site and time can be moved."))
    locked = _lock_appointment(appointment, slot_ids=[appointment.slot_id or 0, slot.pk])
    if locked.slot_id == slot.pk or locked.slot_id is None:
        return locked
    target = Slot.objects.select_related("site").get(pk=slot.pk)
    if target.ends_at <= timezone.now() or not target.site.is_active:
        raise _fields_error({"slot": [_("This time slot is no longer available.")]})
    if target.booked >= target.capacity:
        raise SlotFull()
    Slot.objects.filter(pk=target.pk).update(booked=F("booked") + 1)
    Slot.objects.filter(pk=locked.slot_id).update(booked=F("booked") - 1)
    locked.slot = target
    locked.save(update_fields=["slot", "updated_at"])
    _audit(actor, "testing.appointment.moved", locked)
    return locked


def retest_appointments_create(*, result_rows: list[tuple[int, int]], fresh: bool = False) -> int:
    """Retest appointments for (result id, person id) pairs that need one (bulk, no audit:
    the release that calls this audits every result). `fresh` for results created in this
    transaction, which no appointment can refer to yet."""
    if not result_rows:
        return 0
    todo = result_rows
    if not fresh:
        existing = set(
            Appointment.objects.filter(retest_of_id__in=[r for r, _p in result_rows]).values_list(
                "retest_of_id", flat=True
            )
        )
        todo = [(r, p) for r, p in result_rows if r not in existing]
        Appointment.objects.filter(
            retest_of_id__in=[r for r, _p in result_rows], status=Appointment.Status.CANCELLED
        ).update(status=Appointment.Status.BOOKED)
    codes: set[str] = set()
    while len(codes) < len(todo):
        codes.add(appointment_code_new())
    taken = set(Appointment.objects.filter(code__in=codes).values_list("code", flat=True))
    while taken:
        codes -= taken
        while len(codes) < len(todo):
            codes.add(appointment_code_new())
        taken = set(Appointment.objects.filter(code__in=codes).values_list("code", flat=True))
    Appointment.objects.bulk_create(
        [
            Appointment(
                code=code,
                person_id=person_id,
                kind=Appointment.Kind.RETEST,
                retest_of_id=result_id,
            )
            for (result_id, person_id), code in zip(todo, sorted(codes), strict=True)
        ],
        batch_size=2000,
    )
    return len(todo)
