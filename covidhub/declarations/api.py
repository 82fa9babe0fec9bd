"""API of health declarations, QR check-in, follow-up and exposure tracing.

Citizens (bearer token or session) declare, show their QR and check in; any signed-in
account manages the venues it owns or works at; officers (TOTP session) work the follow-up
list and confirmed cases within their areas.
"""

from __future__ import annotations

import datetime
from typing import Any, Literal
from uuid import UUID

import segno
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Schema

from covidhub.accounts.api_auth import any_auth, citizen_auth, request_user, staff_auth
from covidhub.core.api_base import BodyIn, Router, choice_field
from covidhub.core.errors import NotFound
from covidhub.core.listing import Listing
from covidhub.declarations import selectors, services
from covidhub.declarations.models import (
    Case,
    CheckIn,
    Declaration,
    ExposureCandidate,
    FollowUp,
    FollowUpCall,
    Symptom,
    Venue,
    VenueStaff,
)
from covidhub.declarations.posters import venue_poster_pdf, venue_url
from covidhub.declarations.validation import declaration_input_clean, venue_input_clean
from covidhub.people.selectors import person_queryset_for_actor

router = Router(tags=["declarations"])


class FollowUpFilter(Schema):
    status: Literal["open", "closed", "all"] = "open"


# Declarations --------------------------------------------------------------------------


class DeclarationIn(BodyIn):
    person: UUID
    phone: str = ""
    commune: str = ""
    address_line: str = ""
    travelled: bool | None = None
    travel_places: str = ""
    symptoms: list[str] = choice_field(Symptom, [], service_checks=True)
    no_symptoms: bool = False
    other_symptoms: str = ""
    contact_case: bool | None = None
    contact_outbreak_area: bool | None = None
    contact_symptomatic: bool | None = None
    chronic_conditions: str = ""
    consent: bool = False


class DeclarationOut(Schema):
    uuid: UUID
    person: UUID
    full_name: str
    created_at: datetime.datetime
    commune_code: str
    phone: str
    address_line: str
    answers: dict[str, Any]
    follow_up: bool

    @staticmethod
    def resolve_person(obj: Declaration) -> UUID:
        return obj.person.uuid

    @staticmethod
    def resolve_commune_code(obj: Declaration) -> str:
        return obj.commune.code

    @staticmethod
    def resolve_follow_up(obj: Declaration) -> bool:
        return obj.has_symptoms or obj.has_exposure


class PrefillOut(Schema):
    phone: str
    commune: str
    address_line: str
    chronic_conditions: str


@router.get(
    "/people/{uuid:person_uuid}/prefill",
    response=PrefillOut,
    auth=citizen_auth,
    summary="Starting answers for a declaration",
)
def prefill(request: HttpRequest, person_uuid: UUID) -> dict[str, Any]:
    account = request_user(request)
    person = selectors.household_person_get(account=account, person_uuid=person_uuid)
    return selectors.declaration_prefill(person=person, account=account)


@router.post(
    "/declarations",
    response={201: DeclarationOut},
    auth=citizen_auth,
    summary="Submit a health declaration (honours Idempotency-Key)",
)
def declaration_create(request: HttpRequest, payload: DeclarationIn) -> tuple[int, Declaration]:
    account = request_user(request)
    data = declaration_input_clean(payload.dict())
    declaration = services.declaration_submit_for_uuid(
        actor=account, person_uuid=payload.person, data=data
    )
    return 201, declaration


@router.get(
    "/declarations",
    response=list[DeclarationOut],
    auth=citizen_auth,
    summary="My household's declarations, newest first",
)
def declaration_list(request: HttpRequest) -> QuerySet[Declaration]:
    return selectors.declaration_list_for_account(account=request_user(request))


# Personal QR ---------------------------------------------------------------------------


class QrOut(Schema):
    token: str
    expires_at: datetime.datetime
    refresh_after_seconds: int
    svg: str


@router.get(
    "/people/{uuid:person_uuid}/qr",
    response=QrOut,
    auth=citizen_auth,
    summary="The person's current rotating QR token",
)
def personal_qr(request: HttpRequest, person_uuid: UUID) -> dict[str, Any]:
    account = request_user(request)
    person = selectors.household_person_get(account=account, person_uuid=person_uuid)
    token, expires_at = services.personal_qr_issue(actor=account, person=person)
    return {
        "token": token,
        "expires_at": expires_at,
        "refresh_after_seconds": 240,
        "svg": segno.make(token, error="m").svg_inline(scale=6),
    }


# Check-ins -----------------------------------------------------------------------------


