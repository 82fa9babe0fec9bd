"""The vaccination day in the Ministry of Health's four steps — check-in, screening,
injection, observation — and doses given elsewhere, voided doses, the person's summary."""

from __future__ import annotations

import contextlib
import datetime
import decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from covidhub.accounts.models import Role, User
from covidhub.accounts.scoping import OFFICER_ROLES, actor_scope
from covidhub.core.errors import Conflict, InvalidInput, NotFound
from covidhub.core.rawsql import constraint_of, pipelined, table_of
from covidhub.people.models import Person
from covidhub.vaccination import rules
from covidhub.vaccination.checklists import SCREENING_CHECKLIST, screening_suggestion
from covidhub.vaccination.errors import WrongStep
from covidhub.vaccination.fastreads import (
    allocation_at_site,
    dose_history_from,
    dose_history_send,
    instance_from_row,
    whole_row_columns,
)
from covidhub.vaccination.models import (
    Booking,
    Dose,
    PersonVaccination,
    Registration,
    Screening,
    VaccinationSite,
    Vaccine,
)
from covidhub.vaccination.scoping import PLANNER_ROLES, SITE_ROLES, site_allowed, site_q
from covidhub.vaccination.services.booking import person_dose_facts
from covidhub.vaccination.services.common import audit
from covidhub.vaccination.services.statements import (
    audit_event,
    dose_id_send,
    dose_store,
    single_statement_supported,
    stock_take_and_commit,
)
from covidhub.vaccination.services.stock import (
    allocation_return,
    allocation_take,
    allocation_taken_check,
)
from covidhub.vaccination.signals import dose_corrected, dose_recorded

OVERRIDE_ROLES = (Role.SITE_MANAGER, *OFFICER_ROLES)
MAX_EVIDENCE_BYTES = 5 * 1024 * 1024


def _site_staff(actor: Any, site: VaccinationSite, roles: tuple[str, ...] = SITE_ROLES) -> None:
    if not site_allowed(actor, site, roles=roles):
        raise NotFound()


# Step 1: check-in -------------------------------------------------------------------------


def checkin_record(*, actor: User, site: VaccinationSite, text: str) -> Booking:
    """Check a person in by their booking's QR code or their identity number."""
    _site_staff(actor, site)
    value = "".join((text or "").split()).upper()
    if not value:
        raise InvalidInput(
            details={"fields": {"code": [_("Scan the QR code or type the identity number.")]}}
        )
    today = timezone.localdate()
    bookings = Booking.objects.filter(
        session__site=site,
        session__date=today,
        status__in=(Booking.Status.INVITED, Booking.Status.CONFIRMED, Booking.Status.CHECKED_IN),
    ).select_related("person", "session__campaign__vaccine", "session__site")
    booking = bookings.filter(code=value).first()
    if booking is None and len(value) <= 20:
        booking = bookings.filter(person__id_number=value).first()
    if booking is None:
        raise NotFound(_("No booking today at this site for this code or identity number."))
    with transaction.atomic():
        if booking.status != Booking.Status.CHECKED_IN:
            updated = Booking.objects.filter(
                pk=booking.pk, status__in=(Booking.Status.INVITED, Booking.Status.CONFIRMED)
            ).update(
                status=Booking.Status.CHECKED_IN,
                checked_in_at=timezone.now(),
                updated_at=timezone.now(),
            )
            if updated:
                booking.refresh_from_db()
        audit(actor, "vaccination.checkin.recorded", booking, person_uuid=booking.person.uuid)
    return booking


# Step 2: screening ------------------------------------------------------------------------


