"""Vaccination API: every step, for the province's app and national systems.

Citizens (token or session) register their household, book, answer invitations, follow
their doses and report reactions. Site staff run the day; officers plan and report.
"""

from __future__ import annotations

import datetime
from typing import Any, Literal
from uuid import UUID

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Schema, Status, UploadedFile

from covidhub.accounts.api_auth import citizen_auth, request_user, staff_auth
from covidhub.accounts.scoping import OFFICER_ROLES
from covidhub.areas.models import Area
from covidhub.core.api_base import BodyIn, Router, choice_field
from covidhub.core.errors import InvalidInput, NotFound
from covidhub.core.import_jobs import import_job_get_for_actor
from covidhub.people.selectors import person_get_for_actor
from covidhub.vaccination import selectors, services
from covidhub.vaccination.checklists import HEALTH_QUESTIONS, SCREENING_CHECKLIST
from covidhub.vaccination.fastreads import (
    household_person_with_registration,
    session_with_campaign,
)
from covidhub.vaccination.models import (
    AdverseEvent,
    Booking,
    Campaign,
    Dose,
    LotAllocation,
    PriorityGroup,
    Registration,
    Screening,
    Session,
    StockWastage,
    VaccinationSite,
    Vaccine,
    VaccineLot,
)
from covidhub.vaccination.scoping import (
    PLANNER_ROLES,
    STAFF_ROLES,
    booking_get_for_citizen,
    booking_get_for_staff,
    booking_get_for_staff_with_site,
    session_get_for_actor,
    site_get_for_actor,
    site_q,
    sites_for_actor,
)
from covidhub.vaccination.services.stock import allocation_for_site

router = Router(tags=["vaccination"])


# Schemas ----------------------------------------------------------------------------------


class VaccineOut(Schema):
    uuid: UUID
    code: str
    name: str
    product_code: str
    manufacturer_code: str
    prophylaxis_code: str
    primary_doses: int
    min_interval_days: int
    recommended_interval_days: int
    booster_allowed: bool
    booster_interval_days: int
    min_age: int
    max_age: int | None


class ChoiceOut(Schema):
    value: str
    label: str


class VaccinationSiteOut(Schema):
    uuid: UUID
    name: str
    address: str
    commune_code: str
    commune_name: str

    @staticmethod
    def resolve_commune_code(obj: VaccinationSite) -> str:
        return obj.commune.code

    @staticmethod
    def resolve_commune_name(obj: VaccinationSite) -> str:
        return obj.commune.name


class VaccinationSessionOut(Schema):
    uuid: UUID
    site: VaccinationSiteOut
    campaign: str
    vaccine: str
    date: datetime.date
    starts_at: datetime.time
    ends_at: datetime.time
    capacity: int
    places_left: int
    self_booking: bool

    @staticmethod
    def resolve_campaign(obj: Session) -> str:
        return obj.campaign.name

    @staticmethod
    def resolve_vaccine(obj: Session) -> str:
        return obj.campaign.vaccine.name


class BookingOut(Schema):
    uuid: UUID
    code: str
    person_uuid: UUID
    session: UUID
    site: str
    date: datetime.date
    starts_at: datetime.time
    dose_number: int
    status: str = choice_field(Booking.Status)

    @staticmethod
    def resolve_person_uuid(obj: Booking) -> UUID:
        return obj.person.uuid

    @staticmethod
    def resolve_session(obj: Booking) -> UUID:
        return obj.session.uuid

    @staticmethod
    def resolve_site(obj: Booking) -> str:
        return obj.session.site.name

    @staticmethod
    def resolve_date(obj: Booking) -> datetime.date:
        return obj.session.date

    @staticmethod
    def resolve_starts_at(obj: Booking) -> datetime.time:
        return obj.session.starts_at


class DoseOut(Schema):
    uuid: UUID
    vaccine: str
    vaccine_code: str
    series: str = choice_field(Dose.Series)
    dose_number: int
    sequence: int
    administered_at: datetime.datetime
    lot: str
    site: str
    given_elsewhere: bool
    elsewhere_place: str
    elsewhere_country: str

    @staticmethod
    def resolve_vaccine(obj: Dose) -> str:
        return obj.vaccine.name

    @staticmethod
    def resolve_vaccine_code(obj: Dose) -> str:
        return obj.vaccine.code

    @staticmethod
    def resolve_lot(obj: Dose) -> str:
        return obj.lot.number if obj.lot else ""

    @staticmethod
    def resolve_site(obj: Dose) -> str:
        return obj.site.name if obj.site else obj.elsewhere_place