class CheckInIn(BodyIn):
    venue_code: str = Field(..., max_length=300)
    people: list[UUID] = Field(..., max_length=20)


class CheckInOut(Schema):
    uuid: UUID
    person: UUID
    full_name: str
    venue: UUID
    venue_name: str
    checked_in_at: datetime.datetime
    checked_out_at: datetime.datetime | None
    created: bool = True

    @staticmethod
    def resolve_person(obj: CheckIn) -> UUID:
        return obj.person.uuid

    @staticmethod
    def resolve_full_name(obj: CheckIn) -> str:
        return obj.person.full_name

    @staticmethod
    def resolve_venue(obj: CheckIn) -> UUID:
        return obj.venue.uuid

    @staticmethod
    def resolve_venue_name(obj: CheckIn) -> str:
        return obj.venue.name

    @staticmethod
    def resolve_created(obj: CheckIn) -> bool:
        return bool(getattr(obj, "was_created", True))


@router.post(
    "/checkins",
    response={201: list[CheckInOut]},
    auth=citizen_auth,
    summary="Check in at a venue by its code, for oneself and family (honours Idempotency-Key)",
)
def checkin_create(request: HttpRequest, payload: CheckInIn) -> tuple[int, list[CheckIn]]:
    account = request_user(request)
    venue = services.venue_by_code(payload.venue_code)
    results = services.checkin_record_by_uuid(
        actor=account, venue=venue, person_uuids=payload.people
    )
    out = []
    for checkin, created in results:
        checkin.was_created = created  # type: ignore[attr-defined]
        out.append(checkin)
    return 201, out


@router.get(
    "/checkins", response=list[CheckInOut], auth=citizen_auth, summary="My household's check-ins"
)
def checkin_list(request: HttpRequest) -> QuerySet[CheckIn]:
    return selectors.checkin_queryset_for_account(account=request_user(request))


@router.post(
    "/checkins/{uuid:checkin_uuid}/checkout",
    response=CheckInOut,
    auth=citizen_auth,
    summary="Check out of a venue (optional)",
)
def checkin_checkout(request: HttpRequest, checkin_uuid: UUID) -> CheckIn:
    account = request_user(request)
    checkin = selectors.checkin_get_for_account(account=account, checkin_uuid=checkin_uuid)
    return services.checkin_checkout(actor=account, checkin=checkin)


# Venues --------------------------------------------------------------------------------


class VenueCodeIn(BodyIn):
    code: str = Field(..., max_length=300)


class VenuePublicOut(Schema):
    uuid: UUID
    code: str
    name: str
    kind: str = choice_field(Venue.Kind)
    address_line: str
    commune_name: str

    @staticmethod
    def resolve_commune_name(obj: Venue) -> str:
        return obj.commune.name


class VenueIn(BodyIn):
    name: str = ""
    kind: str = choice_field(["", *Venue.Kind.values], "", service_checks=True)
    address_line: str = ""
    commune: str = ""
    contact_name: str = ""
    contact_phone: str = ""


class VenueOut(VenuePublicOut):
    commune_code: str
    contact_name: str
    contact_phone: str
    url: str
    is_active: bool
    can_manage: bool = False

    @staticmethod
    def resolve_commune_code(obj: Venue) -> str:
        return obj.commune.code

    @staticmethod
    def resolve_url(obj: Venue) -> str:
        return venue_url(obj)


class VenueStaffIn(BodyIn):
    phone: str = Field(..., max_length=30)


class VenueStaffOut(Schema):
    user: UUID
    name: str
    added_at: datetime.datetime

    @staticmethod
    def resolve_user(obj: VenueStaff) -> UUID:
        return obj.user.uuid

    @staticmethod
    def resolve_name(obj: VenueStaff) -> str:
        return str(obj.user)

    @staticmethod
    def resolve_added_at(obj: VenueStaff) -> datetime.datetime:
        return obj.created_at


class VenueScanIn(BodyIn):
    token: str = Field(..., max_length=300)


class VenueScanOut(Schema):
    full_name: str
    birth_year: int
    last_declared_on: datetime.date | None
    days_since_declaration: int | None
    status_colour: str
    status_reason: str
    admitted: bool = Field(description="False: the status rules refuse entry; not checked in")
    checkin: UUID | None
    repeated: bool


@router.post(
    "/venues/lookup",
    response=VenuePublicOut,
    auth=any_auth,
    summary="The venue behind a scanned or typed code (refuses other systems' codes)",
)
def venue_lookup(request: HttpRequest, payload: VenueCodeIn) -> Venue:
    return services.venue_by_code(payload.code)


