"""The vaccination day in the Ministry of Health's four steps — check-in, screening,
injection, observation — and doses given elsewhere, voided doses, the person's summary."""

from __future__ import annotations

import datetime
import decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from covidhub.accounts.models import Role, User
from covidhub.accounts.scoping import OFFICER_ROLES, actor_scope
from covidhub.core.errors import Conflict, InvalidInput, NotFound
from covidhub.people.models import Person
from covidhub.vaccination import rules
from covidhub.vaccination.checklists import SCREENING_CHECKLIST, screening_suggestion
from covidhub.vaccination.errors import WrongStep
from covidhub.vaccination.models import (
    Booking,
    Dose,
    LotAllocation,
    PersonVaccination,
    Registration,
    Screening,
    VaccinationSite,
    Vaccine,
)
from covidhub.vaccination.scoping import PLANNER_ROLES, SITE_ROLES, site_q
from covidhub.vaccination.services.booking import person_dose_facts
from covidhub.vaccination.services.common import audit
from covidhub.vaccination.services.stock import allocation_return, allocation_take
from covidhub.vaccination.signals import dose_corrected, dose_recorded

OVERRIDE_ROLES = (Role.SITE_MANAGER, *OFFICER_ROLES)
MAX_EVIDENCE_BYTES = 5 * 1024 * 1024


def _site_staff(actor: Any, site: VaccinationSite, roles: tuple[str, ...] = SITE_ROLES) -> None:
    if not VaccinationSite.objects.filter(site_q(actor, roles=roles), pk=site.pk).exists():
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


def status_lock(person: Person) -> PersonVaccination:
    """The person's summary row, created if need be, locked: it serialises their doses."""
    try:
        with transaction.atomic():
            PersonVaccination.objects.get_or_create(
                person=person,
                defaults={"commune_id": person.commune_id, "birth_year": person.birth_year},
            )
    except IntegrityError:
        pass  # created by a concurrent dose
    return PersonVaccination.objects.select_for_update().get(person=person)


def status_refresh(status: PersonVaccination, person: Person) -> PersonVaccination:
    """Rewrite the summary from the person's valid doses."""
    facts = person_dose_facts(person)
    nxt = rules.next_dose(facts)
    primary = [f for f in facts if f.series == Dose.Series.PRIMARY]
    status.commune_id = person.commune_id
    status.birth_year = person.birth_year
    registration = Registration.objects.filter(person=person).values_list(
        "priority_group", flat=True
    )
    status.priority_group = registration.first() or ""
    status.doses = len(facts)
    status.primary_vaccine = facts[0].vaccine if facts else None
    status.primary_doses = len(primary)
    status.primary_complete = bool(facts) and len(primary) >= facts[0].vaccine.primary_doses
    status.boosters = len(facts) - len(primary)
    status.last_dose_on = facts[-1].day if facts else None
    status.next_earliest_on = nxt.earliest_on
    status.next_due_on = nxt.due_on
    status.save()
    return status


def _may_override(actor: User) -> bool:
    return actor_scope(actor).has_role(*OVERRIDE_ROLES)


def _insert_dose(
    *,
    actor: User,
    person: Person,
    vaccine: Vaccine,
    administered_at: datetime.datetime,
    nxt: rules.NextDose,
    **fields: Any,
) -> Dose:
    dose = Dose(
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
    try:
        with transaction.atomic():
            dose.save()
    except IntegrityError as exc:
        raise Conflict(
            _("This dose number is already recorded for this person."), code="dose_exists"
        ) from exc
    return dose


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
    allocation = (
        LotAllocation.objects.select_related("lot__vaccine")
        .filter(site=site, lot__uuid=lot_uuid)
        .first()
    )
    if allocation is None:
        raise InvalidInput(details={"fields": {"lot": [_("Choose a lot allocated to this site.")]}})
    vaccine = allocation.lot.vaccine
    person = booking.person
    with transaction.atomic():
        status = status_lock(person)
        locked = Booking.objects.select_for_update().get(pk=booking.pk)
        if locked.status != Booking.Status.CHECKED_IN:
            raise WrongStep(_("Check the person in and screen them before the injection."))
        screening = Screening.objects.filter(booking=locked).first()
        if screening is None or screening.outcome != Screening.Outcome.VACCINATE:
            raise WrongStep(_("The screening must conclude “vaccinate now” first."))
        nxt = rules.dose_check(
            doses=person_dose_facts(person),
            vaccine=vaccine,
            day=day,
            age=person.age_on(day),
            override=bool(override_reason),
        )
        dose = _insert_dose(
            actor=actor,
            person=person,
            vaccine=vaccine,
            administered_at=at,
            nxt=nxt,
            lot=allocation.lot,
            allocation=allocation,
            site=site,
            booking=locked,
            vaccinator=actor,
            override_reason=override_reason,
        )
        locked.status = Booking.Status.VACCINATED
        locked.save(update_fields=["status", "updated_at"])
        status_refresh(status, person)
        audit(
            actor,
            "vaccination.dose.recorded",
            dose,
            person_uuid=person.uuid,
            details={"sequence": dose.sequence, "override": bool(override_reason)},
        )
        # The lot's row is shared by every vaccinator of the site: taken last, so that its
        # lock is held only until the commit.
        allocation_take(allocation=allocation, day=day)
        transaction.on_commit(lambda: dose_recorded.send(sender=Dose, dose=dose, person=person))
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
        transaction.on_commit(lambda: dose_recorded.send(sender=Dose, dose=dose, person=person))
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
        transaction.on_commit(lambda: dose_corrected.send(sender=Dose, dose=locked, person=person))
    return locked
