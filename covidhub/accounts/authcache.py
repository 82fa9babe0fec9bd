"""Two-level cache for what every signed-in request needs before its view runs — the
session's account, its verified TOTP device, a staff member's scope: this process's own
copy for AUTH_LOCAL_CACHE_SECONDS (a few seconds), then Redis for AUTH_CACHE_SECONDS,
then the database.

Saving or deleting the account, device or role clears both levels in this process and
Redis for every process (covidhub.accounts.signals); another process's own copy lapses
within AUTH_LOCAL_CACHE_SECONDS. Each request gets its own copy of a cached object, since
middleware sets attributes on the account (otp_device, the scope).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

_here: dict[str, tuple[float, Any]] = {}


def auth_cached(key: str, load: Callable[[], Any], *, copy_value: bool = True) -> Any:
    """The value under `key` from this process, Redis or `load()` (None is not cached)."""
    ttl = settings.AUTH_CACHE_SECONDS
    if not ttl:
        return load()
    local_ttl = settings.AUTH_LOCAL_CACHE_SECONDS
    value = None
    if local_ttl:
        hit = _here.get(key)
        if hit is not None and hit[0] > time.monotonic():
            value = hit[1]
    if value is None:
        value = cache.get(key)
        if value is None:
            value = load()
            if value is None:
                return None
            cache.set(key, value, ttl)
        if local_ttl:
            if len(_here) > 100_000:
                _here.clear()
            _here[key] = (time.monotonic() + local_ttl, value)
    return copy.copy(value) if copy_value else value


def auth_cache_forget(keys: Iterable[str]) -> None:
    """Forget entries here and in Redis, now and again after the transaction commits (so
    that a request racing the change cannot put the old state back)."""
    keys = list(keys)
    for key in keys:
        _here.pop(key, None)
    if not keys or not settings.AUTH_CACHE_SECONDS:
        return
    cache.delete_many(keys)

    def again() -> None:
        for key in keys:
            _here.pop(key, None)
        cache.delete_many(keys)

    transaction.on_commit(again)


def auth_cache_clear_here() -> None:
    """This process's copies (tests call it between tests)."""
    _here.clear()
