"""Periodic jobs for the task worker: apps register them in `AppConfig.ready()`.

The scheduler loop (run beside the worker by `manage.py run_worker`) enqueues each job once
per period; a unique (name, slot) row makes that hold with several schedulers running.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: int
    task: Any


_jobs: dict[str, Job] = {}


def register(name: str, *, every_seconds: int, task: Any) -> None:
    _jobs[name] = Job(name=name, every_seconds=every_seconds, task=task)


def jobs() -> list[Job]:
    return sorted(_jobs.values(), key=lambda j: j.name)


def enqueue_due(now: float | None = None) -> list[str]:
    """Enqueue every job whose current slot is not yet claimed; return their names."""
    from covidhub.core.models import ScheduledRun

    now = time.time() if now is None else now
    enqueued = []
    for job in jobs():
        slot = int(now // job.every_seconds)
        try:
            with transaction.atomic():
                ScheduledRun.objects.create(name=job.name, slot=slot)
                job.task.enqueue()
        except IntegrityError:
            continue
        enqueued.append(job.name)
    return enqueued