@router.post("/venues", response={201: VenueOut}, auth=any_auth, summary="Register a venue")
def venue_create(request: HttpRequest, payload: VenueIn) -> tuple[int, Venue]:
    actor = request_user(request)
    venue = services.venue_register(actor=actor, data=venue_input_clean(payload.dict()))
    venue.can_manage = True  # type: ignore[attr-defined]
    return 201, venue


@router.get(
    "/venues", response=list[VenueOut], auth=any_auth, summary="Venues I own, work at or oversee"
)
def venue_list(request: HttpRequest) -> Listing[Venue]:
    actor = request_user(request)

    def with_rights(venues: list[Venue]) -> list[Venue]:
        for venue in venues:
            venue.can_manage = services.venue_may_manage(actor=actor, venue=venue)  # type: ignore[attr-defined]
        return venues

    return Listing(selectors.venue_list_for_actor(actor=actor), each_page=with_rights)


@router.get("/venues/{uuid:venue_uuid}", response=VenueOut, auth=any_auth, summary="One venue")
def venue_detail(request: HttpRequest, venue_uuid: UUID) -> Venue:
    actor = request_user(request)
    venue = selectors.venue_get_for_actor(actor=actor, venue_uuid=venue_uuid)
    venue.can_manage = services.venue_may_manage(actor=actor, venue=venue)  # type: ignore[attr-defined]
    return venue


