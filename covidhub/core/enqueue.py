"""One queued task for a stream of events: the kick of a transactional outbox.

A capability that writes its pending work as rows in the transaction that caused it (an
outbox) needs a worker to drain them, but not one task per row: a task row is an insert
and a commit in the request, then a claim, a run and a result in the worker. `kick`
enqueues the draining task only when no kick of the same key is outstanding, using the
shared cache (Redis in production, the database cache otherwise) as the flag:

- the kick sets the flag (`cache.add`, atomic) and enqueues the task only if it set it;
- the task calls `kick_taken` before it reads the outbox, so that rows committed while it
  runs kick a new task rather than wait;
- the flag expires after `FLAG_SECONDS`, so a task lost before it ran (a worker killed)
  holds nothing up for longer; a periodic job that drains the same outbox catches the rows
  of a kick that never reached the queue.

The flag only saves tasks: correctness rests on the outbox rows, which the task drains
until none is left.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache

logger = logging.getLogger(__name__)

FLAG_SECONDS = 30


def _flag(key: str) -> str:
    return f"kick:{key}"


def kick(task: Any, *, key: str) -> bool:
    """Enqueue `task` (no arguments) unless a kick of `key` is outstanding; True when it
    was enqueued. A cache that cannot be reached enqueues (a task too many is harmless)."""
    try:
        fresh = cache.add(_flag(key), 1, timeout=FLAG_SECONDS)
    except Exception:  # the cache is an optimisation here: fall back to a task per kick
        logger.warning("kick %s: cache unavailable, enqueuing", key, exc_info=True)
        fresh = True
    if fresh:
        task.enqueue()
    return bool(fresh)


def kick_taken(key: str) -> None:
    """The task kicked for `key` has started: the next kick enqueues a new one."""
    try:
        cache.delete(_flag(key))
    except Exception:
        logger.warning("kick %s: cache unavailable", key, exc_info=True)
