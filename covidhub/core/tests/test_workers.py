"""A worker killed mid-task: its task goes back to the queue and runs again; a message it
was sending is sent again by the sweep (under the same UUID, which the gateway drops)."""

from __future__ import annotations

import datetime

import pytest
from django.tasks.base import TaskResultStatus
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from covidhub.core.tasks import housekeeping
from covidhub.core.testing import run_queued_tasks
from covidhub.core.workers import tasks_orphaned_requeue, worker_beat
from covidhub.notifications.models import Message
from covidhub.notifications.services import message_sweep

pytestmark = pytest.mark.django_db


def _claimed(worker_id: str, *, seconds_ago: float) -> DBTaskResult:
    result = housekeeping.enqueue()
    task = DBTaskResult.objects.get(pk=result.id)
    task.claim(worker_id)
    DBTaskResult.objects.filter(pk=task.pk).update(
        started_at=timezone.now() - datetime.timedelta(seconds=seconds_ago)
    )
    return task


@override_settings(WORKER_DEAD_SECONDS=60)
def test_the_task_of_a_silent_worker_goes_back_to_the_queue_and_runs():
    dead = _claimed("host-1", seconds_ago=120)
    worker_beat("host-1")
    from covidhub.core.models import WorkerBeat

    WorkerBeat.objects.filter(worker_id="host-1").update(
        beat_at=timezone.now() - datetime.timedelta(seconds=90)
    )

    assert tasks_orphaned_requeue() == 1

    dead.refresh_from_db()
    assert dead.status == TaskResultStatus.READY
    assert dead.started_at is None
    assert run_queued_tasks() == 1
    dead.refresh_from_db()
    assert dead.status == TaskResultStatus.SUCCESSFUL
    assert dead.worker_ids == ["host-1", "test"]  # run by a second worker


@override_settings(WORKER_DEAD_SECONDS=60)
def test_a_task_of_a_beating_worker_or_just_started_stays_running():
    long_task = _claimed("host-2", seconds_ago=600)  # a long task on a live worker
    worker_beat("host-2")
    fresh = _claimed("host-3", seconds_ago=5)  # no beat yet: just started

    assert tasks_orphaned_requeue() == 0

    for task in (long_task, fresh):
        task.refresh_from_db()
        assert task.status == TaskResultStatus.RUNNING


@override_settings(NOTIFY_SENDING_STUCK_SECONDS=20)
def test_a_message_left_sending_by_a_dead_worker_is_sent_again():
    message = Message.objects.create(channel="sms", to="+84912000001", body="x")
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.SENDING,
        attempts=1,
        updated_at=timezone.now() - datetime.timedelta(seconds=30),
    )
    recent = Message.objects.create(channel="sms", to="+84912000002", body="y")
    Message.objects.filter(pk=recent.pk).update(status=Message.Status.SENDING, attempts=1)

    message_sweep()

    message.refresh_from_db()
    recent.refresh_from_db()
    assert message.status == Message.Status.PENDING  # re-enqueued, the same UUID
    assert recent.status == Message.Status.SENDING  # may still be on its way


def test_a_worker_survives_the_database_going_away_and_gives_its_task_back():
    from django.db import OperationalError

    from covidhub.core.workers import run_surviving_the_database

    stranded = _claimed("host-4", seconds_ago=1)  # its outcome could not be recorded
    other = _claimed("host-5", seconds_ago=1)  # another live worker's: left alone

    class FlakyWorker:
        running = True
        runs = 0

        def run(self) -> None:
            self.runs += 1
            if self.runs == 1:
                raise OperationalError("the connection is closed")

    worker = FlakyWorker()
    # (Reconnecting would close the test's transaction: the worker's own does.)
    run_surviving_the_database(worker, "host-4", pause=0, reconnect=lambda: None)

    assert worker.runs == 2  # it went on instead of the process dying
    stranded.refresh_from_db()
    other.refresh_from_db()
    assert stranded.status == TaskResultStatus.READY
    assert other.status == TaskResultStatus.RUNNING