class NextDoseOut(Schema):
    series: str = choice_field(Dose.Series)
    dose_number: int
    earliest_on: datetime.date | None
    due_on: datetime.date | None
    vaccine: str | None


class PersonVaccinationOut(Schema):
    person_uuid: UUID
    full_name: str
    registered: bool
    priority_group: str | None = choice_field(PriorityGroup)
    doses: list[DoseOut]
    bookings: list[BookingOut]
    next_dose: NextDoseOut | None


def _person_out(view: selectors.PersonVaccinationView) -> dict[str, Any]:
    nxt = view.next_dose
    return {
        "person_uuid": view.person.uuid,
        "full_name": view.person.full_name,
        "registered": view.registration is not None,
        "priority_group": view.registration.priority_group if view.registration else None,
        "doses": view.doses,
        "bookings": view.bookings,
        "next_dose": None
        if nxt.complete
        else {
            "series": nxt.series,
            "dose_number": nxt.sequence,
            "earliest_on": nxt.earliest_on,
            "due_on": nxt.due_on,
            "vaccine": nxt.vaccine.name if nxt.vaccine else None,
        },
    }


class RegistrationIn(BodyIn):
    person_uuid: UUID
    priority_group: str = choice_field(PriorityGroup, service_checks=True)
    occupation: str = Field("", max_length=100)
    health_answers: dict[str, bool] = {}
    preferred_site: UUID | None = None


class RegistrationOut(Schema):
    uuid: UUID
    person_uuid: UUID
    priority_group: str = choice_field(PriorityGroup)
    occupation: str
    source: str = choice_field(Registration.Source)

    @staticmethod
    def resolve_person_uuid(obj: Any) -> UUID:
        person_uuid: UUID = obj.person.uuid
        return person_uuid


class BookingIn(BodyIn):
    person_uuid: UUID
    session: UUID
    waitlist: bool = False


class RespondIn(BodyIn):
    accept: bool


class ReactionIn(BodyIn):
    person_uuid: UUID
    dose: UUID | None = None
    severity: str = choice_field(AdverseEvent.Severity)
    symptoms: str = Field(..., min_length=1, max_length=1000)
    onset_at: datetime.datetime


class AefiOut(Schema):
    uuid: UUID
    person_uuid: UUID
    severity: str = choice_field(AdverseEvent.Severity)
    symptoms: str
    onset_at: datetime.datetime
    reported_by_citizen: bool
    escalated_at: datetime.datetime | None
    created_at: datetime.datetime

    @staticmethod
    def resolve_person_uuid(obj: AdverseEvent) -> UUID:
        return obj.person.uuid


def _site_for_uuid(value: UUID | None) -> VaccinationSite | None:
    if value is None:
        return None
    site = VaccinationSite.objects.filter(uuid=value, active=True).first()
    if site is None:
        raise InvalidInput(details={"fields": {"preferred_site": [_("Choose an open site.")]}})
    return site


# Public -----------------------------------------------------------------------------------


@router.get("/vaccines", response=list[VaccineOut], auth=None, summary="Vaccines and their rules")
def vaccines(request: HttpRequest) -> Any:
    return list(selectors.vaccine_list())


@router.get(
    "/priority-groups", response=list[ChoiceOut], auth=None, summary="Priority groups (NQ 21)"
)
def priority_groups(request: HttpRequest) -> Any:
    return [{"value": g.value, "label": str(g.label)} for g in PriorityGroup]


@router.get("/health-questions", response=list[ChoiceOut], auth=None, summary="Questions")
def health_questions(request: HttpRequest) -> Any:
    return [{"value": q.key, "label": str(q.text)} for q in HEALTH_QUESTIONS]


@router.get("/screening-checklist", response=list[ChoiceOut], auth=None, summary="Checklist")
def screening_checklist(request: HttpRequest) -> Any:
    return [{"value": q.key, "label": str(q.text)} for q in SCREENING_CHECKLIST]


@router.get("/sessions", response=list[VaccinationSessionOut], summary="Sessions open for booking")
def sessions_open(request: HttpRequest, district: str = "") -> Any:
    area = None
    if district:
        area = Area.objects.filter(level=Area.Level.DISTRICT, code=district[:10]).first()
        if area is None:
            raise InvalidInput(details={"fields": {"district": [_("Choose a district.")]}})
    return selectors.session_queryset_open(district=area)


