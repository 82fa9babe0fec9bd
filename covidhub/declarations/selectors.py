"""Reads of the declarations capability. Staff reads are scoped to the actor's areas
(anything outside is NotFound) and audited."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from covidhub.accounts.models import User
from covidhub.accounts.scoping import actor_scope, area_path_q, primary_role
from covidhub.audit.services import audit_record, audit_record_many
from covidhub.core.errors import NotFound
from covidhub.core.listing import Listing
from covidhub.declarations.models import (
    Case,
    CheckIn,
    Declaration,
    ExposureCandidate,
    FollowUp,
    Venue,
    VenueStaff,
)
from covidhub.declarations.services import venue_may_manage, venue_may_scan
from covidhub.people.models import Person


def _uuid(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise NotFound() from exc


def _is_staff(actor: Any) -> bool:
    return getattr(actor, "kind", "") == User.Kind.STAFF


# Citizens ------------------------------------------------------------------------------


def household_person_get(*, account: Any, person_uuid: Any) -> Person:
    """One person the account manages (NotFound otherwise)."""
    person = (
        Person.objects.select_related("commune")
        .filter(managed_by_id=getattr(account, "pk", None), uuid=_uuid(person_uuid))
        .first()
    )
    if person is None:
        raise NotFound()
    return person


def household_people_get(*, account: Any, person_uuids: list[Any]) -> list[Person]:
    keys = {_uuid(u) for u in person_uuids}
    people = list(Person.objects.filter(managed_by_id=getattr(account, "pk", None), uuid__in=keys))
    if len(people) != len(keys):
        raise NotFound()
    return people


def declaration_last(*, person: Person) -> Declaration | None:
    return Declaration.objects.filter(person=person).order_by("-created_at", "-id").first()


def declaration_list_for_account(*, account: Any) -> QuerySet[Declaration]:
    return (
        Declaration.objects.filter(person__managed_by_id=getattr(account, "pk", None))
        .select_related("person", "commune")
        .order_by("-created_at", "-id")
    )


def declaration_prefill(*, person: Person, account: Any) -> dict[str, Any]:
    """The form's starting answers: contact details and chronic conditions from the last
    declaration, else from the person's record. Symptoms and exposures are asked afresh."""
    last = declaration_last(person=person)
    if last is not None:
        return {
            "phone": last.phone,
            "commune": last.commune.code,
            "address_line": last.address_line,
            "chronic_conditions": last.answers.get("chronic_conditions", ""),
        }
    return {
        "phone": person.phone or getattr(account, "phone", "") or "",
        "commune": person.commune.code,
        "address_line": person.address_line,
        "chronic_conditions": "",
    }


def checkin_queryset_for_account(*, account: Any) -> QuerySet[CheckIn]:
    """The household's check-ins, newest first."""
    return (
        CheckIn.objects.filter(person__managed_by_id=getattr(account, "pk", None))
        .select_related("person", "venue")
        .order_by("-checked_in_at", "-id")
    )


def checkin_list_for_account(*, account: Any, limit: int = 50) -> list[CheckIn]:
    return list(checkin_queryset_for_account(account=account)[:limit])


def checkin_get_for_account(*, account: Any, checkin_uuid: Any) -> CheckIn:
    checkin = (
        CheckIn.objects.select_related("person", "venue")
        .filter(uuid=_uuid(checkin_uuid), person__managed_by_id=getattr(account, "pk", None))
        .first()
    )
    if checkin is None:
        raise NotFound()
    return checkin


# Venues --------------------------------------------------------------------------------


def venue_list_for_actor(*, actor: Any) -> QuerySet[Venue]:
    """Venues the actor owns, works at (staff), or oversees as an officer."""
    user_id = getattr(actor, "pk", None) or 0
    mine = Q(owner_id=user_id) | Q(
        Exists(VenueStaff.objects.filter(venue=OuterRef("pk"), user_id=user_id))
    )
    if _is_staff(actor):
        mine |= area_path_q(actor_scope(actor), "commune_path")
    return Venue.objects.filter(mine).select_related("commune").order_by("name", "id")


def venue_get_for_actor(*, actor: Any, venue_uuid: Any, manage: bool = False) -> Venue:
    venue = Venue.objects.select_related("commune__parent").filter(uuid=_uuid(venue_uuid)).first()
    if venue is None:
        raise NotFound()
    allowed = (
        venue_may_manage(actor=actor, venue=venue)
        if manage
        else venue_may_scan(actor=actor, venue=venue)
    )
    if not allowed:
        raise NotFound()
    return venue


def venue_staff_list(*, venue: Venue) -> list[VenueStaff]:
    return list(VenueStaff.objects.filter(venue=venue).select_related("user"))


# Follow-up -----------------------------------------------------------------------------


def followup_queryset_for_actor(*, actor: Any) -> QuerySet[FollowUp]:
    if not _is_staff(actor):
        return FollowUp.objects.none()
    return FollowUp.objects.filter(area_path_q(actor_scope(actor), "commune_path"))


def followup_list_for_actor(
    *, actor: Any, status: str | None = FollowUp.Status.OPEN, limit: int = 50, offset: int = 0
) -> list[FollowUp]:
    """One page of `followup_listing_for_actor`."""
    return followup_listing_for_actor(actor=actor, status=status)[offset : offset + limit]


def followup_listing_for_actor(
    *, actor: Any, status: str | None = FollowUp.Status.OPEN
) -> Listing[FollowUp]:
    """The commune's list, open first, most urgent and newest first; every row shown is
    audited."""
    qs = followup_queryset_for_actor(actor=actor).select_related("person", "commune")
    if status:
        qs = qs.filter(status=status)

    def shown(items: list[FollowUp]) -> list[FollowUp]:
        audit_record_many(
            actor=actor,
            actor_role=primary_role(actor_scope(actor)),
            action="declarations.followup.listed",
            objects=list(items),
        )
        return items

    return Listing(qs.order_by("-status", "-urgency", "-created_at", "-id"), each_page=shown)


