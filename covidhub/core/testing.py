"""Helpers for tests of code that queues tasks."""

from __future__ import annotations

import contextlib
import http.client
import json as jsonlib
import threading
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone


def run_queued_tasks(*, include_future: bool = True, limit: int = 10_000) -> int:
    """Run queued tasks in this process, as the worker would, without closing the test's
    database connection (the worker's loop does, which breaks a test transaction)."""
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    if include_future:
        DBTaskResult.objects.filter(status="READY", run_after__gt=timezone.now()).update(
            run_after=timezone.now()
        )
    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
        excluded_queue_names=[],
    )
    ran = 0
    while ran < limit:
        with transaction.atomic():
            task = DBTaskResult.objects.ready().filter(backend_name="default").get_locked()
            if task is None:
                break
            task.claim("test")
        worker.run_task(task)
        ran += 1
    return ran


# Racing real requests against a live server.


@dataclass(frozen=True)
class HttpResult:
    status: int
    body: Any
    headers: dict[str, str]


def http_request(
    method: str,
    url: str,
    *,
    json: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
) -> HttpResult:
    """One real HTTP request (a new connection), for tests that race a live server."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(
        parts.hostname or "127.0.0.1", parts.port, timeout=timeout
    )
    body = None if json is None else jsonlib.dumps(json).encode()
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    try:
        connection.request(
            method,
            parts.path + (f"?{parts.query}" if parts.query else ""),
            body=body,
            headers=all_headers,
        )
        response = connection.getresponse()
        raw = response.read()
        content_type = response.getheader("Content-Type", "")
        parsed: Any = (
            jsonlib.loads(raw) if "json" in content_type and raw else raw.decode("utf-8", "replace")
        )
        return HttpResult(response.status, parsed, {k.lower(): v for k, v in response.getheaders()})
    finally:
        connection.close()


def race[T](calls: list[Callable[[], T]], *, workers: int = 32) -> list[T]:
    """Run the calls in parallel threads released together by a barrier."""
    barrier = threading.Barrier(min(workers, len(calls)))

    def run(call: Callable[[], T]) -> T:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, calls))