# Citizens ---------------------------------------------------------------------------------


def _household_person(request: HttpRequest, person_uuid: UUID) -> Any:
    return person_get_for_actor(actor=request_user(request), person_uuid=person_uuid)


@router.get(
    "/me", response=list[PersonVaccinationOut], auth=citizen_auth, summary="My household's doses"
)
def me(request: HttpRequest) -> Any:
    return [_person_out(v) for v in selectors.household_vaccination(account=request_user(request))]


@router.post(
    "/me/registrations",
    response={201: RegistrationOut},
    auth=citizen_auth,
    summary="Register myself or a family member",
)
def me_register(request: HttpRequest, payload: RegistrationIn) -> Any:
    person = _household_person(request, payload.person_uuid)
    registration = services.registration_submit(
        actor=request_user(request),
        person=person,
        priority_group=payload.priority_group,
        occupation=payload.occupation,
        health_answers=payload.health_answers,
        preferred_site=_site_for_uuid(payload.preferred_site),
    )
    return Status(201, registration)


def _session_by_uuid(value: UUID) -> Session:
    session = session_with_campaign(value)
    if session is None:
        raise NotFound()
    return session


@router.post(
    "/me/bookings", response={201: BookingOut}, auth=citizen_auth, summary="Book a session"
)
def me_book(request: HttpRequest, payload: BookingIn) -> Any:
    account = request_user(request)
    person = household_person_with_registration(account=account, person_uuid=payload.person_uuid)
    if person is None:
        raise NotFound()
    booking = services.booking_create(
        actor=account,
        person=person,
        session=_session_by_uuid(payload.session),
        waitlist=payload.waitlist,
    )
    return Status(201, booking)


@router.post(
    "/me/bookings/{uuid:booking_uuid}/cancel",
    response=BookingOut,
    auth=citizen_auth,
    summary="Cancel a booking",
)
def me_cancel(request: HttpRequest, booking_uuid: UUID) -> Any:
    account = request_user(request)
    booking = booking_get_for_citizen(account=account, booking_uuid=booking_uuid)
    return services.booking_cancel(actor=account, booking=booking)


@router.post(
    "/me/bookings/{uuid:booking_uuid}/respond",
    response=BookingOut,
    auth=citizen_auth,
    summary="Confirm or decline an invitation",
)
def me_respond(request: HttpRequest, booking_uuid: UUID, payload: RespondIn) -> Any:
    account = request_user(request)
    booking = booking_get_for_citizen(account=account, booking_uuid=booking_uuid)
    return services.invitation_respond(account=account, booking=booking, accept=payload.accept)


def _dose_of(person: Any, dose_uuid: UUID | None) -> Dose | None:
    if dose_uuid is None:
        return None
    dose = Dose.objects.filter(person=person, uuid=dose_uuid).first()
    if dose is None:
        raise NotFound()
    return dose


@router.post(
    "/me/reactions", response={201: AefiOut}, auth=citizen_auth, summary="Report a reaction"
)
def me_reaction(request: HttpRequest, payload: ReactionIn) -> Any:
    person = _household_person(request, payload.person_uuid)
    event = services.aefi_report(
        actor=request_user(request),
        person=person,
        dose=_dose_of(person, payload.dose),
        severity=payload.severity,
        symptoms=payload.symptoms,
        onset_at=payload.onset_at,
    )
    return Status(201, event)


# Site staff -------------------------------------------------------------------------------


class CheckinIn(BodyIn):
    code: str = Field(..., min_length=1, max_length=40)


class ScreeningIn(BodyIn):
    answers: dict[str, bool] = {}
    temperature: float | None = None
    outcome: str = choice_field(Screening.Outcome)
    notes: str = Field("", max_length=500)


class ScreeningOut(Schema):
    outcome: str = choice_field(Screening.Outcome)
    answers: dict[str, bool]


class DoseIn(BodyIn):
    lot: UUID
    override_reason: str = Field("", max_length=300)


class ObservationOut(Schema):
    dose: UUID
    person_uuid: UUID
    full_name: str
    vaccine: str
    administered_at: datetime.datetime
    may_leave_at: datetime.datetime


