"""The home-care API for the native app (households: orders, self-checks) and the
stations (the day's list, orders, alerts)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Query, Schema

from covidhub.accounts.api_auth import citizen_auth, request_user, staff_auth
from covidhub.core.api_base import BodyIn, Router, choice_field
from covidhub.homecare import selectors
from covidhub.homecare.models import CareAlert, CareOrder, SelfCheck, Symptom
from covidhub.homecare.services.checks import self_check_submit
from covidhub.homecare.services.station import alert_close, alert_take
from covidhub.homecare.validation import self_check_clean

router = Router(tags=["homecare"])


class HomecareOrderOut(Schema):
    uuid: UUID
    person_uuid: UUID
    person_name: str
    kind: str = choice_field(CareOrder.Kind)
    place: str = choice_field(CareOrder.Place)
    status: str = choice_field(CareOrder.Status)
    start_date: datetime.date
    planned_end: datetime.date
    risk: int
    last_check_at: datetime.datetime | None
    released_at: datetime.datetime | None

    @staticmethod
    def resolve_person_name(order: CareOrder) -> str:
        return order.person.full_name


class HomecareCheckIn(BodyIn):
    client_key: str = Field(
        min_length=8,
        max_length=64,
        description="Made by the phone when measured; a replay records nothing twice.",
    )
    measured_at: datetime.datetime | None = None
    temperature: Decimal | None = None
    spo2: int | None = None
    pulse: int | None = None
    breathing_rate: int | None = None
    symptoms: list[Symptom] = []
    no_symptoms: bool = False


class HomecareCheckOut(Schema):
    uuid: UUID
    measured_at: datetime.datetime
    temperature: Decimal | None
    spo2: int | None
    pulse: int | None
    breathing_rate: int | None
    symptoms: list[str]
    warning_signs: list[str]
    created: bool = False


class HomecareStationQuery(Schema):
    commune: str | None = None
    limit: int = Field(
        settings.NINJA_PAGINATION_PER_PAGE,
        ge=1,
        le=settings.API_PAGE_SIZE_MAX,
        description=f"How many people (at most {settings.API_PAGE_SIZE_MAX}).",
    )
    offset: int = Field(0, ge=0, description="How many people to skip.")


class HomecareStationRowOut(Schema):
    order: HomecareOrderOut
    day_of_care: int
    missed: bool
    open_alerts: int
    needs_call: bool


class HomecareStationOut(Schema):
    commune: str
    day: datetime.date
    count: int = Field(description="How many people are under care in the commune in all.")
    next: str | None = Field(
        description="The same request for the next page; null on the last page."
    )
    rows: list[HomecareStationRowOut]


class HomecareAlertCloseIn(BodyIn):
    outcome: CareAlert.Outcome
    note: str = Field("", max_length=500)
    facility: str = Field("", max_length=200)


class HomecareAlertOut(Schema):
    uuid: UUID
    order_uuid: UUID
    status: str = choice_field(CareAlert.Status)
    signs: list[str]
    due_at: datetime.datetime
    outcome: str
    closed_at: datetime.datetime | None

    @staticmethod
    def resolve_order_uuid(alert: CareAlert) -> UUID:
        return alert.order.uuid


@router.get(
    "/orders",
    response=list[HomecareOrderOut],
    auth=citizen_auth,
    summary="My household's home care and quarantine orders",
)
def orders_mine(request: HttpRequest) -> list[CareOrder]:
    return selectors.household_orders(account=request_user(request))


@router.post(
    "/orders/{uuid:order_uuid}/checks",
    response={200: HomecareCheckOut, 201: HomecareCheckOut},
    auth=citizen_auth,
    summary="Send a self-check (idempotent by client_key: 201 recorded, 200 already recorded)",
)
def check_create(
    request: HttpRequest, order_uuid: UUID, payload: HomecareCheckIn
) -> tuple[int, dict[str, Any]]:
    account = request_user(request)
    order = selectors.household_order_get(account=account, order_uuid=order_uuid)
    data = self_check_clean(payload.dict())
    check, created = self_check_submit(actor=account, order=order, data=data)
    return (201 if created else 200), _check_out(check, created)


def _check_out(check: SelfCheck, created: bool) -> dict[str, Any]:
    return {
        "uuid": check.uuid,
        "measured_at": check.measured_at,
        "temperature": check.temperature,
        "spo2": check.spo2,
        "pulse": check.pulse,
        "breathing_rate": check.breathing_rate,
        "symptoms": check.symptoms,
        "warning_signs": check.warning_signs,
        "created": created,
    }


@router.get(
    "/station",
    response=HomecareStationOut,
    auth=staff_auth,
    summary="The station's list: people under care, who needs a call first (a page)",
)
def station(request: HttpRequest, query: Query[HomecareStationQuery]) -> HomecareStationOut:
    actor = request_user(request)
    commune = selectors.commune_of_actor(actor=actor, code=query.commune)
    day = selectors.station_list(
        actor=actor, commune=commune, offset=query.offset, limit=query.limit
    )
    following = None
    if day.next_offset is not None:
        params = request.GET.copy()
        params["limit"] = str(day.limit)
        params["offset"] = str(day.next_offset)
        following = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
    # Built from the selector's typed values, not validated again attribute by attribute
    # through the ORM objects (most of a page's serialising time); Ninja answers an
    # instance of the response schema as it is.
    return HomecareStationOut.model_construct(
        commune=commune.code,
        day=day.day,
        count=day.count,
        next=following,
        rows=[
            HomecareStationRowOut.model_construct(
                order=_order_out(row.order),
                day_of_care=row.day_of_care,
                missed=row.missed,
                open_alerts=row.open_alerts,
                needs_call=row.needs_call,
            )
            for row in day.rows
        ],
    )


def _order_out(order: selectors.ListedOrder) -> HomecareOrderOut:
    return HomecareOrderOut.model_construct(
        uuid=order.uuid,
        person_uuid=order.person.uuid,
        person_name=order.person.full_name,
        kind=order.kind,
        place=order.place,
        status=order.status,
        start_date=order.start_date,
        planned_end=order.planned_end,
        risk=order.risk,
        last_check_at=order.last_check_at,
        released_at=order.released_at,
    )


@router.get(
    "/staff/orders/{uuid:order_uuid}",
    response=HomecareOrderOut,
    auth=staff_auth,
    summary="One order of the actor's areas",
)
def order_get(request: HttpRequest, order_uuid: UUID) -> CareOrder:
    return selectors.order_get_for_actor(actor=request_user(request), order_uuid=order_uuid)


@router.post(
    "/alerts/{uuid:alert_uuid}/take",
    response=HomecareAlertOut,
    auth=staff_auth,
    summary="Take an alert (its owner until closed)",
)
def alert_take_api(request: HttpRequest, alert_uuid: UUID) -> CareAlert:
    actor = request_user(request)
    alert = selectors.alert_get_for_actor(actor=actor, alert_uuid=alert_uuid)
    return alert_take(actor=actor, alert=alert)


@router.post(
    "/alerts/{uuid:alert_uuid}/close",
    response=HomecareAlertOut,
    auth=staff_auth,
    summary="Close an alert (409 if another officer closed it first)",
)
def alert_close_api(
    request: HttpRequest, alert_uuid: UUID, payload: HomecareAlertCloseIn
) -> CareAlert:
    actor = request_user(request)
    alert = selectors.alert_get_for_actor(actor=actor, alert_uuid=alert_uuid)
    return alert_close(
        actor=actor,
        alert=alert,
        outcome=payload.outcome,
        note=payload.note,
        facility=payload.facility,
    )
