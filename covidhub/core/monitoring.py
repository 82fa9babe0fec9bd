"""Prometheus metrics (prometheus-client): requests per route, queue depths, replica lag,
rate-limit refusals; served at /metrics to the monitoring network only.

Per-process figures (requests, latencies, where reads went, refusals) are counters and
histograms kept by each server process; with several processes (granian --workers N),
set PROMETHEUS_MULTIPROC_DIR to an empty directory writable by all of them (emptied at
each start) so that /metrics adds them up. Figures of the whole platform (queue depths,
the worker's lag, replica lag) are measured when /metrics is scraped, once, by the
process that answers.

A capability publishes its queue with `register_queue` in its AppConfig.ready():

    register_queue("certificates_pending", pending_issue_depth)

where the function returns `QueueDepth(count, oldest_seconds)`. The exchange outbox
registers itself the same way when it exists.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("covidhub.access")

REQUESTS = Counter(
    "covidhub_http_requests",
    "HTTP requests answered, by route pattern (never the path), method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "covidhub_http_request_duration_seconds",
    "Time to answer a request, by route pattern and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
DB_READS = Counter(
    "covidhub_db_reads",
    "Reads in a replica scope, by the database they went to and why "
    "(replica, or on the primary: model, transaction, wrote, pinned, lagging, unavailable, "
    "forced).",
    ["database", "reason"],
)
RATE_LIMITED = Counter(
    "covidhub_rate_limit_refusals",
    "Requests refused by a rate limit, by the refusal's code.",
    ["code"],
)

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_of(request: HttpRequest) -> str:
    """The URL pattern that answered (`portal/districts/<str:code>/`): bounded in number
    and free of the values in the path (codes, tokens)."""
    match = getattr(request, "resolver_match", None)
    if match is None or not match.route:
        return "unmatched"
    return str(match.route)


class MetricsMiddleware:
    """Counts and times every request by route, and writes one access-log line with the
    request id, route pattern, status and duration (no path, no query, no address)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        route = route_of(request)
        method = request.method if request.method in _METHODS else "other"
        REQUESTS.labels(route, method, str(response.status_code)).inc()
        LATENCY.labels(route, method).observe(elapsed)
        if access_logger.isEnabledFor(logging.INFO):
            access_logger.info(
                "%s %s %s %.1f ms",
                method,
                route,
                response.status_code,
                elapsed * 1000,
                extra={
                    "method": method,
                    "route": route,
                    "status": response.status_code,
                    "duration_ms": round(elapsed * 1000, 1),
                },
            )
        return response


def rate_limit_refused(code: str) -> None:
    RATE_LIMITED.labels(code).inc()


# -- queues -----------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueDepth:
    count: int
    oldest_seconds: float | None  # age of the oldest item waiting; None when empty


_queues: dict[str, Callable[[], QueueDepth]] = {}


def register_queue(name: str, measure: Callable[[], QueueDepth]) -> None:
    _queues[name] = measure


def queues_measure() -> dict[str, QueueDepth | None]:
    """Each registered queue measured now (None: its measure failed)."""
    out: dict[str, QueueDepth | None] = {}
    for name, measure in sorted(_queues.items()):
        try:
            out[name] = measure()
        except Exception:
            logger.exception("queue %s could not be measured", name)
            out[name] = None
    return out


def tasks_due_depth() -> QueueDepth:
    """Tasks the worker should be running now: READY and due. Their oldest's age is the
    worker's lag (a task enqueued to run at once is due from its enqueueing)."""
    from django.db.models import Count, Min
    from django.tasks.base import TaskResultStatus
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult, get_date_max

    now = timezone.now()
    ready = DBTaskResult.objects.filter(status=TaskResultStatus.READY)
    asap = ready.filter(run_after=get_date_max()).aggregate(
        count=Count("pk"), oldest=Min("enqueued_at")
    )
    timed = ready.filter(run_after__lte=now).aggregate(count=Count("pk"), oldest=Min("run_after"))
    starts = [t for t in (asap["oldest"], timed["oldest"]) if t is not None]
    return QueueDepth(
        int(asap["count"]) + int(timed["count"]),
        max(0.0, (now - min(starts)).total_seconds()) if starts else None,
    )


# -- /metrics ---------------------------------------------------------------------------


class _PlatformCollector(Collector):
    """Figures of the whole platform, measured at each scrape."""

    def collect(self) -> Iterator[Metric]:
        from covidhub.core import replicas

        depth = GaugeMetricFamily(
            "covidhub_queue_depth", "Items waiting in each queue.", labels=["queue"]
        )
        oldest = GaugeMetricFamily(
            "covidhub_queue_oldest_seconds",
            "Age of the oldest item waiting in each queue (0 when empty).",
            labels=["queue"],
        )
        up = GaugeMetricFamily(
            "covidhub_queue_measure_up",
            "Whether each queue could be measured at this scrape.",
            labels=["queue"],
        )
        for name, measured in queues_measure().items():
            up.add_metric([name], 0 if measured is None else 1)
            if measured is not None:
                depth.add_metric([name], measured.count)
                oldest.add_metric([name], measured.oldest_seconds or 0.0)
        yield depth
        yield oldest
        yield up

        lag = GaugeMetricFamily(
            "covidhub_replica_lag_seconds",
            "Replay lag of each standby the application reads from, as the standby says.",
            labels=["replica"],
        )
        usable = GaugeMetricFamily(
            "covidhub_replica_usable",
            "1 when a standby answers, receives from the primary and lags under the bound.",
            labels=["replica"],
        )
        for alias, state in replicas.replicas_readiness().items():
            usable.add_metric([alias], 1 if state["status"] == "ok" else 0)
            if state["lag_seconds"] is not None:
                lag.add_metric([alias], state["lag_seconds"])
        yield lag
        yield usable

        streaming = GaugeMetricFamily(
            "covidhub_primary_standby_replay_lag_seconds",
            "Replay lag of each standby streaming from the primary (pg_stat_replication).",
            labels=["standby", "state"],
        )
        try:
            for name, state_name, seconds in replicas.standbys_seen_by_primary():
                streaming.add_metric([name, state_name], seconds or 0.0)
        except Exception:
            logger.exception("pg_stat_replication could not be read")
        yield streaming


def _allowed(request: HttpRequest) -> bool:
    from covidhub.core.request_context import client_address

    address = client_address(request)
    if address is None:
        return False
    ip = ipaddress.ip_address(address)
    networks = [ipaddress.ip_network(n, strict=False) for n in settings.METRICS_ALLOWED_NETWORKS]
    if not any(ip.version == n.version and ip in n for n in networks):
        return False
    token = settings.METRICS_TOKEN
    if not token:
        return True
    given = request.META.get("HTTP_AUTHORIZATION", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def metrics_view(request: HttpRequest) -> HttpResponse:
    """The Prometheus exposition. Anyone outside METRICS_ALLOWED_NETWORKS, or without the
    METRICS_TOKEN when one is set, gets the site's 404."""
    if request.method != "GET" or not _allowed(request):
        raise Http404
    platform = CollectorRegistry(auto_describe=False)
    platform.register(_PlatformCollector())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        processes = CollectorRegistry(auto_describe=False)
        multiprocess.MultiProcessCollector(processes)  # type: ignore[no-untyped-call]
        body = generate_latest(processes) + generate_latest(platform)
    else:
        body = generate_latest(REGISTRY) + generate_latest(platform)
    response = HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