class AllocationOut(Schema):
    lot: UUID
    number: str
    vaccine: str
    expiry_date: datetime.date
    doses_allocated: int
    doses_used: int
    doses_wasted: int
    doses_left: int

    @staticmethod
    def resolve_lot(obj: LotAllocation) -> UUID:
        return obj.lot.uuid

    @staticmethod
    def resolve_number(obj: LotAllocation) -> str:
        return obj.lot.number

    @staticmethod
    def resolve_vaccine(obj: LotAllocation) -> str:
        return obj.lot.vaccine.name

    @staticmethod
    def resolve_expiry_date(obj: LotAllocation) -> datetime.date:
        return obj.lot.expiry_date


class WastageIn(BodyIn):
    lot: UUID
    doses: int = Field(..., ge=1, le=100_000)
    reason: str = choice_field(StockWastage.Reason)


@router.get("/staff/sites", response=list[VaccinationSiteOut], auth=staff_auth, summary="My sites")
def staff_sites(request: HttpRequest) -> Any:
    return sites_for_actor(request_user(request)).select_related("commune").order_by("name", "id")


@router.get(
    "/staff/sites/{uuid:site_uuid}/queue",
    response=list[BookingOut],
    auth=staff_auth,
    summary="Today's bookings at a site",
)
def staff_queue(request: HttpRequest, site_uuid: UUID, status: str = "") -> Any:
    from django.utils import timezone

    actor = request_user(request)
    site = site_get_for_actor(actor=actor, site_uuid=site_uuid)
    if status and status not in Booking.Status.values:
        raise InvalidInput(details={"fields": {"status": [_("Choose one of the allowed values.")]}})
    statuses = [status] if status else list(Booking.Status.values)
    return selectors.site_queue_listing(
        actor=actor, site=site, day=timezone.localdate(), statuses=statuses
    )


@router.post(
    "/staff/sites/{uuid:site_uuid}/checkin",
    response=BookingOut,
    auth=staff_auth,
    summary="Step 1: check a person in (QR code or identity number, in the body)",
)
def staff_checkin(request: HttpRequest, site_uuid: UUID, payload: CheckinIn) -> Any:
    actor = request_user(request)
    site = site_get_for_actor(actor=actor, site_uuid=site_uuid)
    return services.checkin_record(actor=actor, site=site, text=payload.code)


@router.post(
    "/staff/bookings/{uuid:booking_uuid}/screening",
    response={201: ScreeningOut},
    auth=staff_auth,
    summary="Step 2: pre-vaccination screening",
)
def staff_screening(request: HttpRequest, booking_uuid: UUID, payload: ScreeningIn) -> Any:
    actor = request_user(request)
    booking = booking_get_for_staff(actor=actor, booking_uuid=booking_uuid)
    screening = services.screening_record(
        actor=actor,
        booking=booking,
        answers=payload.answers,
        temperature=payload.temperature,
        outcome=payload.outcome,
        notes=payload.notes,
    )
    return Status(201, screening)


@router.post(
    "/staff/bookings/{uuid:booking_uuid}/dose",
    response={201: DoseOut},
    auth=staff_auth,
    summary="Step 3: record the injection",
)
def staff_dose(request: HttpRequest, booking_uuid: UUID, payload: DoseIn) -> Any:
    actor = request_user(request)
    booking = booking_get_for_staff_with_site(actor=actor, booking_uuid=booking_uuid)
    dose = services.dose_record(
        actor=actor, booking=booking, lot_uuid=payload.lot, override_reason=payload.override_reason
    )
    return Status(201, dose)


@router.get(
    "/staff/sites/{uuid:site_uuid}/observation",
    response=list[ObservationOut],
    auth=staff_auth,
    summary="Step 4: who is under observation and when they may leave",
)
def staff_observation(request: HttpRequest, site_uuid: UUID) -> Any:
    actor = request_user(request)
    site = site_get_for_actor(actor=actor, site_uuid=site_uuid)
    return selectors.observation_listing(actor=actor, site=site).then(
        lambda doses: [
            {
                "dose": d.uuid,
                "person_uuid": d.person.uuid,
                "full_name": d.person.full_name,
                "vaccine": d.vaccine.name,
                "administered_at": d.administered_at,
                "may_leave_at": d.observation_ends_at,
            }
            for d in doses
        ]
    )


