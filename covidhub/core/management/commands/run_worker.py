from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections
from django_tasks_db.management.commands.db_worker import Worker

from covidhub.core.schedule import enqueue_due
from covidhub.core.workers import beat_forever, run_surviving_the_database

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the task worker (all queues) with the scheduler of periodic jobs."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=0.5)
        parser.add_argument("--no-scheduler", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        worker_id = f"{os.uname().nodename}-{os.getpid()}"
        # The heartbeat, and the tasks of dead workers given back (covidhub.core.workers).
        threading.Thread(
            target=beat_forever, args=(worker_id, threading.Event()), daemon=True
        ).start()
        if not options["no_scheduler"]:
            threading.Thread(target=self._schedule_forever, daemon=True).start()
        worker = Worker(
            queue_names=["*"],
            interval=options["interval"],
            batch=False,
            backend_name="default",
            startup_delay=True,
            max_tasks=None,
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        worker.configure_signals()
        run_surviving_the_database(worker, worker_id)

    def _schedule_forever(self) -> None:
        while True:
            try:
                close_old_connections()
                enqueue_due()
            except Exception:
                logger.exception("scheduler pass failed")
            time.sleep(15)
