"""Opening, referring and releasing care orders."""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from covidhub.audit.services import audit_record
from covidhub.core.cleaning import text_clean
from covidhub.core.dates import date_text
from covidhub.core.errors import InvalidInput, NotFound
from covidhub.homecare.errors import OrderAlreadyOpen, OrderNotOpen, ReleaseNotDue
from covidhub.homecare.models import CareAlert, CareOrder, SelfCheck
from covidhub.homecare.protocol import (
    ProtocolRules,
    eligibility_findings,
    planned_days,
    protocol_active,
    province_code_of,
    rules_of,
)
from covidhub.homecare.selectors import open_counts_forget
from covidhub.homecare.services.common import officer_required, role_of
from covidhub.notifications.language import notice_language
from covidhub.notifications.services import (
    message_queue_many,
    person_notice_items,
)
from covidhub.people.models import Person

logger = logging.getLogger("covidhub.homecare")


def person_vaccinated(person: Person) -> bool:
    """Whether the person completed a primary series (the vaccination capability's doses)."""
    from covidhub.vaccination.models import Dose

    return Dose.objects.filter(
        person=person, status=Dose.Status.VALID, completes_primary=True
    ).exists()


def _risk(findings: list[str], *, age: int, vaccinated: bool) -> int:
    if findings:
        return CareOrder.Risk.HIGH
    if age >= 50 or not vaccinated:
        return CareOrder.Risk.MODERATE
    return CareOrder.Risk.LOW


def _person_told(order: CareOrder) -> None:
    """The person (their household account, their phone) learns of the order and where to
    send the daily check."""
    person = order.person
    with notice_language(person) as language:
        values = {
            "name": person.full_name,
            "end": date_text(order.planned_end),
        }
        if order.status == CareOrder.Status.RELEASED:
            body = (
                _(
                    "%(name)s is released from home care or quarantine. The release paper is "
                    "in the app."
                )
                % values
            )
        elif order.status == CareOrder.Status.REFERRED:
            body = (
                _(
                    "%(name)s: the commune health station will arrange care at a treatment "
                    "facility. Stay at home and wait for the station's call."
                )
                % values
            )
        elif order.kind == CareOrder.Kind.HOME_CARE:
            body = (
                _(
                    "%(name)s is under home care until about %(end)s. Send the health check "
                    "twice a day in the app; call the station at once if breathing gets hard."
                )
                % values
            )
        else:
            body = (
                _(
                    "%(name)s must stay in quarantine until %(end)s. Send the health check "
                    "every day in the app; call the station if a symptom appears."
                )
                % values
            )
        subject = _("Home care and quarantine")
    key = f"homecare:order:{order.uuid}:{order.status}"
    items = person_notice_items(
        person,
        subject=subject,
        body=body,
        language=language,
        link=reverse("homecare:home"),
        key=key,
    )
    message_queue_many(items)


def _supersede_quarantine(person: Person) -> None:
    """An F1 who becomes an F0 leaves quarantine for home care (one open order a person)."""
    CareOrder.objects.filter(
        person=person, status=CareOrder.Status.OPEN, kind=CareOrder.Kind.QUARANTINE
    ).update(status=CareOrder.Status.SUPERSEDED, updated_at=timezone.now())
    open_counts_forget()


def _text(value: str, name: str, limit: int) -> str:
    cleaned = text_clean(value or "", field=name).strip()
    if len(cleaned) > limit:
        raise InvalidInput(
            details={"fields": {name: [_("At most %(n)d characters.") % {"n": limit}]}}
        )
    return cleaned


def _phone(value: str, name: str = "caretaker_phone") -> str:
    from covidhub.core.phones import InvalidPhone, phone_normalise

    if not (value or "").strip():
        return ""
    try:
        return phone_normalise(value)
    except InvalidPhone as exc:
        raise InvalidInput(details={"fields": {name: [str(exc.message)]}}) from exc


