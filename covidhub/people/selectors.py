"""Reads of people. Staff reads are scoped to the actor's areas and audited."""

from __future__ import annotations

import uuid
from collections.abc import Hashable
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet

from covidhub.accounts.models import User
from covidhub.accounts.scoping import actor_scope, area_path_q, primary_role
from covidhub.audit.alerts import staff_lookup_charge
from covidhub.audit.services import audit_record, audit_record_many
from covidhub.core.errors import NotFound
from covidhub.core.listing import Listing
from covidhub.core.text import fold_ascii
from covidhub.people.claims import identity_shown_set
from covidhub.people.models import CorrectionRequest, Person


def _person_filter(actor: Any) -> Q | None:
    """The filter of the people the actor may see; None: nobody."""
    if not getattr(actor, "is_authenticated", False):
        return None
    if actor.kind == User.Kind.CITIZEN:
        return Q(managed_by=actor)
    return area_path_q(actor_scope(actor), "commune_path")


def person_queryset_for_actor(*, actor: Any) -> QuerySet[Person]:
    """Every person the actor may see: a citizen their own household, staff their areas."""
    found = _person_filter(actor)
    return Person.objects.none() if found is None else Person.objects.filter(found)


def person_scope_key(*, actor: Any) -> Hashable:
    """What `person_queryset_for_actor` gives the actor, as a key (its filter): actors with
    the same key are given the same people, by the same SQL, so that a read compiled once
    for a key serves each of them."""
    return _person_filter(actor)


def person_get_for_actor(
    *, actor: Any, person_uuid: uuid.UUID | str, action: str = "people.person.viewed"
) -> Person:
    """One person, or NotFound when outside the actor's scope; staff reads are audited."""
    try:
        key = uuid.UUID(str(person_uuid))
    except ValueError as exc:
        raise NotFound() from exc
    person = (
        person_queryset_for_actor(actor=actor)
        .select_related("commune__parent")
        .filter(uuid=key)
        .first()
    )
    if person is None:
        raise NotFound()
    if actor.kind == User.Kind.STAFF:
        staff_lookup_charge(actor=actor, person_uuid=person.uuid)
        with transaction.atomic():
            audit_record(
                actor=actor, actor_role=primary_role(actor_scope(actor)), action=action, obj=person
            )
    return person


def person_list_for_actor(*, actor: Any, query: str = "", limit: int = 50) -> list[Person]:
    """The first `limit` people of `person_listing_for_actor`."""
    return person_listing_for_actor(actor=actor, query=query)[:limit]


def person_listing_for_actor(*, actor: Any, query: str = "") -> Listing[Person]:
    """Search people by folded name, identity number or phone, within the actor's scope;
    each page a staff member is shown is audited (and a number typed is a look-up)."""
    qs = person_queryset_for_actor(actor=actor).select_related("commune")
    text = query.strip()
    by_identity = False
    if text:
        digits = "".join(ch for ch in text if ch.isdigit())
        by_identity = len(digits) >= 9 and len(digits) == len(text.replace(" ", ""))
        if by_identity:
            qs = qs.filter(id_number=digits) | qs.filter(phone__endswith=digits[-9:])
        else:
            qs = qs.filter(search_name__contains=fold_ascii(text))

    def shown(people: list[Person]) -> list[Person]:
        if actor.kind == User.Kind.STAFF and by_identity:
            # A number typed into the search finds one person: a look-up, charged like one.
            for person in people:
                staff_lookup_charge(actor=actor, person_uuid=person.uuid)
        if actor.kind == User.Kind.STAFF:
            audit_record_many(
                actor=actor,
                actor_role=primary_role(actor_scope(actor)),
                action="people.person.listed",
                objects=list(people),
            )
        return people

    return Listing(qs.order_by("search_name", "id"), each_page=shown)


def household_of(*, account: User) -> list[Person]:
    """The account's own person first, then family members.

    A number waiting as a claim is shown as the account typed it (`identity_shown_set`),
    so that the household reads the same whether the number clashed or not.
    """
    people = list(
        Person.objects.filter(managed_by=account)
        .select_related("commune__parent")
        .prefetch_related(
            Prefetch(
                "correction_requests",
                queryset=CorrectionRequest.objects.filter(
                    kind=CorrectionRequest.Kind.CLAIM, status=CorrectionRequest.Status.PENDING
                ),
                to_attr="pending_claims",
            )
        )
    )
    for person in people:
        for claim in person.pending_claims:  # type: ignore[attr-defined]
            identity_shown_set(
                person, id_type=claim.proposed["id_type"], masked=claim.proposed_id_masked
            )
    return sorted(people, key=lambda p: (p.relationship != Person.Relationship.SELF, p.search_name))


def household_person_get(*, account: User, person_uuid: uuid.UUID | str) -> Person:
    """One person of the account's household (with a waiting claim shown), or NotFound."""
    try:
        key = uuid.UUID(str(person_uuid))
    except ValueError as exc:
        raise NotFound() from exc
    for person in household_of(account=account):
        if person.uuid == key:
            return person
    raise NotFound()


def pending_claim_number(person: Person) -> tuple[str, str]:
    """(id_type, id_number) of the person's waiting claim, for the account's own form."""
    claim = CorrectionRequest.objects.filter(
        person=person, kind=CorrectionRequest.Kind.CLAIM, status=CorrectionRequest.Status.PENDING
    ).first()
    if claim is None:
        return "", ""
    return str(claim.proposed["id_type"]), str(claim.proposed["id_number"])


