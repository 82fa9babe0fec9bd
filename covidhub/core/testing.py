"""Helpers for tests of code that queues tasks."""

from __future__ import annotations

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
