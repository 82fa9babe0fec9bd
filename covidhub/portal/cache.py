"""Caching of the public pages, charts and open-data files.

Two layers: the shared cache (Redis in production) keyed by a *generation* number that every
rollup and every announcement change bumps, and a few seconds of process memory in front of
it so that a burst of readers costs no round trip at all. A published change therefore
reaches every reader within `PORTAL_LOCAL_CACHE_SECONDS` (5 s by default).

A response made from a value in process memory may be replayed by the portal's WSGI fast
path (`covidhub.portal.wsgi`) for as long as that entry stays current, and no longer: the
fast path adds no staleness of its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache

from covidhub.core.replicas import primary_position, replica_aliases, replica_caught_up_to

GENERATION_KEY = "portal:generation"
POSITION_KEY = "portal:generation_position"
SHARED_TTL = 24 * 3600
LOCAL_MAX_ENTRIES = 512

# key -> (expires at, value); an entry is replaced by a new tuple, never changed in place, so
# that its identity tells whether a response made from it is still current.
type LocalEntry = tuple[float, Any]
_local: dict[str, LocalEntry] = {}


def local_seconds() -> float:
    return float(getattr(settings, "PORTAL_LOCAL_CACHE_SECONDS", 5))


def generation() -> int:
    value = cache.get(GENERATION_KEY)
    if value is None:
        cache.add(GENERATION_KEY, 1, None)
        value = cache.get(GENERATION_KEY) or 1
    return int(value)


def bump() -> None:
    """Everything cached so far is stale (figures or announcements changed)."""
    # Where the primary's WAL stands after the change, first: a reader of the new
    # generation builds from a standby only once it has replayed that far.
    if replica_aliases():
        cache.set(POSITION_KEY, primary_position(), None)
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 2, None)
    _local.clear()


def clear_local() -> None:
    _local.clear()


def cached[T](key: str, build: Callable[[], T], *, timeout: int = SHARED_TTL) -> T:
    """The value for `key` in the current generation, built once."""
    return cached_entry(key, build, timeout=timeout)[0]


def is_current(key: str, entry: LocalEntry) -> bool:
    """Whether `entry` is still what process memory holds for `key`, unexpired."""
    hit = _local.get(key)
    return hit is entry and entry[0] > time.monotonic()


def cached_entry[T](
    key: str, build: Callable[[], T], *, timeout: int = SHARED_TTL
) -> tuple[T, LocalEntry | None]:
    """`cached`, with the process-memory entry the value is kept in (None when it is not
    kept: a stale value served while another process builds, or no local caching)."""
    now = time.monotonic()
    hit = _local.get(key)
    if hit is not None and hit[0] > now:
        return hit[1], hit
    full_key = f"portal:{generation()}:{key}"
    stale_key = f"portal:stale:{key}"
    value = cache.get(full_key)
    if value is None:
        # One process builds; the others serve the previous version meanwhile, so that a
        # rollup finishing under load does not make every request render at once.
        lock_key = f"{full_key}:building"
        if cache.add(lock_key, 1, 60):
            try:
                value = _build_fresh(build)
                cache.set_many({full_key: value, stale_key: value}, timeout)
            finally:
                cache.delete(lock_key)
        else:
            value = cache.get(stale_key)
            if value is None:
                value = _build_fresh(build)
            else:
                return value, None  # not kept locally
    result: T = value
    if len(_local) >= LOCAL_MAX_ENTRIES:
        _local.clear()
    seconds = local_seconds()
    if seconds <= 0:
        return result, None
    entry = (now + seconds, result)
    _local[key] = entry
    return result, entry


def _build_fresh[T](build: Callable[[], T]) -> T:
    """`build()`, reading a standby only if it has replayed the last bump: what is built is
    kept for the whole generation."""
    with replica_caught_up_to(cache.get(POSITION_KEY)):
        return build()
