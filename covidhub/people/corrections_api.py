"""Identity correction requests: citizens ask for their household, officers decide.

Mounted beside the people router; unknown fields are refused (`extra="forbid"`).
"""

from __future__ import annotations

import datetime
from typing import Any, Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Schema, Status

from covidhub.accounts.api_auth import citizen_auth, request_user, staff_auth
from covidhub.core.api_base import BodyIn, Router, choice_field
from covidhub.core.listing import Listing
from covidhub.people.corrections import (
    correction_approve,
    correction_reject,
    correction_request_create,
)
from covidhub.people.identity import IdType, Sex
from covidhub.people.models import CorrectionRequest
from covidhub.people.selectors import (
    correction_get_for_actor,
    correction_holders_for_actor,
    correction_list_for_account,
    correction_listing_for_actor,
    household_person_get,
    person_get_for_actor,
)
from covidhub.people.validation import person_input_clean

router = Router(tags=["people"])


class PeopleCorrectionIn(BodyIn):
    """The identity as it should read, in full, and why."""

    full_name: str = Field(max_length=150)
    birth: str = Field(max_length=10)
    sex: str = choice_field(Sex, service_checks=True)
    id_type: str = choice_field(["", *IdType.values], "", service_checks=True)
    id_number: str = Field("", max_length=20)
    reason: str = Field(max_length=500)


class PeopleCorrectionApproveIn(BodyIn):
    evidence_note: str = Field(max_length=500)
    evidence_reference: str = Field("", max_length=200)


class PeopleCorrectionRejectIn(BodyIn):
    reason: str = Field(max_length=500)


class PeopleIdentityOut(Schema):
    full_name: str
    birth: str
    sex: str = choice_field(Sex)
    id_type: str = choice_field(["", *IdType.values])
    id_number: str


class PeopleCorrectionOut(Schema):
    """What the requesting account sees: identity numbers masked."""

    uuid: UUID
    kind: str = choice_field(CorrectionRequest.Kind)
    status: str = choice_field(CorrectionRequest.Status)
    person_uuid: UUID
    proposed: PeopleIdentityOut
    reason: str
    requested_at: datetime.datetime
    decided_at: datetime.datetime | None
    decision_note: str

    @staticmethod
    def resolve_person_uuid(obj: CorrectionRequest) -> UUID:
        return obj.person.uuid

    @staticmethod
    def resolve_proposed(obj: CorrectionRequest) -> dict[str, Any]:
        return {**obj.proposed, "id_number": obj.proposed_id_masked}

    @staticmethod
    def resolve_requested_at(obj: CorrectionRequest) -> datetime.datetime:
        return obj.created_at


class PeopleCorrectionStaffOut(PeopleCorrectionOut):
    """What the deciding officer sees: both identities in full, who asked, and whether
    another record holds the proposed number (and which, if in the officer's areas)."""

    previous: PeopleIdentityOut
    person_name: str
    commune_code: str
    requested_by: str
    decided_by: str
    evidence_reference: str
    number_held_elsewhere: bool
    holder_uuid: UUID | None

    @staticmethod
    def resolve_proposed(obj: CorrectionRequest) -> dict[str, Any]:
        return obj.proposed  # type: ignore[no-any-return]

    @staticmethod
    def resolve_person_name(obj: CorrectionRequest) -> str:
        return obj.person.full_name

    @staticmethod
    def resolve_commune_code(obj: CorrectionRequest) -> str:
        return obj.person.commune.code

    @staticmethod
    def resolve_requested_by(obj: CorrectionRequest) -> str:
        return str(obj.requested_by)

    @staticmethod
    def resolve_decided_by(obj: CorrectionRequest) -> str:
        return str(obj.decided_by) if obj.decided_by else ""

    @staticmethod
    def resolve_number_held_elsewhere(obj: CorrectionRequest) -> bool:
        return bool(getattr(obj, "held_elsewhere", False))

    @staticmethod
    def resolve_holder_uuid(obj: CorrectionRequest) -> UUID | None:
        holder = getattr(obj, "holder", None)
        return holder.uuid if holder is not None else None


def _with_holders(request: HttpRequest, rows: list[CorrectionRequest]) -> list[CorrectionRequest]:
    found = correction_holders_for_actor(actor=request_user(request), requests=rows)
    for row in rows:
        row.held_elsewhere, row.holder = found[row.pk]  # type: ignore[attr-defined]
    return rows