@router.get(
    "/staff/sites/{uuid:site_uuid}/lots",
    response=list[AllocationOut],
    auth=staff_auth,
    summary="Lots usable at a site",
)
def staff_site_lots(request: HttpRequest, site_uuid: UUID) -> Any:
    site = site_get_for_actor(actor=request_user(request), site_uuid=site_uuid)
    return selectors.allocations_for_site(site=site)


@router.post(
    "/staff/sites/{uuid:site_uuid}/wastage",
    response={201: AllocationOut},
    auth=staff_auth,
    summary="Record wasted doses (an opened vial, a broken vial, …)",
)
def staff_wastage(request: HttpRequest, site_uuid: UUID, payload: WastageIn) -> Any:
    actor = request_user(request)
    site = site_get_for_actor(actor=actor, site_uuid=site_uuid)
    allocation = allocation_for_site(actor=actor, site=site, lot_uuid=payload.lot)
    services.wastage_record(
        actor=actor, allocation=allocation, doses=payload.doses, reason=payload.reason
    )
    allocation.refresh_from_db()
    return Status(201, allocation)


class StaffReactionIn(ReactionIn):
    pass


@router.post(
    "/staff/aefi", response={201: AefiOut}, auth=staff_auth, summary="Record an adverse event"
)
def staff_aefi(request: HttpRequest, payload: StaffReactionIn) -> Any:
    from covidhub.people.models import Person

    actor = request_user(request)
    person = Person.objects.select_related("commune").filter(uuid=payload.person_uuid).first()
    if person is None:
        raise NotFound()
    event = services.aefi_report(
        actor=actor,
        person=person,
        dose=_dose_of(person, payload.dose),
        severity=payload.severity,
        symptoms=payload.symptoms,
        onset_at=payload.onset_at,
    )
    return Status(201, event)


@router.get("/staff/aefi", response=list[AefiOut], auth=staff_auth, summary="Adverse events")
def staff_aefi_list(request: HttpRequest) -> Any:
    return selectors.aefi_listing_for_actor(actor=request_user(request))


# Officers ---------------------------------------------------------------------------------


class VaccinationSiteIn(BodyIn):
    name: str = Field(..., max_length=150)
    commune: str = Field(..., max_length=10)
    address: str = Field("", max_length=200)


class CampaignIn(BodyIn):
    name: str = Field(..., max_length=150)
    area: str = Field(..., max_length=10, description="district or province code")
    vaccine: str = Field(..., max_length=30, description="vaccine short code")
    priority_groups: list[str] = choice_field(PriorityGroup, [], service_checks=True)
    sites: list[UUID] = []
    starts_on: datetime.date
    ends_on: datetime.date


class CampaignOut(Schema):
    uuid: UUID
    name: str
    vaccine: str
    priority_groups: list[str] = choice_field(PriorityGroup)
    starts_on: datetime.date
    ends_on: datetime.date
    status: str = choice_field(Campaign.Status)

    @staticmethod
    def resolve_vaccine(obj: Campaign) -> str:
        return obj.vaccine.code


class VaccinationSessionIn(BodyIn):
    site: UUID
    date: datetime.date
    starts_at: datetime.time
    ends_at: datetime.time
    capacity: int = Field(..., ge=1, le=5000)
    self_booking: bool = True


class InviteIn(BodyIn):
    count: int = Field(..., ge=1, le=1000)


class StaffBookingIn(BodyIn):
    person_uuid: UUID
    waitlist: bool = False


class LotIn(BodyIn):
    vaccine: str = Field(..., max_length=30)
    number: str = Field(..., max_length=40)
    expiry_date: datetime.date
    doses: int = Field(..., ge=1, le=10_000_000)
    store_area: str = Field(..., max_length=10)


class LotOut(Schema):
    uuid: UUID
    vaccine: str
    number: str
    expiry_date: datetime.date
    doses_received: int
    doses_allocated: int

    @staticmethod
    def resolve_vaccine(obj: VaccineLot) -> str:
        return obj.vaccine.code


class AllocateIn(BodyIn):
    site: UUID
    doses: int = Field(..., ge=1, le=10_000_000)


class StaffRegistrationIn(RegistrationIn):
    pass


class VaccinationImportOut(Schema):
    rows: int
    imported: int
    created_people: int
    merged: int
    applied: bool
    errors: list[dict[str, Any]]
    job: UUID | None = None


