"""Per-client call limits: calls per minute and per day, counted in the shared cache
(Redis; the database when Redis is down, covidhub.core.cache) with the same add-then-incr
counters as the staff sign-in lockout. Fixed windows: a minute of the clock, a day of the
province's calendar; a refused call says when its window ends (Retry-After)."""

from __future__ import annotations

import datetime
import math
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.utils import timezone


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0
    limit: int = 0
    remaining: int = 0


def _count(key: str, window: int) -> int:
    cache.add(key, 0, window + 5)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between the two calls
        cache.set(key, 1, window + 5)
        return 1


def counter_charge(*, key: str, limit: int, window_seconds: int, now: float) -> Verdict:
    """Count one event in the current fixed window of `window_seconds`."""
    window_index = int(now // window_seconds)
    count = _count(f"{key}:{window_index}", window_seconds)
    retry_after = max(1, math.ceil((window_index + 1) * window_seconds - now))
    return Verdict(count <= limit, retry_after, limit, max(0, limit - count))


def client_call_charge(*, client_pk: int, per_minute: int, per_day: int) -> Verdict:
    """Charge one call to a client's minute and day; the tighter refusal wins."""
    now = time.time()
    minute = counter_charge(
        key=f"clients:rate:{client_pk}", limit=per_minute, window_seconds=60, now=now
    )
    if not minute.allowed:
        return minute
    local = timezone.localtime()
    midnight = (local + datetime.timedelta(days=1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    count = _count(f"clients:quota:{client_pk}:{local.date().isoformat()}", 86_400)
    if count > per_day:
        return Verdict(False, max(1, math.ceil((midnight - local).total_seconds())), per_day, 0)
    return minute


def failure_count(key: str, window_seconds: int) -> int:
    value = cache.get(key)
    return int(value or 0)


def failure_record(key: str, window_seconds: int) -> None:
    _count(key, window_seconds)