@transaction.atomic
def order_open_case(
    *,
    actor: Any,
    person: Person,
    source: str = CareOrder.Source.OFFICER,
    source_reference: str = "",
    start: datetime.date | None = None,
    onset: datetime.date | None = None,
    conditions: bool = False,
    pregnant: bool = False,
    keep_at_home: bool = False,
    caretaker_name: str = "",
    caretaker_phone: str = "",
) -> CareOrder:
    """Open an F0's home-care order, or its referral when the eligibility rules of the
    protocol in force say so (an officer may keep an ineligible person at home).

    `actor=None` is the positive-result signal (no scope check); an officer must cover
    the person's commune. An open quarantine (F1) is superseded; an open F0 order refuses.
    """
    if actor is not None:
        officer_required(actor, person.commune_path)
    today = timezone.localdate()
    start = min(start or today, today)
    protocol = protocol_active(province_code_of(person.commune_path))
    rules = rules_of(protocol)
    vaccinated = person_vaccinated(person)
    age = person.age_on(start)
    findings = eligibility_findings(
        rules, age=age, vaccinated=vaccinated, conditions=conditions, pregnant=pregnant
    )
    referred = bool(findings) and not keep_at_home
    _supersede_quarantine(person)
    order = CareOrder(
        person=person,
        kind=CareOrder.Kind.HOME_CARE,
        place=CareOrder.Place.HOME,
        status=CareOrder.Status.REFERRED if referred else CareOrder.Status.OPEN,
        source=source,
        source_reference=source_reference[:64],
        protocol=protocol,
        commune_id=person.commune_id,
        commune_path=person.commune_path,
        start_date=start,
        onset_date=min(onset or start, start),
        planned_end=start
        + datetime.timedelta(days=planned_days(rules, kind="f0_home", vaccinated=vaccinated)),
        risk=_risk(findings, age=age, vaccinated=vaccinated),
        eligibility=findings,
        underlying_conditions=conditions,
        pregnant=pregnant,
        caretaker_name=_text(caretaker_name, "caretaker_name", 150),
        caretaker_phone=_phone(caretaker_phone),
        referred_at=timezone.now() if referred else None,
        opened_by=actor if getattr(actor, "pk", None) else None,
    )
    try:
        with transaction.atomic():
            order.save(force_insert=True)
    except IntegrityError as exc:
        raise OrderAlreadyOpen() from exc
    audit_record(
        actor=actor,
        actor_role=role_of(actor),
        action="homecare.order.opened",
        obj=order,
        person_uuid=person.uuid,
        details={"kind": order.kind, "status": order.status, "findings": findings},
    )
    _person_told(order)
    return order


def order_from_positive_result(*, result: Any, person: Person) -> CareOrder | None:
    """A positive individual result opens the F0's order in the transaction that releases
    it; a person already under home care (an amendment, a second positive) gets nothing new."""
    if CareOrder.objects.filter(
        person=person, kind=CareOrder.Kind.HOME_CARE, status=CareOrder.Status.OPEN
    ).exists():
        return None
    collected = timezone.localdate(result.collected_at)
    try:
        with transaction.atomic():
            return order_open_case(
                actor=None,
                person=person,
                source=CareOrder.Source.TESTING,
                source_reference=str(result.uuid),
                start=collected,
                onset=collected,
            )
    except OrderAlreadyOpen:
        return None


@transaction.atomic
def order_open_contact(
    *, actor: Any, candidate: Any, place: str = CareOrder.Place.HOME
) -> CareOrder:
    """The commune confirms a traced contact (an exposure candidate of a confirmed case):
    an F1 quarantine order, linked to the case's own order for the contact graph."""
    from covidhub.declarations.models import ExposureCandidate

    if not isinstance(candidate, ExposureCandidate):
        raise NotFound()
    officer_required(actor, candidate.commune_path)
    if candidate.status == ExposureCandidate.Status.DISMISSED:
        raise NotFound()
    if place not in CareOrder.Place.values:
        raise InvalidInput(details={"fields": {"place": [_("Choose home or facility.")]}})
    person = candidate.person
    protocol = protocol_active(province_code_of(person.commune_path or candidate.commune_path))
    rules = rules_of(protocol)
    vaccinated = person_vaccinated(person)
    contact_day = timezone.localdate(candidate.first_overlap_at)
    days = planned_days(rules, kind=CareOrder.Kind.QUARANTINE, vaccinated=vaccinated)
    planned_end = contact_day + datetime.timedelta(days=days)
    if planned_end <= timezone.localdate():
        raise InvalidInput(_("The quarantine of this contact would already be over."))
    source_order = (
        CareOrder.objects.filter(person_id=candidate.case.person_id, kind=CareOrder.Kind.HOME_CARE)
        .order_by("-start_date", "-id")
        .first()
    )
    order = CareOrder(
        person=person,
        kind=CareOrder.Kind.QUARANTINE,
        place=place,
        source=CareOrder.Source.CONTACT,
        source_reference=str(candidate.uuid),
        source_order=source_order,
        venue_name=candidate.venue.name[:200],
        contact_at=candidate.first_overlap_at,
        protocol=protocol,
        commune_id=person.commune_id,
        commune_path=person.commune_path,
        start_date=contact_day,
        planned_end=planned_end,
        risk=CareOrder.Risk.LOW,
        opened_by=actor,
    )
    try:
        with transaction.atomic():
            order.save(force_insert=True)
    except IntegrityError as exc:
        raise OrderAlreadyOpen() from exc
    audit_record(
        actor=actor,
        actor_role=role_of(actor),
        action="homecare.order.opened",
        obj=order,
        person_uuid=person.uuid,
        details={"kind": order.kind, "place": place},
    )
    _person_told(order)
    return order