class VaccinationImportJobOut(Schema):
    """A long list being applied in the background; poll `url` until `status` is done."""

    uuid: UUID
    url: str
    status: Literal["queued", "running", "done", "failed"]
    rows_total: int
    rows_done: int
    created_count: int
    updated_count: int
    errors: list[dict[str, Any]]


def _job_out(job: Any) -> dict[str, Any]:
    return {
        "uuid": job.uuid,
        "url": f"/api/v1/vaccination/staff/registrations/import-jobs/{job.uuid}",
        "status": job.status,
        "rows_total": job.rows_total,
        "rows_done": job.rows_done,
        "created_count": job.created_count,
        "updated_count": job.updated_count,
        "errors": job.errors,
    }


class VoidIn(BodyIn):
    reason: str = Field(..., min_length=1, max_length=300)


class CoverageOut(Schema):
    key: str
    label: str
    population: int
    at_least_one: int
    full: int
    booster: int


class DailyOut(Schema):
    day: datetime.date
    doses: int
    first: int
    full: int
    booster: int


class StockOut(Schema):
    key: str
    label: str
    vaccine: str
    lot: str
    expiry_date: datetime.date | None
    received: int
    allocated: int
    used: int
    wasted: int
    left: int


def _vaccine(code: str, field: str = "vaccine") -> Vaccine:
    vaccine = Vaccine.objects.filter(code=code).first()
    if vaccine is None:
        raise InvalidInput(details={"fields": {field: [_("Choose a vaccine from the list.")]}})
    return vaccine


def _area(code: str, field: str, levels: tuple[int, ...]) -> Area:
    area = Area.objects.filter(code=code, level__in=levels).first()
    if area is None:
        raise InvalidInput(details={"fields": {field: [_("Choose an area from the list.")]}})
    return area


@router.post(
    "/staff/sites", response={201: VaccinationSiteOut}, auth=staff_auth, summary="Create a site"
)
def staff_site_create(request: HttpRequest, payload: VaccinationSiteIn) -> Any:
    commune = _area(payload.commune, "commune", (Area.Level.COMMUNE,))
    site = services.site_create(
        actor=request_user(request), name=payload.name, commune=commune, address=payload.address
    )
    return Status(201, site)


@router.get("/staff/campaigns", response=list[CampaignOut], auth=staff_auth, summary="Campaigns")
def staff_campaigns(request: HttpRequest) -> Any:
    return selectors.campaigns_for_actor(actor=request_user(request)).order_by("-starts_on", "-id")


@router.post(
    "/staff/campaigns", response={201: CampaignOut}, auth=staff_auth, summary="Plan a campaign"
)
def staff_campaign_create(request: HttpRequest, payload: CampaignIn) -> Any:
    actor = request_user(request)
    area = _area(payload.area, "area", (Area.Level.PROVINCE, Area.Level.DISTRICT))
    sites = list(VaccinationSite.objects.filter(uuid__in=payload.sites))
    if len(sites) != len(set(payload.sites)):
        raise InvalidInput(details={"fields": {"sites": [_("Choose sites from the list.")]}})
    campaign = services.campaign_create(
        actor=actor,
        name=payload.name,
        area=area,
        vaccine=_vaccine(payload.vaccine),
        priority_groups=payload.priority_groups,
        sites=sites,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
    )
    return Status(201, campaign)


@router.post(
    "/staff/campaigns/{uuid:campaign_uuid}/sessions",
    response={201: VaccinationSessionOut},
    auth=staff_auth,
    summary="Add a session",
)
def staff_session_create(
    request: HttpRequest, campaign_uuid: UUID, payload: VaccinationSessionIn
) -> Any:
    actor = request_user(request)
    # The campaign as the page finds it (within the actor's area), before the site: a
    # campaign beyond reach is 404 whatever the body says.
    campaign = selectors.campaigns_for_actor(actor=actor).filter(uuid=campaign_uuid).first()
    site = VaccinationSite.objects.filter(uuid=payload.site).first()
    if campaign is None or site is None:
        raise NotFound()
    session = services.session_create(
        actor=actor,
        campaign=campaign,
        site=site,
        date=payload.date,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        capacity=payload.capacity,
        self_booking=payload.self_booking,
    )
    return Status(201, session)


