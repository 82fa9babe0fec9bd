"""Staff and citizens signed in on the web: the account of a session comes from the shared
cache (Redis) instead of a query on every request.

Saving or deleting an account clears its entry (covidhub.accounts.signals), so a changed
password, a deactivation or a new name takes effect on the next request; the session's
password hash is still checked by Django on every request against the cached account.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache


def user_cache_key(pk: Any) -> str:
    return f"accounts:user:{pk}"


def user_cache_clear(pk: Any) -> None:
    if settings.AUTH_CACHE_SECONDS:
        from django.db import transaction

        key = user_cache_key(pk)
        cache.delete(key)
        transaction.on_commit(lambda: cache.delete(key))


class CachedModelBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        ttl = settings.AUTH_CACHE_SECONDS
        if not ttl:
            return super().get_user(user_id)
        key = user_cache_key(user_id)
        user = cache.get(key)
        if user is None:
            user = super().get_user(user_id)
            if user is not None:
                cache.set(key, user, ttl)
        return user
