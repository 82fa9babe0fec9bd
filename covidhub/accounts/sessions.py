"""Sessions read from Redis (written through to the database), with this process's own
copy for AUTH_LOCAL_CACHE_SECONDS: every request of a sampling team or a vaccination site
reads its session, and the Redis read and decoding were a twentieth of a scan's CPU.

A session saved, flushed or deleted in this process is replaced or forgotten here at once;
another process's copy lapses within AUTH_LOCAL_CACHE_SECONDS (a sign-out takes effect
there within that time, as a revoked bearer token does). Each load returns its own dict.
The idle and absolute lifetimes (`SessionLifetimeMiddleware`) are checked on every request
from the session's own timestamps, whichever copy it came from.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore

_here: dict[str, tuple[float, dict[str, Any]]] = {}
_clock = time.monotonic


def sessions_here_clear() -> None:
    _here.clear()


class SessionStore(CachedDBStore):
    def load(self) -> dict[str, Any]:
        key = self.session_key
        ttl = settings.AUTH_LOCAL_CACHE_SECONDS
        if ttl and key:
            hit = _here.get(key)
            if hit is not None and hit[0] > _clock():
                return dict(hit[1])
        data: dict[str, Any] = super().load()
        if ttl and key and data and self.session_key == key:
            self._keep(key, data, ttl)
        return data

    def save(self, must_create: bool = False) -> None:
        super().save(must_create)
        key, ttl = self.session_key, settings.AUTH_LOCAL_CACHE_SECONDS
        if key:
            _here.pop(key, None)
            if ttl:
                self._keep(key, dict(self.items()), ttl)

    def delete(self, session_key: str | None = None) -> None:
        forget = session_key or self.session_key
        super().delete(session_key)
        if forget:
            _here.pop(forget, None)

    @staticmethod
    def _keep(key: str, data: dict[str, Any], ttl: float) -> None:
        if len(_here) > 100_000:
            _here.clear()
        _here[key] = (_clock() + ttl, dict(data))
