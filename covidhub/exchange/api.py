"""The exchange's reconciliation for province administrators (staff sessions)."""

from __future__ import annotations

import datetime
from uuid import UUID

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Schema

from covidhub.accounts.api_auth import request_user, staff_auth
from covidhub.core.api_base import BodyIn, Router
from covidhub.core.errors import InvalidInput, NotFound
from covidhub.exchange.models import ExchangeRecord
from covidhub.exchange.selectors import (
    exchange_may_manage,
    exchange_reconciliation,
    exchange_rejections,
)
from covidhub.exchange.services import exchange_records_retry

router = Router(tags=["exchange"], auth=staff_auth)

MAX_DAYS = 92


class ExchangeReconciliationQuery(Schema):
    day_from: datetime.date | None = None
    day_to: datetime.date | None = None


class ExchangeReconciliationRowOut(Schema):
    day: datetime.date
    commune_path: str
    endpoint: str
    kind: ExchangeRecord.Kind
    pending: int
    sending: int
    accepted: int
    rejected: int
    dead: int
    unsent: int


class ExchangeReconciliationOut(Schema):
    day_from: datetime.date
    day_to: datetime.date
    items: list[ExchangeReconciliationRowOut]
    unsent: int


class ExchangeRejectionOut(Schema):
    uuid: UUID
    endpoint: str
    kind: ExchangeRecord.Kind
    record_uuid: UUID
    day: datetime.date
    status: ExchangeRecord.Status
    reason: str
    last_error: str
    attempts: int


class ExchangeRetryIn(BodyIn):
    endpoint: str = ""


class ExchangeRetryOut(Schema):
    retried: int


def _manager(request: HttpRequest) -> object:
    actor = request_user(request)
    if not exchange_may_manage(actor):
        raise NotFound()
    return actor


def reconciliation_window(
    day_from: datetime.date | None, day_to: datetime.date | None
) -> tuple[datetime.date, datetime.date]:
    """The days asked for (the last week by default), at most MAX_DAYS of them."""
    day_to = day_to or timezone.localdate()
    day_from = day_from or day_to - datetime.timedelta(days=6)
    if day_from > day_to or (day_to - day_from).days >= MAX_DAYS:
        raise InvalidInput(
            _("Choose a start day before the end day, at most %(days)d days apart.")
            % {"days": MAX_DAYS}
        )
    return day_from, day_to


@router.get(
    "/reconciliation",
    response=ExchangeReconciliationOut,
    summary="What was sent, accepted, rejected and is pending, per day and commune",
)
def reconciliation(
    request: HttpRequest, query: Query[ExchangeReconciliationQuery]
) -> ExchangeReconciliationOut:
    actor = _manager(request)
    day_from, day_to = reconciliation_window(query.day_from, query.day_to)
    rows = exchange_reconciliation(actor=actor, day_from=day_from, day_to=day_to)
    S = ExchangeRecord.Status
    items = [
        ExchangeReconciliationRowOut(
            day=row.day,
            commune_path=row.commune_path,
            endpoint=row.endpoint,
            kind=ExchangeRecord.Kind(row.kind),
            pending=row.counts.get(S.PENDING, 0),
            sending=row.counts.get(S.SENDING, 0),
            accepted=row.counts.get(S.ACCEPTED, 0),
            rejected=row.counts.get(S.REJECTED, 0),
            dead=row.counts.get(S.DEAD, 0),
            unsent=row.unsent,
        )
        for row in rows
    ]
    return ExchangeReconciliationOut(
        day_from=day_from, day_to=day_to, items=items, unsent=sum(i.unsent for i in items)
    )


@router.get(
    "/rejections",
    response=list[ExchangeRejectionOut],
    summary="The latest rejected and dead-letter records, with the partner's reason",
)
def rejections(request: HttpRequest) -> QuerySet[ExchangeRecord]:
    return exchange_rejections(actor=_manager(request))


@router.post(
    "/dead-letters/retry",
    response=ExchangeRetryOut,
    summary="Put the dead letters (of one endpoint, or all) back in the outbox",
)
def dead_letters_retry(request: HttpRequest, payload: ExchangeRetryIn) -> ExchangeRetryOut:
    actor = _manager(request)
    return ExchangeRetryOut(retried=exchange_records_retry(actor=actor, endpoint=payload.endpoint))
