"""/metrics (who may read it, what it says) and /readyz's worker lag."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in a Prometheus exposition."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        match = re.fullmatch(r"([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)", line)
        if not match or match[1] != name:
            continue
        found = ",".join(sorted(filter(None, (match[2] or "").split(","))))
        if found == wanted:
            return float(match[3])
    return None


def scrape(client: Any, **extra: Any) -> str:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "no-store" in response["Cache-Control"]
    return response.content.decode()


def test_metrics_answer_the_monitoring_network_only(client, settings):
    scrape(client)  # 127.0.0.1
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404
    settings.METRICS_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    assert client.get("/metrics", REMOTE_ADDR="10.20.3.4").status_code == 200
    assert client.get("/metrics").status_code == 404


def test_a_public_request_relayed_by_the_local_proxy_is_refused(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    relayed = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert relayed.status_code == 404


def test_a_metrics_token_is_required_when_set(client, settings):
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    scrape(client, HTTP_AUTHORIZATION="Bearer s3cret-scrape-token")


def test_requests_are_counted_by_route_pattern_never_by_path(client, area_tree):
    route = "portal/districts/<str:code>/"
    before = (
        sample(
            scrape(client), "covidhub_http_requests_total", route=route, method="GET", status="200"
        )
        or 0
    )
    assert client.get("/portal/districts/288/").status_code == 200
    # A code no number in the exposition can contain (a timestamp's digits once held
    # "77777", which made the check below fail by chance).
    assert client.get("/portal/districts/nowhere-qx/").status_code == 404
    text = scrape(client)
    assert (
        sample(text, "covidhub_http_requests_total", route=route, method="GET", status="200")
        == before + 1
    )
    assert (
        sample(text, "covidhub_http_requests_total", route=route, method="GET", status="404") >= 1
    )
    assert (
        sample(text, "covidhub_http_request_duration_seconds_count", route=route, method="GET") >= 2
    )
    assert "nowhere-qx" not in text and "/portal/districts/288/" not in text
    client.get("/no-such-page/")
    assert (
        sample(
            scrape(client),
            "covidhub_http_requests_total",
            route="unmatched",
            method="GET",
            status="404",
        )
        >= 1
    )


def test_queue_depths_and_the_workers_lag(client, make_citizen):
    from django_tasks_db.models import DBTaskResult, get_date_max

    from covidhub.certificates.models import PendingIssue
    from covidhub.notifications.models import Message

    text = scrape(client)
    for queue in ("tasks_due", "messages", "certificates_pending"):
        assert sample(text, "covidhub_queue_depth", queue=queue) == 0
        assert sample(text, "covidhub_queue_measure_up", queue=queue) == 1
    citizen = make_citizen()
    Message.objects.create(channel=Message.Channel.SMS, user=citizen, to="+84912345678", body="x")
    PendingIssue.objects.create(source_type="dose", source_pk=1, queued_at=timezone.now())
    task = DBTaskResult.objects.create(
        args_kwargs={"args": [], "kwargs": {}},
        task_path="covidhub.core.tasks.housekeeping",
        backend_name="default",
        run_after=get_date_max(),
        exception_class_path="",
        traceback="",
    )
    DBTaskResult.objects.filter(pk=task.pk).update(
        enqueued_at=timezone.now() - datetime.timedelta(seconds=300)
    )
    text = scrape(client)
    assert sample(text, "covidhub_queue_depth", queue="messages") == 1
    assert sample(text, "covidhub_queue_depth", queue="certificates_pending") == 1
    assert sample(text, "covidhub_queue_depth", queue="tasks_due") == 1
    assert sample(text, "covidhub_queue_oldest_seconds", queue="tasks_due") >= 300
    # The same lag makes /readyz say the platform is degraded.
    ready = client.get("/readyz").json()
    assert ready["status"] == "degraded"
    assert ready["worker"]["status"] == "lagging"
    assert ready["worker"]["due"] == 1
    assert ready["worker"]["oldest_due_seconds"] >= 300


def test_a_queue_that_cannot_be_measured_does_not_break_the_scrape(client):
    from covidhub.core import monitoring

    def broken() -> monitoring.QueueDepth:
        raise RuntimeError("no such table")

    monitoring.register_queue("exchange_outbox", broken)
    try:
        text = scrape(client)
    finally:
        monitoring._queues.pop("exchange_outbox")
    assert sample(text, "covidhub_queue_measure_up", queue="exchange_outbox") == 0
    assert sample(text, "covidhub_queue_depth", queue="messages") == 0


def test_rate_limit_refusals_are_counted_by_code(client):
    def refusals(text: str) -> float:
        return sample(text, "covidhub_rate_limit_refusals_total", code="rate_limited") or 0

    before = refusals(scrape(client))
    statuses = [
        client.post(
            "/api/v1/testing/lookup",
            {"code": "ZZZZ-ZZZZ", "birth": "15/03/1985"},
            content_type="application/json",
        ).status_code
        for _ in range(12)
    ]
    refused = statuses.count(429)
    assert refused >= 1
    assert refusals(scrape(client)) == before + refused


def test_the_standbys_lag_is_shown(client, settings, tmp_path):
    from covidhub.core.replicas import health
    from covidhub.core.tests.databases import database_alias, like_default

    settings.DATABASE_REPLICAS = ["replica_1"]
    health.forget()
    with database_alias("replica_1", like_default()):
        text = scrape(client)
        ready = client.get("/readyz").json()
    assert sample(text, "covidhub_replica_usable", replica="replica_1") == 1
    assert sample(text, "covidhub_replica_lag_seconds", replica="replica_1") == 0
    assert ready["replicas"] == {"replica_1": {"status": "ok", "lag_seconds": 0.0}}
    assert ready["status"] == "ok"