@router.get(
    "/staff/sessions/{uuid:session_uuid}",
    response=VaccinationSessionOut,
    auth=staff_auth,
    summary="One session",
)
def staff_session(request: HttpRequest, session_uuid: UUID) -> Any:
    return session_get_for_actor(actor=request_user(request), session_uuid=session_uuid)


@router.post(
    "/staff/sessions/{uuid:session_uuid}/invitations",
    response={201: list[BookingOut]},
    auth=staff_auth,
    summary="Invite registrants in priority order",
)
def staff_invite(request: HttpRequest, session_uuid: UUID, payload: InviteIn) -> Any:
    actor = request_user(request)
    session = session_get_for_actor(actor=actor, session_uuid=session_uuid, roles=OFFICER_ROLES)
    return Status(201, services.invitations_send(actor=actor, session=session, count=payload.count))


@router.post(
    "/staff/sessions/{uuid:session_uuid}/bookings",
    response={201: BookingOut},
    auth=staff_auth,
    summary="Book a person into a session",
)
def staff_book(request: HttpRequest, session_uuid: UUID, payload: StaffBookingIn) -> Any:
    actor = request_user(request)
    session = session_get_for_actor(actor=actor, session_uuid=session_uuid, roles=OFFICER_ROLES)
    person = person_get_for_actor(actor=actor, person_uuid=payload.person_uuid)
    booking = services.booking_create(
        actor=actor, person=person, session=session, waitlist=payload.waitlist
    )
    return Status(201, booking)


@router.post(
    "/staff/bookings/{uuid:booking_uuid}/cancel",
    response=BookingOut,
    auth=staff_auth,
    summary="Cancel a booking",
)
def staff_cancel(request: HttpRequest, booking_uuid: UUID) -> Any:
    actor = request_user(request)
    booking = booking_get_for_staff(actor=actor, booking_uuid=booking_uuid)
    return services.booking_cancel(actor=actor, booking=booking)


@router.post("/staff/lots", response={201: LotOut}, auth=staff_auth, summary="Receive a lot")
def staff_lot_receive(request: HttpRequest, payload: LotIn) -> Any:
    store = _area(payload.store_area, "store_area", (Area.Level.PROVINCE, Area.Level.DISTRICT))
    lot = services.lot_receive(
        actor=request_user(request),
        vaccine=_vaccine(payload.vaccine),
        number=payload.number,
        expiry_date=payload.expiry_date,
        doses=payload.doses,
        store_area=store,
    )
    return Status(201, lot)


@router.post(
    "/staff/lots/{uuid:lot_uuid}/allocations",
    response={201: AllocationOut},
    auth=staff_auth,
    summary="Allocate doses of a lot to a site",
)
def staff_lot_allocate(request: HttpRequest, lot_uuid: UUID, payload: AllocateIn) -> Any:
    actor = request_user(request)
    lot = VaccineLot.objects.filter(uuid=lot_uuid).first()
    site = sites_for_actor(actor, roles=PLANNER_ROLES).filter(uuid=payload.site).first()
    if lot is None or site is None:
        raise NotFound()
    return Status(201, services.lot_allocate(actor=actor, lot=lot, site=site, doses=payload.doses))


@router.post(
    "/staff/registrations",
    response={201: RegistrationOut},
    auth=staff_auth,
    summary="Register a person of my area",
)
def staff_register(request: HttpRequest, payload: StaffRegistrationIn) -> Any:
    actor = request_user(request)
    person = person_get_for_actor(actor=actor, person_uuid=payload.person_uuid)
    registration = services.registration_submit(
        actor=actor,
        person=person,
        priority_group=payload.priority_group,
        occupation=payload.occupation,
        health_answers=payload.health_answers,
        preferred_site=_site_for_uuid(payload.preferred_site),
    )
    return Status(201, registration)


@router.post(
    "/staff/registrations/import",
    response={200: VaccinationImportOut, 202: VaccinationImportJobOut},
    auth=staff_auth,
    summary="Import a staff or resident list (XLSX or CSV); a long one answers 202 and a job",
)
def staff_import(
    request: HttpRequest,
    file: File[UploadedFile],  # type: ignore[type-arg]
    source: Form[Literal["agency", "commune"]],
    source_name: Form[str] = "",
    only_good_rows: Form[bool] = False,
) -> Any:
    job = services.registration_import(
        actor=request_user(request),
        filename=file.name or "",
        content=file.read(),
        source=source,
        source_name=source_name[:150],
        only_good_rows=only_good_rows,
    )
    if not job.finished:
        return Status(202, _job_out(job))
    return {**services.import_report(job).as_dict(), "job": job.uuid}


