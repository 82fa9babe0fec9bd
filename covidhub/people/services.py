"""Writes to people: creation, correction, family members. Every staff write is audited."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.utils.translation import gettext as _

from covidhub.accounts.models import User
from covidhub.accounts.scoping import actor_scope, primary_role
from covidhub.audit.services import audit_record
from covidhub.core.errors import Conflict, InvalidInput
from covidhub.core.text import fold_ascii, icao_transliterate
from covidhub.people.models import Person
from covidhub.people.validation import PersonInput

# Sent after identity fields (name, date of birth) change, so that capabilities above
# (certificates) can re-issue what carries them without this app knowing of them.
person_identity_changed = Signal()

IDENTITY_FIELDS = ("full_name", "birth_year", "birth_date", "sex", "id_type", "id_number")


def _apply(person: Person, data: PersonInput) -> list[str]:
    values: dict[str, Any] = {
        "full_name": data.full_name,
        "search_name": fold_ascii(data.full_name),
        "icao_name": icao_transliterate(data.full_name),
        "birth_year": data.birth.year,
        "birth_date": data.birth.as_date(),
        "sex": data.sex,
        "nationality": data.nationality,
        "id_type": data.id_type,
        "id_number": data.id_number,
        "phone": data.phone,
        "email": data.email,
        "address_line": data.address_line,
        "commune": data.commune,
        "commune_path": data.commune.path,
    }
    changed = []
    for name, value in values.items():
        current = person.commune_id if name == "commune" else getattr(person, name)
        if name == "commune":
            value = value.pk
            name = "commune_id"
        if current != value:
            setattr(person, name, value)
            changed.append(name.removesuffix("_id"))
    return changed


def _ensure_identity_free(data: PersonInput, *, exclude_pk: int | None) -> None:
    if not data.id_number:
        return
    clash = Person.objects.filter(id_type=data.id_type, id_number=data.id_number)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise InvalidInput(
            details={"fields": {"id_number": [_("This identity number is already registered.")]}},
            code="identity_taken",
        )


def _audit(actor: Any, action: str, person: Person, details: dict[str, Any]) -> None:
    if getattr(actor, "is_authenticated", False):
        audit_record(
            actor=actor,
            actor_role=primary_role(actor_scope(actor)),
            action=action,
            obj=person,
            details=details,
        )


@transaction.atomic
def person_create(
    *,
    actor: Any,
    data: PersonInput,
    managed_by: User | None = None,
    relationship: str = "",
) -> Person:
    """Create a person; the identity number may belong to nobody else."""
    _ensure_identity_free(data, exclude_pk=None)
    if (
        relationship == Person.Relationship.SELF
        and managed_by is not None
        and Person.objects.filter(
            managed_by=managed_by, relationship=Person.Relationship.SELF
        ).exists()
    ):
        raise Conflict(_("This account already has its own profile."), code="self_exists")
    person = Person(managed_by=managed_by, relationship=relationship)
    _apply(person, data)
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError as exc:
        # A concurrent registration took the identity number between the check and the insert.
        raise InvalidInput(
            details={"fields": {"id_number": [_("This identity number is already registered.")]}},
            code="identity_taken",
        ) from exc
    _audit(actor, "people.person.created", person, {})
    return person


@transaction.atomic
def person_update(*, actor: Any, person: Person, data: PersonInput) -> Person:
    """Correct a person's record; identity changes are signalled to the capabilities."""
    person = Person.objects.select_for_update().get(pk=person.pk)
    _ensure_identity_free(data, exclude_pk=person.pk)
    changed = _apply(person, data)
    if not changed:
        return person
    person.save()
    _audit(actor, "people.person.updated", person, {"fields": sorted(changed)})
    if set(changed) & set(IDENTITY_FIELDS):
        transaction.on_commit(
            lambda: person_identity_changed.send(sender=Person, person=person, actor=actor)
        )
    return person


def family_member_add(*, account: User, data: PersonInput, relationship: str) -> Person:
    """A citizen adds a child or parent without a phone of their own to their account."""
    if (
        relationship in ("", Person.Relationship.SELF)
        or relationship not in Person.Relationship.values
    ):
        raise InvalidInput(
            details={"fields": {"relationship": [_("Choose how this person is related to you.")]}}
        )
    return person_create(actor=account, data=data, managed_by=account, relationship=relationship)