def _locked(order: CareOrder) -> CareOrder:
    return CareOrder.objects.select_for_update().select_related("person").get(pk=order.pk)


@transaction.atomic
def order_refer(*, actor: Any, order: CareOrder, facility: str) -> CareOrder:
    """Refer a person under care to a treatment facility (from an alert or the station)."""
    order = _locked(order)
    officer_required(actor, order.commune_path)
    if order.status != CareOrder.Status.OPEN:
        raise OrderNotOpen()
    order.status = CareOrder.Status.REFERRED
    order.referral_facility = _text(facility, "facility", 200)
    order.referred_at = timezone.now()
    order.save(update_fields=["status", "referral_facility", "referred_at", "updated_at"])
    audit_record(
        actor=actor,
        actor_role=role_of(actor),
        action="homecare.order.referred",
        obj=order,
        person_uuid=order.person.uuid,
    )
    return order


@dataclass(frozen=True)
class ReleaseAssessment:
    due: bool
    reason: str  # a CareOrder.ReleaseReason value when due
    earliest: datetime.date
    missing: list[str] = field(default_factory=list)


def _negative_on_or_after(person_id: int, day: datetime.date) -> bool:
    from covidhub.testing.models import Result

    since = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return Result.objects.filter(
        person_id=person_id, outcome=Result.Outcome.NEGATIVE, collected_at__gte=since
    ).exists()


def _symptom_free(order: CareOrder, rules: ProtocolRules, today: datetime.date) -> bool:
    if not rules.release_symptom_free_days:
        return True
    since = today - datetime.timedelta(days=rules.release_symptom_free_days - 1)
    start = timezone.make_aware(datetime.datetime.combine(since, datetime.time.min))
    recent = list(
        SelfCheck.objects.filter(order=order, measured_at__gte=start).values_list(
            "symptoms", flat=True
        )
    )
    return bool(recent) and not any(recent)


def release_assessment(
    order: CareOrder, *, today: datetime.date | None = None
) -> ReleaseAssessment:
    """Whether the protocol of the order lets the station release the person today."""
    today = today or timezone.localdate()
    rules = rules_of(order.protocol)
    missing: list[str] = []
    reason = ""
    earliest = order.planned_end
    if order.kind == CareOrder.Kind.HOME_CARE and rules.release_by_negative_test:
        test_day = order.start_date + datetime.timedelta(days=rules.f0_days)
        earliest = min(earliest, test_day)
        if today >= test_day and _negative_on_or_after(order.person_id, test_day):
            reason = CareOrder.ReleaseReason.NEGATIVE_TEST
    if not reason and today >= order.planned_end:
        reason = CareOrder.ReleaseReason.DAYS
    if not reason:
        missing.append(
            str(_("Not before %(day)s.") % {"day": date_text(earliest)})
            if today < earliest
            else str(
                _("A negative test taken from day %(n)d, or the end of the planned days.")
                % {"n": rules.f0_days}
            )
        )
    if not _symptom_free(order, rules, today):
        missing.append(
            str(
                _("No symptoms in the self-checks of the last %(n)d days.")
                % {"n": rules.release_symptom_free_days}
            )
        )
    if CareAlert.objects.filter(order=order, status=CareAlert.Status.OPEN).exists():
        missing.append(str(_("Close the open alerts first.")))
    return ReleaseAssessment(due=not missing, reason=reason, earliest=earliest, missing=missing)


@transaction.atomic
def order_release(*, actor: Any, order: CareOrder) -> CareOrder:
    """Release a person at the end of home care or quarantine, when the protocol allows."""
    order = _locked(order)
    officer_required(actor, order.commune_path)
    if order.status != CareOrder.Status.OPEN:
        raise OrderNotOpen()
    assessment = release_assessment(order)
    if not assessment.due:
        raise ReleaseNotDue(details={"missing": assessment.missing})
    order.status = CareOrder.Status.RELEASED
    order.released_at = timezone.now()
    order.released_by = actor
    order.release_reason = assessment.reason
    order.save(
        update_fields=["status", "released_at", "released_by", "release_reason", "updated_at"]
    )
    audit_record(
        actor=actor,
        actor_role=role_of(actor),
        action="homecare.order.released",
        obj=order,
        person_uuid=order.person.uuid,
        details={"reason": order.release_reason},
    )
    _person_told(order)
    return order