@router.get(
    "/venues/{uuid:venue_uuid}/poster.pdf",
    auth=any_auth,
    summary="The venue's printable A4 QR poster (PDF)",
    response={200: None},
)
def venue_poster(request: HttpRequest, venue_uuid: UUID) -> HttpResponse:
    venue = selectors.venue_get_for_actor(actor=request_user(request), venue_uuid=venue_uuid)
    response = HttpResponse(venue_poster_pdf(venue), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="poster-{venue.code}.pdf"'
    return response


@router.get(
    "/venues/{uuid:venue_uuid}/staff",
    response=list[VenueStaffOut],
    auth=any_auth,
    summary="Who may scan at the venue",
)
def venue_staff(request: HttpRequest, venue_uuid: UUID) -> list[VenueStaff]:
    venue = selectors.venue_get_for_actor(
        actor=request_user(request), venue_uuid=venue_uuid, manage=True
    )
    return selectors.venue_staff_list(venue=venue)


@router.post(
    "/venues/{uuid:venue_uuid}/staff",
    response={201: VenueStaffOut},
    auth=any_auth,
    summary="Add venue staff by their account's phone number",
)
def venue_staff_add(
    request: HttpRequest, venue_uuid: UUID, payload: VenueStaffIn
) -> tuple[int, VenueStaff]:
    actor = request_user(request)
    venue = selectors.venue_get_for_actor(actor=actor, venue_uuid=venue_uuid, manage=True)
    return 201, services.venue_staff_add(actor=actor, venue=venue, phone=payload.phone)


@router.delete(
    "/venues/{uuid:venue_uuid}/staff/{uuid:user_uuid}",
    response={204: None},
    auth=any_auth,
    summary="Remove venue staff",
)
def venue_staff_remove(request: HttpRequest, venue_uuid: UUID, user_uuid: UUID) -> tuple[int, None]:
    actor = request_user(request)
    venue = selectors.venue_get_for_actor(actor=actor, venue_uuid=venue_uuid, manage=True)
    services.venue_staff_remove(actor=actor, venue=venue, user_uuid=user_uuid)
    return 204, None


@router.post(
    "/venues/{uuid:venue_uuid}/scan",
    response=VenueScanOut,
    auth=any_auth,
    summary="Venue staff scan a person's QR: check them in and show the checkpoint card",
)
def venue_scan(request: HttpRequest, venue_uuid: UUID, payload: VenueScanIn) -> dict[str, Any]:
    actor = request_user(request)
    venue = selectors.venue_get_for_actor(actor=actor, venue_uuid=venue_uuid)
    outcome = services.checkin_scan(actor=actor, venue=venue, token=payload.token)
    return {
        **outcome.card.__dict__,
        "checkin": outcome.checkin.uuid if outcome.checkin else None,
        "repeated": outcome.checkin is not None and not outcome.created,
    }


# Follow-up (officers) -------------------------------------------------------------------


class FollowUpOut(Schema):
    uuid: UUID
    person: UUID
    full_name: str
    birth_year: int
    commune_code: str
    commune_name: str
    reasons: list[str]
    urgency: int = choice_field(FollowUp.Urgency)
    status: str = choice_field(FollowUp.Status)
    outcome: str = choice_field(["", *FollowUp.Outcome.values])
    calls: int
    last_called_at: datetime.datetime | None
    created_at: datetime.datetime

    @staticmethod
    def resolve_person(obj: FollowUp) -> UUID:
        return obj.person.uuid

    @staticmethod
    def resolve_full_name(obj: FollowUp) -> str:
        return obj.person.full_name

    @staticmethod
    def resolve_birth_year(obj: FollowUp) -> int:
        return obj.person.birth_year

    @staticmethod
    def resolve_commune_code(obj: FollowUp) -> str:
        return obj.commune.code

    @staticmethod
    def resolve_commune_name(obj: FollowUp) -> str:
        return obj.commune.name


class FollowUpDetailOut(FollowUpOut):
    phone: str
    address_line: str
    answers: dict[str, Any] | None

    @staticmethod
    def resolve_phone(obj: FollowUp) -> str:
        return obj.declaration.phone if obj.declaration else obj.person.phone

    @staticmethod
    def resolve_address_line(obj: FollowUp) -> str:
        return obj.declaration.address_line if obj.declaration else obj.person.address_line

    @staticmethod
    def resolve_answers(obj: FollowUp) -> dict[str, Any] | None:
        return obj.declaration.answers if obj.declaration else None


class CallIn(BodyIn):
    outcome: str = choice_field(FollowUp.Outcome)
    note: str = Field("", max_length=2000)


class CallOut(Schema):
    outcome: str = choice_field(FollowUp.Outcome)
    note: str
    created_at: datetime.datetime
    followup_status: str = choice_field(FollowUp.Status)

    @staticmethod
    def resolve_followup_status(obj: FollowUpCall) -> str:
        return obj.followup.status


@router.get(
    "/staff/followups",
    response=list[FollowUpOut],
    auth=staff_auth,
    summary="The follow-up list of my communes: open first, most urgent and newest first",
)
def followup_list(request: HttpRequest, filters: Query[FollowUpFilter]) -> Listing[FollowUp]:
    return selectors.followup_listing_for_actor(
        actor=request_user(request), status=None if filters.status == "all" else filters.status
    )


@router.get(
    "/staff/followups/{uuid:followup_uuid}",
    response=FollowUpDetailOut,
    auth=staff_auth,
    summary="One follow-up item",
)
def followup_detail(request: HttpRequest, followup_uuid: UUID) -> FollowUp:
    return selectors.followup_get_for_actor(
        actor=request_user(request), followup_uuid=followup_uuid
    )


@router.post(
    "/staff/followups/{uuid:followup_uuid}/calls",
    response={201: CallOut},
    auth=staff_auth,
    summary="Record a call and its outcome",
)
def followup_call(
    request: HttpRequest, followup_uuid: UUID, payload: CallIn
) -> tuple[int, FollowUpCall]:
    actor = request_user(request)
    item = selectors.followup_get_for_actor(actor=actor, followup_uuid=followup_uuid)
    return 201, services.followup_call_record(
        actor=actor, followup=item, outcome=payload.outcome, note=payload.note
    )


# Cases and exposure tracing (officers) ---------------------------------------------------


class CaseIn(BodyIn):
    person: UUID
    onset_date: datetime.date
    window_minutes: int | None = Field(None, ge=0, le=1440)


class DeclarationsCaseOut(Schema):
    uuid: UUID
    person: UUID | None
    full_name: str
    onset_date: datetime.date
    window_minutes: int
    status: str = choice_field(Case.Status)
    source: str = choice_field(Case.Source)
    proposed_by: str
    decided_by: str
    created_at: datetime.datetime
    traced_at: datetime.datetime | None


def _case_out(case: Case, *, actor: Any) -> dict[str, Any]:
    visible = selectors.case_person_visible(actor=actor, case=case)
    return {
        "uuid": case.uuid,
        "person": case.person.uuid if visible else None,
        "full_name": case.person.full_name if visible else "",
        "onset_date": case.onset_date,
        "window_minutes": case.window_minutes,
        "status": case.status,
        "source": case.source,
        "proposed_by": str(case.proposed_by) if case.proposed_by else "",
        "decided_by": str(case.decided_by) if case.decided_by else "",
        "created_at": case.created_at,
        "traced_at": case.traced_at,
    }


class CandidateOut(Schema):
    uuid: UUID
    person: UUID
    full_name: str
    birth_year: int
    venue_name: str
    first_overlap_at: datetime.datetime
    status: str = choice_field(ExposureCandidate.Status)

    @staticmethod
    def resolve_person(obj: ExposureCandidate) -> UUID:
        return obj.person.uuid

    @staticmethod
    def resolve_full_name(obj: ExposureCandidate) -> str:
        return obj.person.full_name

    @staticmethod
    def resolve_birth_year(obj: ExposureCandidate) -> int:
        return obj.person.birth_year

    @staticmethod
    def resolve_venue_name(obj: ExposureCandidate) -> str:
        return obj.venue.name


class NotifyIn(BodyIn):
    candidates: list[UUID] | None = Field(None, max_length=1000)


class CountOut(Schema):
    count: int


@router.post(
    "/staff/cases",
    response={201: DeclarationsCaseOut},
    auth=staff_auth,
    summary="Propose a confirmed case (F0); a second officer must approve",
)
def case_create(request: HttpRequest, payload: CaseIn) -> tuple[int, dict[str, Any]]:
    actor = request_user(request)
    person = person_queryset_for_actor(actor=actor).filter(uuid=payload.person).first()
    if person is None:
        raise NotFound()
    case = services.case_propose(
        actor=actor,
        person=person,
        onset_date=payload.onset_date,
        window_minutes=payload.window_minutes,
    )
    return 201, _case_out(case, actor=actor)


@router.get(
    "/staff/cases", response=list[DeclarationsCaseOut], auth=staff_auth, summary="Cases in my area"
)
def case_list(request: HttpRequest) -> Listing[dict[str, Any]]:
    actor = request_user(request)
    return selectors.case_listing_for_actor(
        actor=actor, each=lambda case: _case_out(case, actor=actor)
    )


@router.get(
    "/staff/cases/{uuid:case_uuid}",
    response=DeclarationsCaseOut,
    auth=staff_auth,
    summary="One case",
)
def case_detail(request: HttpRequest, case_uuid: UUID) -> dict[str, Any]:
    actor = request_user(request)
    return _case_out(selectors.case_get_for_actor(actor=actor, case_uuid=case_uuid), actor=actor)


@router.post(
    "/staff/cases/{uuid:case_uuid}/approve",
    response=DeclarationsCaseOut,
    auth=staff_auth,
    summary="Approve a proposed case (a second officer) and trace exposures",
)
def case_approve(request: HttpRequest, case_uuid: UUID) -> dict[str, Any]:
    actor = request_user(request)
    case = selectors.case_get_for_actor(actor=actor, case_uuid=case_uuid)
    return _case_out(services.case_approve(actor=actor, case=case), actor=actor)


@router.post(
    "/staff/cases/{uuid:case_uuid}/reject",
    response=DeclarationsCaseOut,
    auth=staff_auth,
    summary="Reject a proposed case (a second officer)",
)
def case_reject(request: HttpRequest, case_uuid: UUID) -> dict[str, Any]:
    actor = request_user(request)
    case = selectors.case_get_for_actor(actor=actor, case_uuid=case_uuid)
    return _case_out(services.case_reject(actor=actor, case=case), actor=actor)


@router.post(
    "/staff/cases/{uuid:case_uuid}/trace",
    response=CountOut,
    auth=staff_auth,
    summary="Trace again (adds check-ins recorded since)",
)
def case_trace(request: HttpRequest, case_uuid: UUID) -> dict[str, int]:
    actor = request_user(request)
    case = selectors.case_get_for_actor(actor=actor, case_uuid=case_uuid)
    return {"count": services.exposure_trace_again(actor=actor, case=case)}


@router.get(
    "/staff/cases/{uuid:case_uuid}/candidates",
    response=list[CandidateOut],
    auth=staff_auth,
    summary="F1 candidates of the case who live in my area",
)
def case_candidates(request: HttpRequest, case_uuid: UUID) -> Listing[ExposureCandidate]:
    actor = request_user(request)
    case = selectors.case_get_for_actor(actor=actor, case_uuid=case_uuid)
    return selectors.candidate_listing_for_actor(actor=actor, case=case)


@router.post(
    "/staff/cases/{uuid:case_uuid}/notify",
    response=CountOut,
    auth=staff_auth,
    summary="Notify the F1 candidates in my area (all, or those listed), once each",
)
def case_notify(request: HttpRequest, case_uuid: UUID, payload: NotifyIn) -> dict[str, int]:
    actor = request_user(request)
    case = selectors.case_get_for_actor(actor=actor, case_uuid=case_uuid)
    count = services.exposure_notify(actor=actor, case=case, candidate_uuids=payload.candidates)
    return {"count": count}
