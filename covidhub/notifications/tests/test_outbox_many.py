"""Queueing many messages at once: the same outbox rows as one by one, fewer tasks."""

from __future__ import annotations

from typing import Any

import pytest

from covidhub.core.testing import run_queued_tasks
from covidhub.notifications import services
from covidhub.notifications.models import Message
from covidhub.notifications.services import OutboxItem, message_queue, message_queue_many

pytestmark = pytest.mark.django_db


def test_many_queues_each_key_once_and_delivers_in_batches(
    citizen: Any, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    monkeypatch.setattr(services, "DELIVER_BATCH", 2)
    with django_capture_on_commit_callbacks(execute=True):
        message_queue(channel="sms", to="+84912000000", body="before", dedupe_key="k:0")
    DBTaskResult.objects.all().delete()
    items = [
        OutboxItem(channel="sms", to="+84912000000", body="again", dedupe_key="k:0"),
        *(
            OutboxItem(channel="sms", to=f"+8491200000{n}", body=f"sms {n}", dedupe_key=f"k:{n}")
            for n in range(1, 6)
        ),
        OutboxItem(channel="sms", to="+84912000001", body="repeat", dedupe_key="k:1"),
        OutboxItem(channel="sms", to="+84912000009", body="no key"),
        OutboxItem(
            channel="inapp",
            user=citizen,
            subject="s" * 300,
            body="in app",
            link="/x",
            dedupe_key="i",
        ),
        OutboxItem(channel="email", to="an@example.org", subject="Chủ đề", body="thư"),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        message_queue_many(items)
    assert Message.objects.count() == 1 + 5 + 1 + 1 + 1
    assert Message.objects.get(dedupe_key="k:0").body == "before"
    assert Message.objects.get(dedupe_key="k:1").body == "sms 1"
    inapp = Message.objects.get(channel="inapp")
    assert inapp.user == citizen and inapp.status == "sent" and inapp.sent_at is not None
    assert len(inapp.subject) == 200 and inapp.link == "/x"
    # 7 pending messages (5 keyed SMS, 1 unkeyed SMS, 1 e-mail) in tasks of 2.
    tasks = DBTaskResult.objects.filter(task_path__endswith="message_deliver_many")
    assert sorted(len(t.args_kwargs["args"][0]) for t in tasks) == [1, 2, 2, 2]
    run_queued_tasks()
    assert not Message.objects.filter(status="pending").exclude(dedupe_key="k:0").exists()
    with django_capture_on_commit_callbacks(execute=True):
        message_queue_many(items)  # everything keyed is there: only the unkeyed again
    assert Message.objects.count() == 9 + 2


def test_one_delivery_error_does_not_hold_back_the_others(
    django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        message_queue_many(
            [OutboxItem(channel="sms", to=f"+8491200000{n}", body=f"sms {n}") for n in range(3)]
        )
    from covidhub.notifications.channels import send as real_send

    def send(message: Message) -> str:
        if message.body == "sms 1":
            raise RuntimeError("gateway library bug")
        return real_send(message)

    monkeypatch.setattr(services, "send", send)
    ids = list(Message.objects.order_by("id").values_list("pk", flat=True))
    outcomes = services.message_deliver_many(message_ids=ids)
    assert outcomes == {"held": 2, "error": 1}
    statuses = dict(Message.objects.values_list("body", "status"))
    assert statuses == {"sms 0": "held", "sms 1": "sending", "sms 2": "held"}


def test_a_key_queued_meanwhile_falls_back_to_one_by_one(
    django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        message_queue(channel="sms", to="+84912000000", body="first", dedupe_key="k")
    # As if another writer queued "k" between the look-up and the insert.
    real_filter = Message.objects.filter
    calls = {"n": 0}

    def filter_(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1 and "dedupe_key__in" in kwargs:
            return Message.objects.none()
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(Message.objects, "filter", filter_)
    with django_capture_on_commit_callbacks(execute=True):
        message_queue_many(
            [
                OutboxItem(channel="sms", to="+84912000000", body="second", dedupe_key="k"),
                OutboxItem(channel="sms", to="+84912000001", body="other", dedupe_key="o"),
            ]
        )
    assert sorted(Message.objects.values_list("body", flat=True)) == ["first", "other"]