def correction_queryset_for_actor(*, actor: Any) -> QuerySet[CorrectionRequest]:
    """Requests about people in the officer's areas; none for anyone else."""
    if not getattr(actor, "is_authenticated", False) or actor.kind != User.Kind.STAFF:
        return CorrectionRequest.objects.none()
    return CorrectionRequest.objects.filter(area_path_q(actor_scope(actor), "person__commune_path"))


def correction_list_for_actor(
    *, actor: Any, status: str = CorrectionRequest.Status.PENDING, limit: int = 100
) -> list[CorrectionRequest]:
    """The first `limit` requests of `correction_listing_for_actor`."""
    return correction_listing_for_actor(actor=actor, status=status)[:limit]


def correction_listing_for_actor(
    *, actor: Any, status: str = CorrectionRequest.Status.PENDING
) -> Listing[CorrectionRequest]:
    """The officer's queue (oldest first), each page's reads audited like a person search."""
    return Listing(
        correction_queryset_for_actor(actor=actor)
        .filter(status=status)
        .select_related("person__commune", "requested_by", "decided_by")
        .order_by("created_at", "id"),
        each_page=lambda requests: _corrections_shown(actor=actor, requests=requests),
    )


def _corrections_shown(*, actor: Any, requests: list[CorrectionRequest]) -> list[CorrectionRequest]:
    if requests:
        # A pending claim's read is recorded against the claim, not on the person's trail:
        # the account reads that trail, and an officer's visit would tell it the number
        # it typed is held by someone (the existence oracle, delayed).
        role = primary_role(actor_scope(actor))
        audit_record_many(
            actor=actor,
            actor_role=role,
            action="people.person.listed",
            objects=[r.person for r in requests if not _is_pending_claim(r)],
        )
        audit_record_many(
            actor=actor,
            actor_role=role,
            action="people.identity_claim.listed",
            objects=[r for r in requests if _is_pending_claim(r)],
        )
    return requests


def _is_pending_claim(request: CorrectionRequest) -> bool:
    return (
        request.kind == CorrectionRequest.Kind.CLAIM
        and request.status == CorrectionRequest.Status.PENDING
    )


def correction_get_for_actor(*, actor: Any, request_uuid: uuid.UUID | str) -> CorrectionRequest:
    """One request about a person in the officer's areas (read audited), or NotFound."""
    try:
        key = uuid.UUID(str(request_uuid))
    except ValueError as exc:
        raise NotFound() from exc
    request = (
        correction_queryset_for_actor(actor=actor)
        .select_related("person__commune__parent", "requested_by", "decided_by")
        .filter(uuid=key)
        .first()
    )
    if request is None:
        raise NotFound()
    with transaction.atomic():
        audit_record(
            actor=actor,
            actor_role=primary_role(actor_scope(actor)),
            action="people.correction.viewed",
            # See correction_list_for_actor: a pending claim's read stays off the trail.
            obj=request if _is_pending_claim(request) else request.person,
            details={"request": str(request.uuid), "person": str(request.person.uuid)},
        )
    return request


def correction_holders_for_actor(
    *, actor: Any, requests: list[CorrectionRequest]
) -> dict[int, tuple[bool, Person | None]]:
    """For each request: whether another record holds the proposed number, and that
    record if the officer may see it (outside their areas they learn only that it
    exists). Two queries for any number of requests."""
    wanted = {
        (str(r.proposed.get("id_type") or ""), str(r.proposed.get("id_number") or ""))
        for r in requests
        if r.proposed.get("id_number")
    }
    if not wanted:
        return {r.pk: (False, None) for r in requests}
    match = Q(pk__in=[])
    for id_type, number in wanted:
        match |= Q(id_type=id_type, id_number=number)
    holders = {(p.id_type, p.id_number): p for p in Person.objects.filter(match)}
    visible = set(
        person_queryset_for_actor(actor=actor)
        .filter(pk__in=[p.pk for p in holders.values()])
        .values_list("pk", flat=True)
    )
    shown = [p for p in holders.values() if p.pk in visible]
    if shown:
        # The officer sees who holds the number: a read of that record, on its trail.
        audit_record_many(
            actor=actor,
            actor_role=primary_role(actor_scope(actor)),
            action="people.person.listed",
            objects=list(shown),
        )
    answer: dict[int, tuple[bool, Person | None]] = {}
    for r in requests:
        holder = holders.get(
            (str(r.proposed.get("id_type") or ""), str(r.proposed.get("id_number") or ""))
        )
        if holder is None or holder.pk == r.person_id:
            answer[r.pk] = (False, None)
        else:
            answer[r.pk] = (True, holder if holder.pk in visible else None)
    return answer


def correction_holder_for_actor(
    *, actor: Any, request: CorrectionRequest
) -> tuple[bool, Person | None]:
    """`correction_holders_for_actor` for one request."""
    return correction_holders_for_actor(actor=actor, requests=[request])[request.pk]


def correction_list_for_account(*, account: User) -> list[CorrectionRequest]:
    """The requests an account made for its household, newest first."""
    # A claim waiting for the commune is not listed: it would say the number is held.
    return list(
        CorrectionRequest.objects.filter(person__managed_by=account)
        .exclude(kind=CorrectionRequest.Kind.CLAIM, status=CorrectionRequest.Status.PENDING)
        .select_related("person")
        .order_by("-created_at", "-id")
    )
