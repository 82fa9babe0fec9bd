"""Wrong staff passwords: who gets locked, and for how long.

Counting failures per username alone let anyone lock a colleague out by typing their name
and a wrong password ten times. Failures are counted instead

- per username and address: STAFF_FAILURES_MAX in 15 minutes locks that address only;
- per username across every address, for browsers this account never signed in from:
  STAFF_FAILURES_MAX_PER_ACCOUNT in an hour (slow enough that a guessing attack spread over
  many addresses still gets nowhere, since the TOTP step follows too);
- per known device: a browser that completed a sign-in (password and TOTP) for this username
  carries a signed cookie naming it, and has its own counter. An attack on the account from
  elsewhere therefore never locks its owner out of their usual browser (the "device
  cookie" of OWASP's guidance on slow brute force).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from covidhub.core import request_context

DEVICE_COOKIE = "covidhub_staff_device"
DEVICE_COOKIE_SECONDS = 180 * 24 * 3600
_DEVICE_SALT = "covidhub.accounts.staff-device"
WINDOW_SECONDS = 15 * 60
ACCOUNT_WINDOW_SECONDS = 3600


def _key(kind: str, *parts: str) -> str:
    digest = hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:40]
    return f"staff-login-failures:{kind}:{digest}"


@dataclass(frozen=True)
class SignInAttempt:
    username: str
    address: str
    device: str | None  # the id of a device cookie issued for this username, if any

    def counters(self) -> list[tuple[str, int, int]]:
        """The counters this attempt is held to: (key, limit, window)."""
        if self.device is not None:
            return [(_key("device", self.device), settings.STAFF_FAILURES_MAX, WINDOW_SECONDS)]
        return [
            (
                _key("address", self.username, self.address),
                settings.STAFF_FAILURES_MAX,
                WINDOW_SECONDS,
            ),
            (
                _key("account", self.username),
                settings.STAFF_FAILURES_MAX_PER_ACCOUNT,
                ACCOUNT_WINDOW_SECONDS,
            ),
        ]


def attempt_for(request: HttpRequest, username: str) -> SignInAttempt:
    name = username.strip().lower()
    context = request_context.current()
    address = (context.client_address if context else None) or request.META.get("REMOTE_ADDR", "-")
    device = None
    cookie = request.COOKIES.get(DEVICE_COOKIE)
    if cookie:
        try:
            value = signing.loads(cookie, salt=_DEVICE_SALT, max_age=DEVICE_COOKIE_SECONDS)
        except signing.BadSignature:
            value = None
        if isinstance(value, dict) and value.get("u") == name:
            device = str(value.get("d"))
    return SignInAttempt(username=name, address=str(address), device=device)


def is_locked(attempt: SignInAttempt) -> bool:
    counts = cache.get_many([key for key, _limit, _window in attempt.counters()])
    return any((counts.get(key) or 0) >= limit for key, limit, _window in attempt.counters())


def failure_record(attempt: SignInAttempt) -> None:
    for key, _limit, window in attempt.counters():
        cache.add(key, 0, window)
        try:
            cache.incr(key)
        except ValueError:  # expired between the two calls
            cache.set(key, 1, window)


def success_record(attempt: SignInAttempt) -> None:
    """The password was right: this address's (or device's) count starts again. The
    account-wide count does not: it is the attacker's, not the owner's."""
    cache.delete(attempt.counters()[0][0])


def device_cookie_set(response: HttpResponse, username: str) -> None:
    """After a complete sign-in: this browser is a known device of the account."""
    value = signing.dumps(
        {"u": username.strip().lower(), "d": secrets.token_hex(16)}, salt=_DEVICE_SALT
    )
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=DEVICE_COOKIE_SECONDS,
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Lax",
        path="/staff/signin/",
    )