def followup_get_for_actor(*, actor: Any, followup_uuid: Any) -> FollowUp:
    item = (
        followup_queryset_for_actor(actor=actor)
        .select_related("person", "commune__parent", "declaration")
        .filter(uuid=_uuid(followup_uuid))
        .first()
    )
    if item is None:
        raise NotFound()
    with transaction.atomic():
        audit_record(
            actor=actor,
            actor_role=primary_role(actor_scope(actor)),
            action="declarations.followup.viewed",
            obj=item,
            person_uuid=item.person.uuid,
        )
    return item


# Cases ---------------------------------------------------------------------------------


def case_queryset_for_actor(*, actor: Any) -> QuerySet[Case]:
    """Cases of people in the actor's area, and cases with F1 candidates in it."""
    if not _is_staff(actor):
        return Case.objects.none()
    scope = actor_scope(actor)
    in_scope = area_path_q(scope, "commune_path")
    candidates = ExposureCandidate.objects.filter(
        area_path_q(scope, "commune_path"), case=OuterRef("pk")
    )
    return Case.objects.filter(in_scope | Q(Exists(candidates)))


def case_list_for_actor(*, actor: Any, limit: int = 100) -> list[Case]:
    """The first `limit` cases of `case_listing_for_actor`."""
    return case_listing_for_actor(actor=actor, each=lambda case: case)[:limit]


def case_listing_for_actor[T](*, actor: Any, each: Callable[[Case], T]) -> Listing[T]:
    """Cases the actor may see, newest first, each shown through `each`; the shown cases
    of people in the actor's area are audited."""
    scope = actor_scope(actor)

    def shown(cases: list[Case]) -> list[T]:
        visible = [c for c in cases if scope.covers_path(c.commune_path)]
        audit_record_many(
            actor=actor,
            actor_role=primary_role(scope),
            action="declarations.case.listed",
            objects=list(visible),
        )
        return [each(case) for case in cases]

    return Listing(
        case_queryset_for_actor(actor=actor)
        .select_related("person", "proposed_by", "decided_by")
        .order_by("-created_at", "-id"),
        each_page=shown,
    )


def case_get_for_actor(*, actor: Any, case_uuid: Any) -> Case:
    case = (
        case_queryset_for_actor(actor=actor)
        .select_related("person", "proposed_by", "decided_by")
        .filter(uuid=_uuid(case_uuid))
        .first()
    )
    if case is None:
        raise NotFound()
    scope = actor_scope(actor)
    if scope.covers_path(case.commune_path):
        with transaction.atomic():
            audit_record(
                actor=actor,
                actor_role=primary_role(scope),
                action="declarations.case.viewed",
                obj=case,
                person_uuid=case.person.uuid,
            )
    return case


def case_person_visible(*, actor: Any, case: Case) -> bool:
    """Officers of other areas see a case only through their own F1 candidates."""
    return actor_scope(actor).covers_path(case.commune_path)


def candidate_queryset_for_actor(*, actor: Any, case: Case) -> QuerySet[ExposureCandidate]:
    if not _is_staff(actor):
        return ExposureCandidate.objects.none()
    return ExposureCandidate.objects.filter(
        area_path_q(actor_scope(actor), "commune_path"), case=case
    )


def candidate_list_for_actor(
    *, actor: Any, case: Case, limit: int = 500
) -> list[ExposureCandidate]:
    """The first `limit` of `candidate_listing_for_actor`."""
    return candidate_listing_for_actor(actor=actor, case=case)[:limit]


def candidate_listing_for_actor(*, actor: Any, case: Case) -> Listing[ExposureCandidate]:
    """The case's F1 candidates in the actor's area, by first overlap; each page audited."""

    def shown(items: list[ExposureCandidate]) -> list[ExposureCandidate]:
        audit_record_many(
            actor=actor,
            actor_role=primary_role(actor_scope(actor)),
            action="declarations.exposure.listed",
            objects=list(items),
        )
        return items

    return Listing(
        candidate_queryset_for_actor(actor=actor, case=case)
        .select_related("person", "venue")
        .order_by("first_overlap_at", "id"),
        each_page=shown,
    )


def health_measures_of_people(
    people: QuerySet[Person], since: datetime.date
) -> dict[int, dict[str, datetime.date]]:
    """The `covidhub.people.health_status` provider: confirmed cases (from their onset)
    and isolation advised by the commune's follow-up call (from that call)."""
    from covidhub.people.health_status import CONFIRMED_CASE, ISOLATING

    found: dict[int, dict[str, datetime.date]] = {}

    def keep(person_id: int, measure: str, started: datetime.date) -> None:
        known = found.setdefault(person_id, {})
        if measure not in known or started > known[measure]:
            known[measure] = started

    cases = Case.objects.filter(
        person__in=people, status=Case.Status.CONFIRMED, onset_date__gte=since
    ).values_list("person_id", "onset_date")
    for person_id, onset in cases:
        keep(person_id, CONFIRMED_CASE, onset)
    start = timezone.make_aware(datetime.datetime.combine(since, datetime.time.min))
    isolations = FollowUp.objects.filter(
        person__in=people,
        outcome=FollowUp.Outcome.HOME_ISOLATION,
        last_called_at__gte=start,
    ).values_list("person_id", "last_called_at")
    for person_id, called_at in isolations:
        keep(person_id, ISOLATING, timezone.localdate(called_at))
    return found