def _with_holder(request: HttpRequest, correction: CorrectionRequest) -> CorrectionRequest:
    return _with_holders(request, [correction])[0]


def _data(person: Any, payload: PeopleCorrectionIn) -> Any:
    """The proposed identity cleaned like any person input (a CCCD must agree with the
    sex and year of birth), the rest of the record as it is."""
    return person_input_clean(
        {
            "full_name": payload.full_name,
            "birth": payload.birth,
            "sex": payload.sex,
            "id_type": payload.id_type,
            "id_number": payload.id_number,
            "commune": person.commune,
            "phone": person.phone,
            "email": person.email,
            "address_line": person.address_line,
            "nationality": person.nationality,
        }
    )


@router.get(
    "/household/corrections",
    response=list[PeopleCorrectionOut],
    auth=citizen_auth,
    summary="My household's correction requests",
)
def household_corrections(request: HttpRequest) -> list[CorrectionRequest]:
    return correction_list_for_account(account=request_user(request))


@router.post(
    "/household/{uuid:person_uuid}/corrections",
    response={201: PeopleCorrectionOut},
    auth=citizen_auth,
    summary="Ask the commune to correct a household member's identity",
)
def household_correction_create(
    request: HttpRequest, person_uuid: UUID, payload: PeopleCorrectionIn
) -> Status[CorrectionRequest]:
    account = request_user(request)
    person = household_person_get(account=account, person_uuid=person_uuid)
    correction = correction_request_create(
        actor=account, person=person, data=_data(person, payload), reason=payload.reason
    )
    return Status(201, correction)


@router.get(
    "/staff/people/corrections",
    response=list[PeopleCorrectionStaffOut],
    auth=staff_auth,
    summary="Correction requests about people in my area",
)
def staff_corrections(
    request: HttpRequest, status: Literal["pending", "approved", "rejected"] = "pending"
) -> Listing[CorrectionRequest]:
    listing = correction_listing_for_actor(actor=request_user(request), status=status)
    return listing.then(lambda rows: _with_holders(request, rows))


@router.get(
    "/staff/people/corrections/{uuid:request_uuid}",
    response=PeopleCorrectionStaffOut,
    auth=staff_auth,
    summary="One correction request",
)
def staff_correction(request: HttpRequest, request_uuid: UUID) -> CorrectionRequest:
    correction = correction_get_for_actor(actor=request_user(request), request_uuid=request_uuid)
    return _with_holder(request, correction)


@router.post(
    "/staff/people/corrections/{uuid:request_uuid}/approve",
    response=PeopleCorrectionStaffOut,
    auth=staff_auth,
    summary="Approve a correction request with the evidence seen",
)
def staff_correction_approve(
    request: HttpRequest, request_uuid: UUID, payload: PeopleCorrectionApproveIn
) -> CorrectionRequest:
    actor = request_user(request)
    correction = correction_get_for_actor(actor=actor, request_uuid=request_uuid)
    correction_approve(
        actor=actor,
        request=correction,
        evidence_note=payload.evidence_note,
        evidence_reference=payload.evidence_reference,
    )
    return _with_holder(request, correction_get_for_actor(actor=actor, request_uuid=request_uuid))


@router.post(
    "/staff/people/corrections/{uuid:request_uuid}/reject",
    response=PeopleCorrectionStaffOut,
    auth=staff_auth,
    summary="Reject a correction request, with the reason",
)
def staff_correction_reject(
    request: HttpRequest, request_uuid: UUID, payload: PeopleCorrectionRejectIn
) -> CorrectionRequest:
    actor = request_user(request)
    correction = correction_get_for_actor(actor=actor, request_uuid=request_uuid)
    correction_reject(actor=actor, request=correction, reason=payload.reason)
    return _with_holder(request, correction_get_for_actor(actor=actor, request_uuid=request_uuid))


@router.post(
    "/staff/people/{uuid:person_uuid}/corrections",
    response={201: PeopleCorrectionStaffOut},
    auth=staff_auth,
    summary="Ask for a correction of a person in my area (another officer decides)",
)
def staff_correction_create(
    request: HttpRequest, person_uuid: UUID, payload: PeopleCorrectionIn
) -> Status[CorrectionRequest]:
    actor = request_user(request)
    person = person_get_for_actor(
        actor=actor, person_uuid=person_uuid, action="people.person.opened_for_edit"
    )
    correction = correction_request_create(
        actor=actor, person=person, data=_data(person, payload), reason=payload.reason
    )
    return Status(201, _with_holder(request, correction))
