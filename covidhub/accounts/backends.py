"""Staff and citizens signed in on the web: the account of a session comes from the auth
cache (covidhub.accounts.authcache: this process, then Redis) instead of a query on every
request.

Saving or deleting an account clears its entry (covidhub.accounts.signals), so a changed
password, a deactivation or a new name takes effect on the next request here and within
AUTH_LOCAL_CACHE_SECONDS in other processes; the session's
password hash is still checked by Django on every request against the cached account.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from covidhub.accounts.authcache import auth_cache_forget, auth_cached


def user_cache_key(pk: Any) -> str:
    return f"accounts:user:{pk}"


def user_cache_clear(pk: Any) -> None:
    auth_cache_forget([user_cache_key(pk)])


class CachedModelBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        return auth_cached(
            user_cache_key(user_id), lambda: super(CachedModelBackend, self).get_user(user_id)
        )
