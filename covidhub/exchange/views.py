"""The province administrator's exchange page: reconciliation and dead letters."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from covidhub.accounts.decorators import staff_required
from covidhub.areas.models import Area
from covidhub.core.errors import InvalidInput
from covidhub.exchange.api import reconciliation_window
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
    count = exchange_records_retry(actor=request.user, endpoint=endpoint)
    messages.success(
        request, _("%(count)d records were put back in the outbox.") % {"count": count}
    )
    return redirect("exchange:reconciliation")
