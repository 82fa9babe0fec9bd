from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.middleware import OTPMiddleware

from covidhub.accounts.authcache import auth_cache_forget, auth_cached
from covidhub.accounts.backends import user_cache_clear
from covidhub.accounts.models import User

STAFF_AUTH_AT = "covidhub_staff_auth_at"
LAST_ACTIVITY = "covidhub_last_activity"
ACTIVITY_RESOLUTION_SECONDS = 30


class SessionLifetimeMiddleware:
    """Staff sessions end after 15 minutes idle and 12 hours in all; and every account's
    last activity is kept (at most once an hour) for the adoption reports."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            now = time.time()
            if getattr(user, "kind", None) == User.Kind.STAFF:
                started = request.session.get(STAFF_AUTH_AT, now)
                last = request.session.get(LAST_ACTIVITY, now)
                if (
                    now - last > settings.STAFF_IDLE_SECONDS
                    or now - started > settings.STAFF_ABSOLUTE_SECONDS
                ):
                    logout(request)
                    messages.info(request, _("Your session has ended. Please sign in again."))
                    if request.path.startswith("/api/"):
                        return self.get_response(request)
                    return redirect("accounts:staff_login")
                request.session.setdefault(STAFF_AUTH_AT, now)
                if (
                    now - last >= ACTIVITY_RESOLUTION_SECONDS
                    or LAST_ACTIVITY not in request.session
                ):
                    # Writing the session on every request (every scan) is a database write;
                    # the idle limit only needs the last activity to the nearest half minute.
                    request.session[LAST_ACTIVITY] = now
            seen = user.last_seen_at  # type: ignore[union-attr]
            if seen is None or timezone.now() - seen > datetime.timedelta(hours=1):
                User.objects.filter(pk=user.pk).update(last_seen_at=timezone.now())
                user_cache_clear(user.pk)  # the cached account still has the old time
        return self.get_response(request)


def _device_cache_key(persistent_id: str) -> str:
    return f"accounts:otp-device:{persistent_id}"


def device_cache_clear(persistent_id: str) -> None:
    auth_cache_forget([_device_cache_key(persistent_id)])


class CachedOTPMiddleware(OTPMiddleware):
    """django-otp's middleware, with the session's verified device read through the auth
    cache (covidhub.accounts.authcache) instead of a query on every staff request. Saving
    or deleting a device clears its entry; the device's owner and confirmation are still
    checked on every request."""

    def _device_from_persistent_id(self, persistent_id: str) -> Any:
        return auth_cached(
            _device_cache_key(persistent_id),
            lambda: super(CachedOTPMiddleware, self)._device_from_persistent_id(persistent_id),
        )
