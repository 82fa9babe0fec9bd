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
from django.http import HttpRequest

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

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None and is_service_account(user):
            # A machine client's account acts only through the client's OAuth tokens: a
            # password given to it (by mistake, or by a rogue administrator) signs nobody in.
            return None
        return user


def is_service_account(user: Any) -> bool:
    """The account a machine client acts as (covidhub.clients.models.MachineClient.account),
    told by its relation so that accounts need not import clients."""
    from covidhub.accounts.models import User

    return User.objects.filter(pk=user.pk, machine_client__isnull=False).exists()
