"""Bearer tokens for the native staff apps: what the web sign-in demands (the password
with its lockout, then a code of a confirmed authenticator app), in one request.

The token is an `ApiToken` like a citizen's (only its SHA-256 kept), of the staff account:
the API then scopes it exactly as that account's session. It lives STAFF_TOKEN_SECONDS (the
staff session's absolute limit), ends when the app signs out (`POST /auth/logout`) and when
the account is disabled (covidhub.accounts.signals).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_totp.models import TOTPDevice

from covidhub.accounts import lockout
from covidhub.accounts.models import ApiToken, User
from covidhub.accounts.services import IssuedToken, api_token_issue
from covidhub.accounts.totp_keys import totp_key_readable
from covidhub.audit.services import audit_record
from covidhub.core.errors import DomainError, InvalidInput, RateLimited


class StaffCredentialsInvalid(DomainError):
    code = "credentials_invalid"
    status = 400
    default_message = gettext_lazy("The username or password is wrong.")


class StaffCodeInvalid(DomainError):
    code = "totp_invalid"
    status = 400
    default_message = gettext_lazy("The code is wrong. Enter the code your app shows now.")


def staff_totp_verify(*, user: User, token: str) -> TOTPDevice | None:
    """The confirmed device of `user` that accepts `token` now (django-otp's throttling
    applies), or None. The web sign-in's TOTP step and the token endpoint both ask here."""
    entered = (token or "").replace(" ", "")
    for device in TOTPDevice.objects.filter(user=user, confirmed=True):
        if (
            device.verify_is_allowed()[0]
            and totp_key_readable(device)
            and device.verify_token(entered)
        ):
            return device
    return None


def staff_token_issue(
    *, request: HttpRequest, username: str, password: str, totp: str, label: str = ""
) -> IssuedToken:
    """A staff bearer token, after the password (the web sign-in's lockout) and a TOTP
    code of a confirmed authenticator app (enrolment happens on the web sign-in)."""
    attempt = lockout.attempt_for(request, username)
    if lockout.is_locked(attempt):
        raise RateLimited(_("Too many failed attempts. Try again in 15 minutes."))
    user = authenticate(request, username=username, password=password)
    if not isinstance(user, User) or user.kind != User.Kind.STAFF:
        lockout.failure_record(attempt)
        raise StaffCredentialsInvalid()
    lockout.success_record(attempt)
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise InvalidInput(
            _("Set up your authenticator app by signing in on the website once, then try again.")
        )
    if staff_totp_verify(user=user, token=totp) is None:
        raise StaffCodeInvalid()
    issued = api_token_issue(
        user=user,
        label=label,
        lifetime=datetime.timedelta(seconds=settings.STAFF_TOKEN_SECONDS),
    )
    # Idle from the moment it is issued, not from its first use.
    ApiToken.objects.filter(pk=issued.record.pk).update(last_used_at=issued.record.created_at)
    audit_record(
        actor=user,
        action="accounts.staff_token.issued",
        details={"token": issued.record.prefix, "expires": issued.record.expires_at.isoformat()},
    )
    return issued
