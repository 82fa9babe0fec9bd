"""Workers that die mid-task: their tasks go back to the queue.

django-tasks-db claims a task by marking it RUNNING under the worker's id; a worker killed
while it runs one (SIGKILL, its machine lost) leaves it RUNNING for ever. So every worker
records a heartbeat (`WorkerBeat`) every WORKER_BEAT_SECONDS from a thread of its own, and
on the same beat gives back to the queue (READY) each task that has been RUNNING for over
WORKER_DEAD_SECONDS under a worker that has not beaten for that long. Such a task runs
again, which our tasks are written to survive: a notification is claimed (pending →
sending) before it is sent and the sweep sends one left "sending" again under the same
message UUID, which the gateway de-duplicates; an outbox drain runs in a transaction that
the dead worker's connection rolled back.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, transaction
from django.tasks.base import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from covidhub.core.models import WorkerBeat

logger = logging.getLogger(__name__)


def worker_beat(worker_id: str) -> None:
    WorkerBeat.objects.update_or_create(worker_id=worker_id, defaults={"beat_at": timezone.now()})


def tasks_orphaned_requeue(*, now: datetime.datetime | None = None) -> int:
    """Put back in the queue the tasks of workers that stopped beating; how many."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.WORKER_DEAD_SECONDS)
    alive = set(WorkerBeat.objects.filter(beat_at__gte=cutoff).values_list("worker_id", flat=True))
    requeued = 0
    with transaction.atomic():
        running = DBTaskResult.objects.select_for_update(skip_locked=True).filter(
            status=TaskResultStatus.RUNNING, started_at__lt=cutoff
        )
        for task in running:
            worker = task.worker_ids[-1] if task.worker_ids else ""
            if worker in alive:
                continue
            task.status = TaskResultStatus.READY
            task.started_at = None
            task.save(update_fields=["status", "started_at"])
            requeued += 1
            logger.warning(
                "task %s (%s) given back to the queue: its worker %s stopped beating",
                task.pk,
                task.task_path,
                worker or "?",
            )
    WorkerBeat.objects.filter(beat_at__lt=now - datetime.timedelta(days=1)).delete()
    return requeued


def tasks_of_worker_requeue(worker_id: str) -> int:
    """Give back the tasks left RUNNING under this (live) worker: after the database went
    away mid-task, the task's outcome could not be recorded, and the worker goes on."""
    with transaction.atomic():
        running = DBTaskResult.objects.select_for_update(skip_locked=True).filter(
            status=TaskResultStatus.RUNNING
        )
        mine = [t for t in running if t.worker_ids and t.worker_ids[-1] == worker_id]
        for task in mine:
            task.status = TaskResultStatus.READY
            task.started_at = None
            task.save(update_fields=["status", "started_at"])
            logger.warning("task %s (%s) given back to the queue", task.pk, task.task_path)
    return len(mine)


def run_surviving_the_database(
    worker: Any,
    worker_id: str,
    *,
    pause: float = 2.0,
    reconnect: Callable[[], None] = close_old_connections,
) -> None:
    """`worker.run()`, again after the database went away (a failover, a restart) instead of
    the process dying with it; the task it was running goes back to the queue."""
    while True:
        try:
            worker.run()
            return  # stopped by a signal
        except (OperationalError, InterfaceError):
            logger.warning("the database went away: the worker waits for it", exc_info=True)
        while True:
            time.sleep(pause)
            try:
                reconnect()
                tasks_of_worker_requeue(worker_id)
                break
            except (OperationalError, InterfaceError):
                continue
        if not worker.running:
            return


def beat_forever(worker_id: str, stop: threading.Event) -> None:
    """The heartbeat thread of `run_worker`."""
    while not stop.is_set():
        try:
            close_old_connections()
            worker_beat(worker_id)
            tasks_orphaned_requeue()
        except Exception:
            logger.exception("worker heartbeat failed")
        stop.wait(settings.WORKER_BEAT_SECONDS)