def screening_record(
    *,
    actor: User,
    booking: Booking,
    answers: dict[str, Any],
    temperature: decimal.Decimal | float | None,
    outcome: str,
    notes: str = "",
) -> Screening:
    """Record the pre-vaccination screening; "vaccinate" is refused when an answer calls
    for postponing or a referral."""
    _site_staff(actor, booking.session.site)
    if booking.status != Booking.Status.CHECKED_IN:
        raise WrongStep(_("Check the person in before the screening."))
    if hasattr(booking, "dose"):
        raise WrongStep(_("This person has already been vaccinated in this booking."))
    errors: dict[str, list[str]] = {}
    known = {q.key for q in SCREENING_CHECKLIST}
    if set(answers) - known:
        errors["answers"] = [_("Answer only the questions of the checklist.")]
    clean = {key: bool(answers.get(key, False)) for key in known}
    temp: decimal.Decimal | None = None
    if temperature not in (None, ""):
        try:
            temp = decimal.Decimal(str(temperature)).quantize(decimal.Decimal("0.1"))
        except decimal.InvalidOperation:
            temp = None
        if temp is None or not decimal.Decimal("34") <= temp <= decimal.Decimal("43"):
            errors["temperature"] = [_("Enter the temperature in °C (34.0 to 43.0).")]
    if outcome not in Screening.Outcome.values:
        errors["outcome"] = [_("Choose the conclusion.")]
    if len(notes) > 500:
        errors["notes"] = [_("The notes are too long (up to 500 characters).")]
    if not errors:
        suggestion = screening_suggestion(clean, float(temp) if temp is not None else None)
        if outcome == Screening.Outcome.VACCINATE and suggestion != Screening.Outcome.VACCINATE:
            errors["outcome"] = [
                _("The answers call for: %(suggestion)s. This person cannot be vaccinated now.")
                % {"suggestion": Screening.Outcome(suggestion).label}
            ]
    if errors:
        raise InvalidInput(details={"fields": errors})
    with transaction.atomic():
        screening, _created = Screening.objects.update_or_create(
            booking=booking,
            defaults={
                "answers": clean,
                "temperature": temp,
                "outcome": outcome,
                "notes": notes.strip(),
                "screened_by": actor,
            },
        )
        if outcome != Screening.Outcome.VACCINATE:
            booking.status = (
                Booking.Status.POSTPONED
                if outcome == Screening.Outcome.POSTPONE
                else Booking.Status.REFERRED
            )
            booking.save(update_fields=["status", "updated_at"])
        audit(
            actor,
            "vaccination.screening.recorded",
            booking,
            person_uuid=booking.person.uuid,
            details={"outcome": outcome},
        )
    return screening


# Step 3: the injection ---------------------------------------------------------------------


def _status_upsert_sql() -> str:
    qn = connection.ops.quote_name
    status = PersonVaccination._meta
    registration = Registration._meta
    group = qn(str(registration.get_field("priority_group").column))
    returning = whole_row_columns(PersonVaccination)
    return f"""
        INSERT INTO {qn(status.db_table)} (person_id, commune_id, birth_year, priority_group,
            doses, primary_doses, primary_complete, boosters, reminded_for, updated_at)
        VALUES (%s, %s, %s,
            COALESCE((SELECT {group} FROM {qn(registration.db_table)} WHERE person_id = %s), ''),
            0, 0, %s, 0, '', %s)
        ON CONFLICT (person_id) DO UPDATE SET priority_group = excluded.priority_group
        RETURNING {returning}
        """  # noqa: S608 - names from model metadata, values as parameters


def status_lock(person: Person) -> PersonVaccination:
    """The person's summary row, created if need be, locked: it serialises their doses.

    One statement on PostgreSQL and SQLite (INSERT … ON CONFLICT DO UPDATE … RETURNING):
    a concurrent first dose waits for the other's row, an existing row is locked by the
    update. The priority group is copied fresh from the registration on the way.
    """
    with connection.cursor() as cursor:
        _status_lock_send(cursor, person)
        return _status_from(cursor)


def _status_lock_send(cursor: Any, person: Person) -> None:
    params = [
        person.pk,
        person.commune_id,
        person.birth_year,
        person.pk,
        False,
        connection.ops.adapt_datetimefield_value(timezone.now()),
    ]
    cursor.execute(_status_upsert_sql(), params)


def _status_from(cursor: Any) -> PersonVaccination:
    return instance_from_row(PersonVaccination, cursor.fetchone())


def status_refresh(
    status: PersonVaccination,
    person: Person,
    *,
    facts: list[rules.DoseFact] | None = None,
) -> PersonVaccination:
    """Rewrite the summary (locked by `status_lock`) from the person's valid doses;
    `facts` when the caller already knows them (read under that lock)."""
    if facts is None:
        facts = person_dose_facts(person)
    status_summarise(status, person, facts=facts)
    status.save()
    return status


def status_summarise(
    status: PersonVaccination, person: Person, *, facts: list[rules.DoseFact]
) -> None:
    """Set the summary's fields from the valid doses `facts` (saved by the caller)."""
    nxt = rules.next_dose(facts)
    primary = [f for f in facts if f.series == Dose.Series.PRIMARY]
    status.commune_id = person.commune_id
    status.birth_year = person.birth_year
    status.doses = len(facts)
    status.primary_vaccine = facts[0].vaccine if facts else None
    status.primary_doses = len(primary)
    status.primary_complete = bool(facts) and len(primary) >= facts[0].vaccine.primary_doses
    status.boosters = len(facts) - len(primary)
    status.last_dose_on = facts[-1].day if facts else None
    status.next_earliest_on = nxt.earliest_on
    status.next_due_on = nxt.due_on


