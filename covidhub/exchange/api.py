"""The exchange's API: reconciliation for province administrators; the import of doses
given elsewhere (FHIR Immunization files) for officers and machine clients holding the
`vaccination:write` scope (covidhub.clients.scopes maps `exchange/inbound` to it)."""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Schema, Status, UploadedFile

from covidhub.accounts.api_auth import request_user, staff_auth
from covidhub.core.api_base import BodyIn, Router, choice_field
from covidhub.core.errors import InvalidInput, NotFound
from covidhub.core.import_jobs import import_job_get_for_actor
from covidhub.core.models import ImportJob
from covidhub.exchange import inbound
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
    kind: str = choice_field(ExchangeRecord.Kind)
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
    kind: str = choice_field(ExchangeRecord.Kind)
    record_uuid: UUID
    day: datetime.date
    status: str = choice_field(ExchangeRecord.Status)
    reason: str
    last_error: str
    attempts: int


class ExchangeRetryIn(BodyIn):
    endpoint: str = ""
    rejected: bool = False  # the rejected records too (the cause fixed meanwhile)


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
    summary="Put the dead letters (of one endpoint, or all; rejected ones too if asked) back "
    "in the outbox",
)
def dead_letters_retry(request: HttpRequest, payload: ExchangeRetryIn) -> ExchangeRetryOut:
    actor = _manager(request)
    return ExchangeRetryOut(
        retried=exchange_records_retry(
            actor=actor, endpoint=payload.endpoint, rejected=payload.rejected
        )
    )


class ExchangeInboundRowErrorOut(Schema):
    row: int
    field: str
    message: str


class ExchangeInboundImportOut(Schema):
    job: UUID
    status: str = choice_field(ImportJob.Status)
    rows_total: int  # doses to apply after the check (the job's rows)
    rows_done: int
    rows: int  # doses read from the file
    imported: int
    already: int  # imported before (by their source's identifier), or our own
    applied: bool
    errors: list[ExchangeInboundRowErrorOut]


def _inbound_out(job: ImportJob) -> ExchangeInboundImportOut:
    report = inbound.inbound_report(job)
    return ExchangeInboundImportOut(
        job=job.uuid,
        status=job.status,
        rows_total=job.rows_total,
        rows_done=job.rows_done,
        rows=report.rows,
        imported=report.imported,
        already=report.already,
        applied=report.applied,
        errors=[ExchangeInboundRowErrorOut(**e.as_dict()) for e in report.errors],
    )


@router.post(
    "/inbound/immunizations",
    response={200: ExchangeInboundImportOut, 202: ExchangeInboundImportOut},
    summary="Import doses given elsewhere: a FHIR Bundle (.json) or NDJSON (.ndjson) of "
    "Immunization resources; a long file answers 202 and its job",
)
def inbound_import(
    request: HttpRequest,
    file: File[UploadedFile],  # type: ignore[type-arg]
    source_name: Form[str] = "",
) -> Any:
    job = inbound.immunizations_import(
        actor=request_user(request),
        filename=file.name or "",
        content=file.read(),
        source_name=source_name[:150],
    )
    return Status(200 if job.finished else 202, _inbound_out(job))


@router.get(
    "/inbound/jobs/{uuid:job_uuid}",
    response=ExchangeInboundImportOut,
    summary="The progress and report of my import of doses (another account's: 404)",
)
def inbound_import_job(request: HttpRequest, job_uuid: UUID) -> ExchangeInboundImportOut:
    job = import_job_get_for_actor(
        actor=request_user(request), job_uuid=job_uuid, kind=inbound.IMPORT_JOB_KIND
    )
    return _inbound_out(job)
