"""Sessions whose keys are stored hashed, read from Redis (written through to the database), with this process's own
copy for AUTH_LOCAL_CACHE_SECONDS: every request of a sampling team or a vaccination site
reads its session, and the Redis read and decoding were a twentieth of a scan's CPU.

A session saved, flushed or deleted in this process is replaced or forgotten here at once;
another process's copy lapses within AUTH_LOCAL_CACHE_SECONDS (a sign-out takes effect
there within that time, as a revoked bearer token does). Each load returns its own dict.
The idle and absolute lifetimes (`SessionLifetimeMiddleware`) are checked on every request
from the session's own timestamps, whichever copy it came from.

The database row (`django_session.session_key`) and the Redis entry are named by a keyed
hash of the session key (`covidhub.core.sealing.secret_digest`), never by the key itself:
a database copy or a look at Redis gives no cookie to present. `HashedKeyStore` (also the
engine without Redis, `covidhub.accounts.sessions_db`) is where that rule lives.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.contrib.sessions.models import Session
from django.core.exceptions import SuspiciousOperation
from django.utils import timezone

from covidhub.core.sealing import secret_digest

PURPOSE = "covidhub.accounts.session-key"

_here: dict[str, tuple[float, dict[str, Any]]] = {}
_clock = time.monotonic


def sessions_here_clear() -> None:
    _here.clear()


def session_key_stored(session_key: str) -> str:
    """What the database and the cache name a session by: a keyed hash of its key, as long
    as django_session's key column (40)."""
    return secret_digest(session_key, purpose=PURPOSE, length=40)


class HashedKeyStore(DBStore):
    """Django's database sessions, with every row looked up, written and deleted by the
    hash of the session key (the cookie keeps the key itself)."""

    def _row(self) -> Session | None:
        key = self.session_key
        if not key:
            return None
        try:
            return Session.objects.get(
                session_key=session_key_stored(key), expire_date__gt=timezone.now()
            )
        except (Session.DoesNotExist, SuspiciousOperation):
            return None

    def _get_session_from_db(self) -> Session | None:
        row = self._row()
        if row is None:
            self._session_key = None
        return row

    async def _aget_session_from_db(self) -> Session | None:
        from asgiref.sync import sync_to_async

        return await sync_to_async(self._get_session_from_db)()

    def exists(self, session_key: str) -> bool:
        return Session.objects.filter(session_key=session_key_stored(session_key)).exists()

    async def aexists(self, session_key: str) -> bool:
        return await Session.objects.filter(session_key=session_key_stored(session_key)).aexists()

    def create_model_instance(self, data: dict[str, Any]) -> Session:
        return Session(
            session_key=session_key_stored(self._get_or_create_session_key()),  # type: ignore[attr-defined]
            session_data=self.encode(data),
            expire_date=self.get_expiry_date(),
        )

    async def acreate_model_instance(self, data: dict[str, Any]) -> Session:
        return Session(
            session_key=session_key_stored(await self._aget_or_create_session_key()),  # type: ignore[attr-defined]
            session_data=self.encode(data),
            expire_date=await self.aget_expiry_date(),
        )

    def delete(self, session_key: str | None = None) -> None:
        key = session_key or self.session_key
        if not key:
            return
        Session.objects.filter(session_key=session_key_stored(key)).delete()
        self._forget(key)

    async def adelete(self, session_key: str | None = None) -> None:
        from asgiref.sync import sync_to_async

        await sync_to_async(self.delete)(session_key)

    def _forget(self, session_key: str) -> None:
        """Drop any other copy of the session (the cached store's)."""


class SessionStore(HashedKeyStore, CachedDBStore):
    cache_key_prefix = "covidhub.session:"

    @property
    def cache_key(self) -> str:
        return self.cache_key_prefix + session_key_stored(self._get_or_create_session_key())  # type: ignore[attr-defined]

    async def acache_key(self) -> str:
        key = await self._aget_or_create_session_key()  # type: ignore[attr-defined]
        return self.cache_key_prefix + session_key_stored(key)

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

    def _forget(self, session_key: str) -> None:
        self._cache.delete(self.cache_key_prefix + session_key_stored(session_key))  # type: ignore[attr-defined]
        _here.pop(session_key, None)

    @staticmethod
    def _keep(key: str, data: dict[str, Any], ttl: float) -> None:
        if len(_here) > 100_000:
            _here.clear()
        _here[key] = (_clock() + ttl, dict(data))
