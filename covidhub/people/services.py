"""Writes to people: creation, correction, family members. Every staff write is audited."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, NoReturn

from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.utils.translation import gettext as _

from covidhub.accounts.models import User
from covidhub.accounts.scoping import actor_scope, primary_role
from covidhub.audit.services import audit_record
from covidhub.core.errors import Conflict, InvalidInput
from covidhub.core.text import fold_ascii, icao_transliterate
from covidhub.people.claims import identity_attempt_record, identity_claim_open, identity_holder
from covidhub.people.errors import CorrectionPending, IdentityLocked, IdentityUnusable
from covidhub.people.locks import IDENTITY_FIELDS, person_identity_locked
from covidhub.people.models import CorrectionRequest, Person
from covidhub.people.validation import PersonInput

# Sent after identity fields (name, date of birth) change, so that capabilities above
# (certificates) can re-issue what carries them without this app knowing of them.
# `correction` is the approved CorrectionRequest when the person's identity was locked;
# a receiver re-issues signed documents only with one (see certificates.receivers).
person_identity_changed = Signal()


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


def _identity_taken() -> NoReturn:
    # Only staff paths (walk-ins, staff edits) get this answer, worded so that it does not
    # confirm the number exists elsewhere; citizens get a claim instead.
    raise IdentityUnusable()


def _ensure_identity_free(data: PersonInput, *, exclude_pk: int | None) -> None:
    if identity_holder(id_type=data.id_type, id_number=data.id_number, exclude_pk=exclude_pk):
        _identity_taken()


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
    except IntegrityError:
        # A concurrent registration took the identity number between the check and the insert.
        _identity_taken()
    _audit(actor, "people.person.created", person, {})
    return person


def _identity_changes(person: Person, data: PersonInput) -> list[str]:
    """The identity fields (as the forms name them) that `data` would change."""
    changed = []
    if person.full_name != data.full_name:
        changed.append("full_name")
    if (person.birth_year, person.birth_date) != (data.birth.year, data.birth.as_date()):
        changed.append("birth")
    if person.sex != data.sex:
        changed.append("sex")
    if (person.id_type, person.id_number) != (data.id_type, data.id_number):
        changed.append("id_number")
    return changed


def _pending_request(person: Person) -> CorrectionRequest | None:
    return (
        CorrectionRequest.objects.select_for_update()
        .filter(person=person, status=CorrectionRequest.Status.PENDING)
        .first()
    )


def _is_citizen(actor: Any) -> bool:
    return getattr(actor, "is_authenticated", False) and actor.kind == User.Kind.CITIZEN


def person_update(*, actor: Any, person: Person, data: PersonInput) -> Person:
    """Correct a person's record: the one rule for every edit, web or API, citizen or staff.

    Once the person has a dose, result or certificate (`person_identity_locked`), their
    identity fields are refused here (`IdentityLocked`): a change goes through a correction
    request (`covidhub.people.corrections`). A citizen's new identity number that another
    record holds becomes a claim for the commune, answered like any accepted number.
    """
    if (
        _is_citizen(actor)
        and data.id_number
        and data.id_number != person.id_number
        and not CorrectionRequest.objects.filter(
            person=person,
            kind=CorrectionRequest.Kind.CLAIM,
            status=CorrectionRequest.Status.PENDING,
            proposed__id_number=data.id_number,
        ).exists()
    ):
        identity_attempt_record(account=actor)
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        pending = _pending_request(person)
        if (
            pending is not None
            and pending.kind == CorrectionRequest.Kind.CLAIM
            and (data.id_type, data.id_number)
            == (pending.proposed.get("id_type"), pending.proposed.get("id_number"))
        ):
            # The form shows the claimed number; sending it back is no new claim.
            data = replace(data, id_type=person.id_type, id_number=person.id_number)
        identity_changes = _identity_changes(person, data)
        if identity_changes and person_identity_locked(person):
            raise IdentityLocked(details={"locked_fields": identity_changes})
        claim_data: PersonInput | None = None
        if "id_number" in identity_changes and data.id_number:
            if pending is not None:
                raise CorrectionPending()
            if identity_holder(
                id_type=data.id_type, id_number=data.id_number, exclude_pk=person.pk
            ):
                if not _is_citizen(actor):
                    _identity_taken()
                claim_data = data
                data = replace(data, id_type=person.id_type, id_number=person.id_number)
        changed = _apply(person, data)
        if changed:
            try:
                with transaction.atomic():
                    person.save()
            except IntegrityError:
                _identity_taken()
            _audit(actor, "people.person.updated", person, {"fields": sorted(changed)})
        if claim_data is not None:
            identity_claim_open(account=actor, person=person, data=claim_data)
        if set(changed) & set(IDENTITY_FIELDS):
            person_identity_changed_on_commit(person=person, actor=actor, correction=None)
    return person


def person_identity_changed_on_commit(
    *, person: Person, actor: Any, correction: CorrectionRequest | None
) -> None:
    transaction.on_commit(
        lambda: person_identity_changed.send(
            sender=Person, person=person, actor=actor, correction=correction
        )
    )


@transaction.atomic
def _household_create(*, account: User, data: PersonInput, relationship: str) -> Person:
    if (
        relationship == Person.Relationship.SELF
        and Person.objects.filter(
            managed_by=account, relationship=Person.Relationship.SELF
        ).exists()
    ):
        raise Conflict(_("This account already has its own profile."), code="self_exists")
    holder = identity_holder(id_type=data.id_type, id_number=data.id_number, exclude_pk=None)
    if holder is None:
        try:
            with transaction.atomic():
                return person_create(
                    actor=account, data=data, managed_by=account, relationship=relationship
                )
        except InvalidInput as exc:
            if exc.code != IdentityUnusable.code:
                raise
            # Taken between the look-up and the insert: a claim like any other clash.
    person = person_create(
        actor=account,
        data=replace(data, id_type="", id_number=""),
        managed_by=account,
        relationship=relationship,
    )
    identity_claim_open(account=account, person=person, data=data)
    return person


def household_person_create(*, account: User, data: PersonInput, relationship: str) -> Person:
    """A citizen saves their own profile or a family member.

    An identity number another record holds is not refused, which would confirm that it
    exists: the person is saved without it and a claim goes to the commune
    (`covidhub.people.claims`); the answer is the same as for a free number.
    """
    if data.id_number:
        identity_attempt_record(account=account)
    return _household_create(account=account, data=data, relationship=relationship)


def family_member_add(*, account: User, data: PersonInput, relationship: str) -> Person:
    """A citizen adds a child or parent without a phone of their own to their account."""
    if (
        relationship in ("", Person.Relationship.SELF)
        or relationship not in Person.Relationship.values
    ):
        raise InvalidInput(
            details={"fields": {"relationship": [_("Choose how this person is related to you.")]}}
        )
    return household_person_create(account=account, data=data, relationship=relationship)