def _may_override(actor: User) -> bool:
    return actor_scope(actor).has_role(*OVERRIDE_ROLES)


def _dose_exists() -> Conflict:
    return Conflict(_("This dose number is already recorded for this person."), code="dose_exists")


def _insert_dose(
    *,
    actor: User,
    person: Person,
    vaccine: Vaccine,
    administered_at: datetime.datetime,
    nxt: rules.NextDose,
    **fields: Any,
) -> Dose:
    dose = _dose_new(
        actor=actor,
        person=person,
        vaccine=vaccine,
        administered_at=administered_at,
        nxt=nxt,
        **fields,
    )
    try:
        # No savepoint: the Conflict ends the caller's transaction (nothing else is kept).
        dose.save()
    except IntegrityError as exc:
        raise _dose_exists() from exc
    return dose


def _dose_new(
    *,
    actor: User,
    person: Person,
    vaccine: Vaccine,
    administered_at: datetime.datetime,
    nxt: rules.NextDose,
    **fields: Any,
) -> Dose:
    return Dose(
        person=person,
        vaccine=vaccine,
        series=nxt.series,
        dose_number=nxt.dose_number,
        sequence=nxt.sequence,
        completes_primary=nxt.series == Dose.Series.PRIMARY
        and nxt.dose_number == (nxt.vaccine or vaccine).primary_doses,
        administered_at=administered_at,
        day=timezone.localtime(administered_at).date(),
        commune_id=person.commune_id,
        commune_path=person.commune_path,
        recorded_by=actor,
        **fields,
    )


def _booking_step_send(cursor: Any, booking_pk: int) -> None:
    """Checked in and screened "vaccinate now" → vaccinated; the booking's id comes back
    if it moved, no row if nothing changed."""
    qn = connection.ops.quote_name
    cursor.execute(
        f"UPDATE {qn(Booking._meta.db_table)} SET status = %s, updated_at = %s "  # noqa: S608 - table names from model metadata
        f"WHERE id = %s AND status = %s AND EXISTS (SELECT 1 FROM "
        f"{qn(Screening._meta.db_table)} WHERE booking_id = %s AND outcome = %s) RETURNING id",
        [
            Booking.Status.VACCINATED.value,
            connection.ops.adapt_datetimefield_value(timezone.now()),
            booking_pk,
            Booking.Status.CHECKED_IN.value,
            booking_pk,
            Screening.Outcome.VACCINATE.value,
        ],
    )


def _injection_begin(
    person: Person, booking_pk: int
) -> tuple[PersonVaccination, bool, list[tuple[int, rules.DoseFact]], int | None]:
    """The start of the injection's transaction: the person's summary created if need be
    and locked (`status_lock`: it serialises their doses), the booking's step moved on
    (one conditional UPDATE, which also locks the row until the commit), then the
    person's valid doses read under that lock, and on PostgreSQL the new dose's primary
    key drawn. Returns (summary, whether the step moved, history, dose pk or None).

    On PostgreSQL the four statements travel together (`rawsql.pipelined`) and are
    answered in one round trip; each still runs after the one before it, and under READ
    COMMITTED each sees what committed before it started, so the history read after the
    lock includes a concurrent dose of the person that held it."""
    postgres = single_statement_supported()
    with pipelined(), contextlib.ExitStack() as stack:
        status_cursor, step_cursor, history_cursor = (
            stack.enter_context(connection.cursor()) for _ in range(3)
        )
        _status_lock_send(status_cursor, person)
        _booking_step_send(step_cursor, booking_pk)
        dose_history_send(history_cursor, person.pk)
        if postgres:
            id_cursor = stack.enter_context(connection.cursor())
            dose_id_send(id_cursor)
        status = _status_from(status_cursor)
        moved = step_cursor.fetchone() is not None
        history = dose_history_from(history_cursor)
        dose_pk = int(id_cursor.fetchone()[0]) if postgres else None
    return status, moved, history, dose_pk


