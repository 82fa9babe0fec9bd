"""The kick of an outbox: one queued task however many commits kick it, a new one once the
task has started, and a task anyway when the cache cannot be reached."""

from typing import Any

import pytest
from django.core.cache import cache

from covidhub.core import enqueue


class _Task:
    def __init__(self) -> None:
        self.enqueued = 0

    def enqueue(self) -> None:
        self.enqueued += 1


@pytest.fixture(autouse=True)
def _clear_cache() -> Any:
    cache.clear()
    yield
    cache.clear()


def test_a_stream_of_kicks_queues_one_task_until_it_starts() -> None:
    task = _Task()
    assert enqueue.kick(task, key="outbox") is True
    assert [enqueue.kick(task, key="outbox") for _ in range(50)] == [False] * 50
    assert task.enqueued == 1
    # Another outbox has its own flag.
    other = _Task()
    assert enqueue.kick(other, key="another") is True
    # The task started: the next commit kicks a new one.
    enqueue.kick_taken("outbox")
    assert enqueue.kick(task, key="outbox") is True
    assert task.enqueued == 2


class _RecordingCache:
    def __init__(self, broken: bool = False) -> None:
        self.broken = broken
        self.added: list[tuple[str, Any]] = []

    def add(self, key: str, value: Any, timeout: Any = None) -> bool:
        if self.broken:
            raise ConnectionError("redis is down")
        self.added.append((key, timeout))
        return True

    def delete(self, key: str) -> None:
        if self.broken:
            raise ConnectionError("redis is down")


def test_the_flag_expires_so_a_lost_task_holds_nothing_up(monkeypatch: Any) -> None:
    recording = _RecordingCache()
    monkeypatch.setattr(enqueue, "cache", recording)
    enqueue.kick(_Task(), key="outbox")
    assert recording.added == [("kick:outbox", enqueue.FLAG_SECONDS)]


def test_an_unreachable_cache_enqueues_every_time(monkeypatch: Any) -> None:
    monkeypatch.setattr(enqueue, "cache", _RecordingCache(broken=True))
    task = _Task()
    assert enqueue.kick(task, key="outbox") is True
    assert enqueue.kick(task, key="outbox") is True
    enqueue.kick_taken("outbox")  # logs, does not raise
    assert task.enqueued == 2