@router.get(
    "/staff/registrations/import-jobs/{uuid:job_uuid}",
    response=VaccinationImportJobOut,
    auth=staff_auth,
    summary="The progress of my list import (another staff member's: 404)",
)
def staff_import_job(request: HttpRequest, job_uuid: UUID) -> Any:
    job = import_job_get_for_actor(
        actor=request_user(request), job_uuid=job_uuid, kind=services.IMPORT_JOB_KIND
    )
    return _job_out(job)


@router.get(
    "/staff/people/{uuid:person_uuid}",
    response=PersonVaccinationOut,
    auth=staff_auth,
    summary="A person's vaccinations (my area)",
)
def staff_person(request: HttpRequest, person_uuid: UUID) -> Any:
    person = person_get_for_actor(
        actor=request_user(request),
        person_uuid=person_uuid,
        action="vaccination.person.viewed",
    )
    return _person_out(selectors.person_vaccination_view(person))


@router.post(
    "/staff/people/{uuid:person_uuid}/doses-elsewhere",
    response={201: DoseOut},
    auth=staff_auth,
    summary="Record a dose given elsewhere, with its evidence",
)
def staff_dose_elsewhere(
    request: HttpRequest,
    person_uuid: UUID,
    vaccine: Form[str],
    administered_on: Form[datetime.date],
    place: Form[str],
    country: Form[str] = "VN",
    evidence_note: Form[str] = "",
    evidence: UploadedFile | None = File(None),  # type: ignore[type-arg]  # noqa: B008
) -> Any:
    actor = request_user(request)
    person = person_get_for_actor(actor=actor, person_uuid=person_uuid)
    dose = services.dose_record_elsewhere(
        actor=actor,
        person=person,
        vaccine=_vaccine(vaccine),
        administered_on=administered_on,
        place=place,
        country=country,
        evidence_note=evidence_note,
        evidence=evidence,
    )
    return Status(201, dose)


@router.post(
    "/staff/doses/{uuid:dose_uuid}/void", response=DoseOut, auth=staff_auth, summary="Void a dose"
)
def staff_dose_void(request: HttpRequest, dose_uuid: UUID, payload: VoidIn) -> Any:
    actor = request_user(request)
    from covidhub.accounts.scoping import actor_scope, area_path_q

    dose = (
        Dose.objects.filter(
            area_path_q(actor_scope(actor), "commune_path")
            | site_q(actor, prefix="site__", roles=STAFF_ROLES)
        )
        .select_related("vaccine", "lot", "site", "person", "allocation")
        .filter(uuid=dose_uuid)
        .first()
    )
    if dose is None:
        raise NotFound()
    return services.dose_void(actor=actor, dose=dose, reason=payload.reason)


@router.get(
    "/staff/reports/coverage",
    response=list[CoverageOut],
    auth=staff_auth,
    summary="Coverage by commune, age band or priority group",
)
def staff_coverage(
    request: HttpRequest,
    by: Literal["commune", "age_band", "priority_group"] = "commune",
    area: str = "",
) -> Any:
    path = ""
    if area:
        path = _area(area[:10], "area", (1, 2, 3)).path
    return selectors.coverage_counts(by=by, area_path=path, actor=request_user(request))


@router.get(
    "/staff/reports/doses-per-day",
    response=list[DailyOut],
    auth=staff_auth,
    summary="Doses per day in my area",
)
def staff_daily(request: HttpRequest, since: datetime.date, until: datetime.date) -> Any:
    if until < since or (until - since).days > 366:
        raise InvalidInput(details={"fields": {"until": [_("Choose at most one year.")]}})
    return selectors.doses_per_day(actor=request_user(request), since=since, until=until)


@router.get(
    "/staff/reports/stock",
    response=dict[str, list[StockOut]],
    auth=staff_auth,
    summary="Stock per site and per district",
)
def staff_stock(request: HttpRequest) -> Any:
    actor = request_user(request)

    def rows(items: list[selectors.StockRow]) -> list[dict[str, Any]]:
        return [{**r.__dict__, "left": r.left} for r in items]

    return {
        "sites": rows(selectors.stock_by_site(actor=actor)),
        "districts": rows(selectors.stock_by_district(actor=actor)),
    }