def dose_record(
    *,
    actor: User,
    booking: Booking,
    lot_uuid: Any,
    override_reason: str = "",
    administered_at: datetime.datetime | None = None,
) -> Dose:
    """Record the injection of a screened booking: the dose number comes from the person's
    history, the dose is taken from the site's allocation of the lot."""
    site = booking.session.site
    _site_staff(actor, site)
    override_reason = (override_reason or "").strip()
    if override_reason and not _may_override(actor):
        raise InvalidInput(
            details={
                "fields": {
                    "override_reason": [
                        _("Only a site manager or a health officer can override the rules.")
                    ]
                }
            }
        )
    if len(override_reason) > 300:
        raise InvalidInput(details={"fields": {"override_reason": [_("The reason is too long.")]}})
    at = administered_at or timezone.now()
    day = timezone.localtime(at).date()
    allocation = allocation_at_site(site_id=site.pk, lot_uuid=lot_uuid)
    if allocation is None:
        raise InvalidInput(details={"fields": {"lot": [_("Choose a lot allocated to this site.")]}})
    vaccine = allocation.lot.vaccine
    person = booking.person
    with transaction.atomic():
        # The booking's step moves on only from a checked-in, screened-for-vaccination
        # state.
        status, moved, history, dose_pk = _injection_begin(person, booking.pk)
        if not moved:
            current = Booking.objects.filter(pk=booking.pk).values_list("status", flat=True)
            if current.first() != Booking.Status.CHECKED_IN:
                raise WrongStep(_("Check the person in and screen them before the injection."))
            raise WrongStep(_("The screening must conclude “vaccinate now” first."))
        booking.status = Booking.Status.VACCINATED
        facts = [fact for _sequence, fact in history]
        nxt = rules.dose_check(
            doses=facts,
            vaccine=vaccine,
            day=day,
            age=person.age_on(day),
            override=bool(override_reason),
        )
        dose = _dose_new(
            actor=actor,
            person=person,
            vaccine=vaccine,
            administered_at=at,
            nxt=nxt,
            lot=allocation.lot,
            allocation=allocation,
            site=site,
            booking=booking,
            vaccinator=actor,
            override_reason=override_reason,
        )
        # The valid doses now: the ones read under the person's lock and this one.
        history.append(
            (dose.sequence, rules.DoseFact(vaccine, dose.series, dose.dose_number, dose.day))
        )
        history.sort(key=lambda item: item[0])
        status_summarise(status, person, facts=[fact for _sequence, fact in history])
        details = {"sequence": dose.sequence, "override": bool(override_reason)}
        if allocation.lot.is_expired(day):
            allocation_taken_check(allocation=allocation, day=day, taken=False)
        if dose_pk is not None:
            # PostgreSQL: the dose, the summary and the audit row in one statement; the
            # receivers' writes (the certificate's queue row); then the dose taken from the
            # lot, whose row every vaccinator of the site locks, last, with the COMMIT:
            # all sent together and answered in one round trip, so that the lot's lock is
            # held only while PostgreSQL runs the last statement and the commit. A broken
            # constraint skips the rest (the COMMIT too) and is raised here.
            dose.pk = dose_pk
            event = audit_event(
                actor, "vaccination.dose.recorded", dose, person_uuid=person.uuid, details=details
            )
            try:
                with pipelined():
                    dose_store(dose=dose, event=event, status=status)
                    dose_recorded.send(sender=Dose, dose=dose, person=person)
                    stock_take_and_commit(allocation=allocation)
            except IntegrityError as exc:
                if constraint_of(exc) == "allocation_not_overdrawn":
                    allocation_taken_check(allocation=allocation, day=day, taken=False)
                if table_of(exc) == Dose._meta.db_table:
                    raise _dose_exists() from exc
                raise
        else:
            try:
                dose.save()
            except IntegrityError as exc:
                raise _dose_exists() from exc
            status.save()
            audit(
                actor, "vaccination.dose.recorded", dose, person_uuid=person.uuid, details=details
            )
            # Receivers write in this transaction (the certificate's queue row).
            dose_recorded.send(sender=Dose, dose=dose, person=person)
            allocation_take(allocation=allocation, day=day)
    return dose


