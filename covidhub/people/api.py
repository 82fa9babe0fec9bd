"""People: a citizen's household, and staff search within their areas."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema, Status

from covidhub.accounts.api_auth import citizen_auth, request_user, staff_auth
from covidhub.audit.models import AuditEvent
from covidhub.audit.selectors import audit_list_for_people
from covidhub.core.api_base import BodyIn, Router, choice_field
from covidhub.core.listing import Listing
from covidhub.people.identity import IdType, Sex
from covidhub.people.models import Person
from covidhub.people.selectors import (
    household_of,
    household_person_get,
    person_get_for_actor,
    person_listing_for_actor,
)
from covidhub.people.services import family_member_add, household_person_create, person_update
from covidhub.people.validation import person_input_clean

router = Router(tags=["people"])


class PersonIn(BodyIn):
    full_name: str
    birth: str
    sex: str = choice_field(Sex, service_checks=True)
    commune: str
    id_type: str = choice_field(["", *IdType.values], "", service_checks=True)
    id_number: str = ""
    phone: str = ""
    email: str = ""
    address_line: str = ""
    nationality: str = "VN"


class FamilyMemberIn(PersonIn):
    relationship: str = choice_field(
        [value for value in Person.Relationship.values if value != Person.Relationship.SELF],
        service_checks=True,
    )


class PersonOut(Schema):
    uuid: uuid.UUID
    full_name: str
    birth: str
    sex: str = choice_field(Sex)
    nationality: str
    id_type: str = choice_field(["", *IdType.values])
    id_number_masked: str
    relationship: str = choice_field(Person.Relationship)
    commune_code: str
    commune_name: str
    district_name: str

    @staticmethod
    def resolve_birth(obj: Person) -> str:
        return obj.birth.iso()

    # A number waiting as a claim reads as the account typed it (`household_of`).
    @staticmethod
    def resolve_id_type(obj: Person) -> str:
        return getattr(obj, "shown_id_type", None) or obj.id_type

    @staticmethod
    def resolve_id_number_masked(obj: Person) -> str:
        return getattr(obj, "shown_id_masked", None) or obj.id_number_masked

    @staticmethod
    def resolve_commune_code(obj: Person) -> str:
        return obj.commune.code

    @staticmethod
    def resolve_commune_name(obj: Person) -> str:
        return obj.commune.name

    @staticmethod
    def resolve_district_name(obj: Person) -> str:
        return obj.commune.parent.name if obj.commune.parent else ""


class AccessOut(Schema):
    at: datetime.datetime
    action: str
    actor: str
    role: str
    person_uuid: uuid.UUID | None

    @staticmethod
    def resolve_actor(obj: AuditEvent) -> str:
        return str(obj.actor) if obj.actor else ""

    @staticmethod
    def resolve_role(obj: AuditEvent) -> str:
        return obj.actor_role


def _clean(payload: Schema) -> Any:
    return person_input_clean(payload.dict())


@router.get("/household", response=list[PersonOut], auth=citizen_auth, summary="My household")
def household(request: HttpRequest) -> list[Person]:
    return household_of(account=request_user(request))


@router.post(
    "/household/self", response={201: PersonOut}, auth=citizen_auth, summary="Create my own profile"
)
def self_create(request: HttpRequest, payload: PersonIn) -> Status[Person]:
    account = request_user(request)
    person = household_person_create(
        account=account, data=_clean(payload), relationship=Person.Relationship.SELF
    )
    return Status(201, household_person_get(account=account, person_uuid=person.uuid))


@router.post(
    "/household", response={201: PersonOut}, auth=citizen_auth, summary="Add a family member"
)
def member_add(request: HttpRequest, payload: FamilyMemberIn) -> Status[Person]:
    account = request_user(request)
    member = family_member_add(
        account=account, data=_clean(payload), relationship=payload.relationship
    )
    return Status(201, household_person_get(account=account, person_uuid=member.uuid))


@router.put(
    "/household/{uuid:person_uuid}",
    response=PersonOut,
    auth=citizen_auth,
    summary="Correct a household member",
)
def member_update(request: HttpRequest, person_uuid: uuid.UUID, payload: PersonIn) -> Person:
    """Identity fields of a person with records are locked (409 `identity_locked`): send
    a correction request instead (`POST /household/{person}/corrections`)."""
    account = request_user(request)
    person = household_person_get(account=account, person_uuid=person_uuid)
    person_update(actor=account, person=person, data=_clean(payload))
    return household_person_get(account=account, person_uuid=person_uuid)


@router.get(
    "/household/access-log",
    response=list[AccessOut],
    auth=citizen_auth,
    summary="Who looked at my records",
)
def access_log(request: HttpRequest) -> QuerySet[AuditEvent]:
    people = [person.uuid for person in household_of(account=request_user(request))]
    return audit_list_for_people(person_uuids=people)


class PersonSearchIn(BodyIn):
    q: str = Field("", max_length=100)


@router.post(
    "/staff/people/search",
    response=list[PersonOut],
    auth=staff_auth,
    summary="Search people in my area",
)
def staff_people(request: HttpRequest, payload: PersonSearchIn) -> Listing[Person]:
    """POST, so that names and identity numbers never appear in URLs or access logs; the
    page is chosen by `?limit=&offset=` like every list."""
    return person_listing_for_actor(actor=request_user(request), query=payload.q)


@router.get(
    "/staff/people/{uuid:person_uuid}",
    response=PersonOut,
    auth=staff_auth,
    summary="One person in my area",
)
def staff_person(request: HttpRequest, person_uuid: uuid.UUID) -> Person:
    return person_get_for_actor(actor=request_user(request), person_uuid=person_uuid)


@router.put(
    "/staff/people/{uuid:person_uuid}",
    response=PersonOut,
    auth=staff_auth,
    summary="Correct a person's record",
)
def staff_person_update(request: HttpRequest, person_uuid: uuid.UUID, payload: PersonIn) -> Person:
    person = person_get_for_actor(
        actor=request_user(request), person_uuid=person_uuid, action="people.person.opened_for_edit"
    )
    return person_update(actor=request_user(request), person=person, data=_clean(payload))
