"""The exchange's staff pages: the province administrator's reconciliation and dead
letters; the officers' import of doses given elsewhere (FHIR Immunization files)."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from covidhub.accounts.decorators import staff_required
from covidhub.accounts.scoping import OFFICER_ROLES
from covidhub.areas.models import Area
from covidhub.core.errors import DomainError, InvalidInput
from covidhub.core.import_jobs import import_job_get_for_actor
from covidhub.exchange import inbound
from covidhub.exchange.api import reconciliation_window
from covidhub.exchange.forms import InboundImportForm
from covidhub.exchange.models import ExchangeRecord
from covidhub.exchange.outbox import endpoints
from covidhub.exchange.selectors import (
    MANAGER_ROLES,
    exchange_reconciliation,
    exchange_rejections_list,
)
from covidhub.exchange.services import exchange_records_retry


def _day(text: str | None) -> datetime.date | None:
    try:
        return parse_date(text or "")
    except ValueError:
        return None


@staff_required(*MANAGER_ROLES)
@require_GET
def reconciliation(request: HttpRequest) -> HttpResponse:
    error = ""
    asked_from, asked_to = request.GET.get("from"), request.GET.get("to")
    day_from, day_to = _day(asked_from), _day(asked_to)
    if (asked_from and day_from is None) or (asked_to and day_to is None):
        error = _("Enter days as YYYY-MM-DD.")
        day_from = day_to = None
    try:
        day_from, day_to = reconciliation_window(day_from, day_to)
    except InvalidInput as exc:
        error = str(exc.message)
        day_from, day_to = reconciliation_window(None, None)
    rows = exchange_reconciliation(actor=request.user, day_from=day_from, day_to=day_to)
    names = dict(
        Area.objects.filter(path__in={r.commune_path for r in rows}).values_list("path", "name")
    )
    S = ExchangeRecord.Status
    table = [
        {
            "day": r.day,
            "area": names.get(r.commune_path, r.commune_path or "—"),
            "endpoint": r.endpoint,
            "kind": ExchangeRecord.Kind(r.kind).label,
            "pending": r.counts.get(S.PENDING, 0) + r.counts.get(S.SENDING, 0),
            "accepted": r.counts.get(S.ACCEPTED, 0),
            "rejected": r.counts.get(S.REJECTED, 0),
            "dead": r.counts.get(S.DEAD, 0),
            "unsent": r.unsent,
        }
        for r in rows
    ]
    return render(
        request,
        "exchange/reconciliation.html",
        {
            "rows": table,
            "unsent": sum(r["unsent"] for r in table),
            "day_from": day_from,
            "day_to": day_to,
            "error": error,
            "failures": exchange_rejections_list(actor=request.user, limit=50),
            "endpoints": endpoints(),
        },
        status=400 if error else 200,
    )


@staff_required(*MANAGER_ROLES)
@require_POST
def dead_letters_retry(request: HttpRequest) -> HttpResponse:
    endpoint = request.POST.get("endpoint", "")
    if endpoint and endpoint not in {e.name for e in endpoints()}:
        messages.error(request, _("Unknown endpoint."))
        return redirect("exchange:reconciliation")
    count = exchange_records_retry(
        actor=request.user, endpoint=endpoint, rejected=request.POST.get("rejected") == "1"
    )
    messages.success(
        request, _("%(count)d records were put back in the outbox.") % {"count": count}
    )
    return redirect("exchange:reconciliation")


@staff_required(*OFFICER_ROLES)
@require_http_methods(["GET", "POST"])
def inbound_import(request: HttpRequest) -> HttpResponse:
    """Upload a FHIR Bundle or NDJSON of doses given elsewhere; a short file's report is
    shown at once, a long one goes on in the background (its progress page)."""
    form = InboundImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = inbound.immunizations_import(
                actor=request.user,
                filename=upload.name or "",
                content=upload.read(),
                source_name=form.cleaned_data["source_name"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        else:
            if not job.finished:
                return redirect("exchange:import_job", job_uuid=job.uuid)
            report = inbound.inbound_report(job).as_dict()
    return render(
        request,
        "exchange/import.html",
        {"form": form, "report": report},
        status=400 if request.method == "POST" and report is None else 200,
    )


@staff_required(*OFFICER_ROLES)
@require_GET
def inbound_import_job(request: HttpRequest, job_uuid: str) -> HttpResponse:
    """The progress of a long import, reloading itself until the job ends, then its
    report (the actor's own job only: anyone else's is 404)."""
    job = import_job_get_for_actor(
        actor=request.user, job_uuid=job_uuid, kind=inbound.IMPORT_JOB_KIND
    )
    return render(
        request,
        "exchange/import_job.html",
        {
            "job": job,
            "report": inbound.inbound_report(job).as_dict() if job.finished else None,
            "refresh_seconds": 3,
        },
    )