def dose_record_elsewhere(
    *,
    actor: User,
    person: Person,
    vaccine: Vaccine,
    administered_on: datetime.date,
    place: str,
    country: str = "VN",
    evidence_note: str = "",
    evidence: UploadedFile[bytes] | None = None,
) -> Dose:
    """An officer records a dose given in another province or abroad, with its evidence."""
    scope = actor_scope(actor)
    if not (scope.has_role(*OFFICER_ROLES) and scope.covers_path(person.commune_path)):
        raise NotFound()
    errors: dict[str, list[str]] = {}
    place = (place or "").strip()
    country = (country or "").strip().upper()
    evidence_note = (evidence_note or "").strip()
    if not place or len(place) > 200:
        errors["place"] = [_("Enter where the dose was given (up to 200 characters).")]
    if len(country) != 2 or not country.isalpha():
        errors["country"] = [_("Choose the country.")]
    if administered_on > timezone.localdate():
        errors["administered_on"] = [_("The date is in the future.")]
    elif administered_on < datetime.date(2020, 12, 1):
        errors["administered_on"] = [_("COVID-19 vaccines were not given before December 2020.")]
    if not evidence_note and evidence is None:
        errors["evidence"] = [
            _("Attach the evidence (a certificate or vaccination card) or describe it.")
        ]
    if len(evidence_note) > 300:
        errors["evidence_note"] = [_("The description is too long (up to 300 characters).")]
    if evidence is not None:
        if evidence.size is not None and evidence.size > MAX_EVIDENCE_BYTES:
            errors["evidence"] = [_("The file is larger than 5 MB.")]
        elif not (evidence.name or "").lower().endswith((".pdf", ".jpg", ".jpeg", ".png")):
            errors["evidence"] = [_("Attach a PDF, JPEG or PNG file.")]
    if errors:
        raise InvalidInput(details={"fields": errors})
    at = timezone.make_aware(datetime.datetime.combine(administered_on, datetime.time(12, 0)))
    with transaction.atomic():
        status = status_lock(person)
        facts = person_dose_facts(person)
        if any(f.day == administered_on and f.vaccine == vaccine for f in facts):
            raise Conflict(
                _("A dose of this vaccine on this date is already recorded."), code="dose_exists"
            )
        nxt = rules.next_dose(facts)
        if nxt.complete:
            boosters = sum(1 for f in facts if f.series == Dose.Series.BOOSTER)
            nxt = rules.NextDose(
                Dose.Series.BOOSTER, boosters + 1, len(facts) + 1, None, None, None
            )
        elif nxt.series == Dose.Series.PRIMARY and nxt.vaccine is None:
            nxt = rules.NextDose(Dose.Series.PRIMARY, 1, 1, vaccine, None, None)
        dose = _insert_dose(
            actor=actor,
            person=person,
            vaccine=vaccine,
            administered_at=at,
            nxt=nxt,
            given_elsewhere=True,
            elsewhere_place=place,
            elsewhere_country=country,
            evidence_note=evidence_note,
        )
        if evidence is not None:
            dose.evidence.save(f"{dose.uuid}-{evidence.name}"[-100:], evidence, save=True)
        status_refresh(status, person)
        audit(actor, "vaccination.dose.recorded_elsewhere", dose, person_uuid=person.uuid)
        dose_recorded.send(sender=Dose, dose=dose, person=person)
    return dose


def dose_void(*, actor: User, dose: Dose, reason: str) -> Dose:
    """Void a dose recorded in error (planners of the area or the site's manager); the
    dose goes back to the lot and whatever was issued from it is told."""
    scope = actor_scope(actor)
    allowed = (scope.has_role(*PLANNER_ROLES) and scope.covers_path(dose.commune_path)) or (
        dose.site is not None
        and VaccinationSite.objects.filter(
            site_q(actor, roles=(Role.SITE_MANAGER,)), pk=dose.site_id or 0
        ).exists()
    )
    if not allowed:
        raise NotFound()
    reason = (reason or "").strip()
    if not reason or len(reason) > 300:
        raise InvalidInput(
            details={
                "fields": {"reason": [_("Give the reason for voiding (up to 300 characters).")]}
            }
        )
    person = dose.person
    with transaction.atomic():
        status = status_lock(person)
        locked = Dose.objects.select_for_update().get(pk=dose.pk)
        if locked.status == Dose.Status.VOIDED:
            return locked
        locked.status = Dose.Status.VOIDED
        locked.void_reason = reason
        locked.save(update_fields=["status", "void_reason", "updated_at"])
        if locked.allocation_id is not None:
            allocation_return(allocation=locked.allocation)  # type: ignore[arg-type]
        status_refresh(status, person)
        audit(actor, "vaccination.dose.voided", locked, person_uuid=person.uuid)
        dose_corrected.send(sender=Dose, dose=locked, person=person)
    return locked
