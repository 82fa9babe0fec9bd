"""Reads of people. Staff reads are scoped to the actor's areas and audited."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from covidhub.accounts.models import User
from covidhub.accounts.scoping import actor_scope, area_path_q, primary_role
from covidhub.audit.services import audit_record, audit_record_many
from covidhub.core.errors import NotFound
from covidhub.core.text import fold_ascii
from covidhub.people.models import Person


def person_queryset_for_actor(*, actor: Any) -> QuerySet[Person]:
    """Every person the actor may see: a citizen their own household, staff their areas."""
    if not getattr(actor, "is_authenticated", False):
        return Person.objects.none()
    if actor.kind == User.Kind.CITIZEN:
        return Person.objects.filter(managed_by=actor)
    return Person.objects.filter(area_path_q(actor_scope(actor), "commune_path"))


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
        with transaction.atomic():
            audit_record(
                actor=actor, actor_role=primary_role(actor_scope(actor)), action=action, obj=person
            )
    return person


def person_list_for_actor(*, actor: Any, query: str = "", limit: int = 50) -> list[Person]:
    """Search people by folded name, identity number or phone, within the actor's scope."""
    qs = person_queryset_for_actor(actor=actor).select_related("commune")
    text = query.strip()
    if text:
        digits = "".join(ch for ch in text if ch.isdigit())
        if digits and len(digits) >= 9 and len(digits) == len(text.replace(" ", "")):
            qs = qs.filter(id_number=digits) | qs.filter(phone__endswith=digits[-9:])
        else:
            qs = qs.filter(search_name__contains=fold_ascii(text))
    people = list(qs.order_by("search_name", "id")[:limit])
    if actor.kind == User.Kind.STAFF:
        audit_record_many(
            actor=actor,
            actor_role=primary_role(actor_scope(actor)),
            action="people.person.listed",
            objects=list(people),
        )
    return people


def household_of(*, account: User) -> list[Person]:
    """The account's own person first, then family members."""
    people = list(Person.objects.filter(managed_by=account).select_related("commune"))
    return sorted(people, key=lambda p: (p.relationship != Person.Relationship.SELF, p.search_name))
