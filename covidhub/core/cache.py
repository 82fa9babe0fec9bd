"""Django's Redis cache, with one client per connection pool and the database behind it.

One client: Django's RedisCacheClient builds a new `redis.Redis` for every cache operation,
and each build fills a table of about 170 response callbacks: a third of a millisecond of
CPU on every cached request (sessions, bearer tokens, rate limits). A Redis client is safe
to share between threads (it takes a connection from the pool per command), so keep one.

The database behind it: everything kept in Redis is a cache or a short-lived counter, so
when Redis cannot be reached the platform serves from the database, slower but correct
(`ResilientRedisCache`). Each operation that fails for want of Redis is done on the
fallback cache (a `DatabaseCache`), and for `RETRY_SECONDS` no operation waits for Redis
again; the outage is logged once per process, and /readyz reports it.

Two things keep an outage from bringing back stale state. Entering it, the process empties
the fallback (entries left from an earlier outage); leaving it, the process deletes every
key under this cache's prefix in Redis before it reads from Redis again, since a sign-out,
a revoked token or a changed role during the outage could not delete them there. Counters
(rate limits) restart then, as after a Redis restart.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        base: Any = self  # django-stubs does not describe RedisCacheClient's internals
        index = base._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = base._client(connection_pool=base._get_connection_pool(write))
            self._clients[index] = client
        return client


class SharedClientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient


@dataclass
class _Breaker:
    """One per Redis location and process (Django makes a cache object per thread)."""

    degraded: bool = False
    retry_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


_breakers: dict[str, _Breaker] = {}
_breakers_lock = threading.Lock()


def _breaker_for(location: str) -> _Breaker:
    with _breakers_lock:
        return _breakers.setdefault(location, _Breaker())


class ResilientRedisCache(SharedClientRedisCache):
    """Redis first, the database when Redis cannot be reached (see the module docstring).

    OPTIONS beyond redis-py's: FALLBACK (a cache alias, "database"), RETRY_SECONDS (5).
    Socket timeouts default to half a second so that a Redis that hangs costs a request
    that long once per RETRY_SECONDS, not every request.
    """

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS", {}))
        self.fallback_alias = options.pop("FALLBACK", "database")
        self.retry_seconds = float(options.pop("RETRY_SECONDS", 5))
        options.setdefault("socket_connect_timeout", 0.5)
        options.setdefault("socket_timeout", 0.5)
        super().__init__(server, {**params, "OPTIONS": options})
        self._breaker = _breaker_for(server if isinstance(server, str) else ",".join(server))

    @property
    def degraded(self) -> bool:
        return self._breaker.degraded

    @property
    def _fallback(self) -> BaseCache:
        return caches[self.fallback_alias]

    def _redis_usable(self) -> bool:
        breaker = self._breaker
        if not breaker.degraded:
            return True
        if time.monotonic() < breaker.retry_at:
            return False
        return self._recover()

    def _trip(self, error: Exception) -> None:
        breaker = self._breaker
        with breaker.lock:
            breaker.retry_at = time.monotonic() + self.retry_seconds
            if breaker.degraded:
                return
            breaker.degraded = True
        logger.warning(
            "Redis cannot be reached (%s): serving from the database, retrying every %s s",
            type(error).__name__,
            self.retry_seconds,
        )
        try:
            self._fallback.clear()  # nothing from an earlier outage may be read now
        except Exception:
            logger.exception("the fallback cache could not be emptied")

    def _recover(self) -> bool:
        breaker = self._breaker
        with breaker.lock:
            if not breaker.degraded:
                return True
            try:
                dropped = self._forget_everything()
            except REDIS_DOWN:
                breaker.retry_at = time.monotonic() + self.retry_seconds
                return False
            breaker.degraded = False
        logger.warning("Redis answers again: %s entries from before the outage dropped", dropped)
        return True

    def _forget_everything(self) -> int:
        """Delete this cache's keys in Redis (what this process could not delete)."""
        client = self._cache.get_client(None, write=True)
        dropped, batch = 0, []
        for key in client.scan_iter(match=f"{self.key_prefix}:*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                dropped += client.unlink(*batch)
                batch = []
        if batch:
            dropped += client.unlink(*batch)
        return dropped

    def probe(self) -> bool:
        """Whether Redis answers now (for /readyz): a PING that also ends or starts an outage."""
        try:
            self._cache.get_client(None, write=True).ping()
        except REDIS_DOWN as error:
            self._trip(error)
            return False
        return self._recover()

    def _run(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if self._redis_usable():
            try:
                return getattr(super(), name)(*args, **kwargs)
            except REDIS_DOWN as error:
                self._trip(error)
        return getattr(self._fallback, name)(*args, **kwargs)

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._run("add", key, value, timeout, version)

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return self._run("get", key, default, version)

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        self._run("set", key, value, timeout, version)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._run("touch", key, timeout, version)

    def delete(self, key: Any, version: Any = None) -> Any:
        return self._run("delete", key, version)

    def get_many(self, keys: Any, version: Any = None) -> Any:
        return self._run("get_many", keys, version)

    def has_key(self, key: Any, version: Any = None) -> Any:
        return self._run("has_key", key, version)

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> Any:
        return self._run("incr", key, delta, version)

    def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._run("set_many", data, timeout, version)

    def delete_many(self, keys: Any, version: Any = None) -> Any:
        return self._run("delete_many", keys, version)

    def clear(self) -> Any:
        return self._run("clear")


def cache_readiness() -> str:
    """ "ok", or "unavailable" when the shared cache (Redis) cannot be reached."""
    backend = caches["default"]
    if isinstance(backend, ResilientRedisCache):
        return "ok" if backend.probe() else "unavailable"
    return "ok"
