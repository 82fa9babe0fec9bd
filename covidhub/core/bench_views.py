"""Bare Django views that benchmarks measure as their baseline in the same run.

Mounted only when BENCH_ENDPOINTS is set (bench/harness.py sets it); never in a real
deployment. Each does the least Django can do for its kind of request: nothing, one
inserted row, one indexed select.
"""

from __future__ import annotations

import secrets

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from covidhub.core.models import BenchProbe


def noop(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"ok": True})


@csrf_exempt
def insert(request: HttpRequest) -> HttpResponse:
    probe = BenchProbe.objects.create(key=secrets.token_hex(16))
    return JsonResponse({"id": probe.pk}, status=201)


def select(request: HttpRequest) -> HttpResponse:
    key = request.GET.get("key", "")
    row = BenchProbe.objects.filter(key=key).values("id", "created_at").first()
    return JsonResponse({"found": row is not None})


urlpatterns = [
    path("_bench/noop", noop),
    path("_bench/insert", insert),
    path("_bench/select", select),
]
