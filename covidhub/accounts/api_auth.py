"""API authentication: citizens by bearer token (mobile app) or session (web); staff by
session with a verified TOTP device, or by a staff bearer token (the native staff apps,
issued after password and TOTP); machine clients by their OAuth bearer token
(covidhub.clients.auth). Bearer classes come before the session ones: a session class
checks CSRF on a POST and would refuse a bearer call before the next class is tried."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from covidhub.accounts.models import User
from covidhub.accounts.services import api_token_authenticate
from covidhub.clients.auth import ClientBearer


class CitizenToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_token_authenticate(token)
        if user is None or user.kind != User.Kind.CITIZEN:
            return None
        request.user = user
        return user


class StaffToken(HttpBearer):
    """A staff bearer token: the same account, and so the same scope, as a session."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_token_authenticate(token)
        if user is None or user.kind != User.Kind.STAFF:
            return None
        request.user = user
        return user


class CitizenSession(SessionAuth):
    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        if user.is_authenticated and getattr(user, "kind", None) == User.Kind.CITIZEN:
            return user
        return None


class StaffSession(SessionAuth):
    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        if (
            user.is_authenticated
            and getattr(user, "kind", None) == User.Kind.STAFF
            and user.is_verified()  # type: ignore[attr-defined]
        ):
            return user
        return None


class AnySession(SessionAuth):
    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        if not user.is_authenticated:
            return None
        if getattr(user, "kind", None) == User.Kind.STAFF and not user.is_verified():  # type: ignore[attr-defined]
            return None
        return user


citizen_auth = [CitizenToken(), CitizenSession()]
staff_auth = [StaffToken(), ClientBearer(), StaffSession()]
any_auth = [CitizenToken(), StaffToken(), ClientBearer(), AnySession()]


def request_user(request: HttpRequest) -> User:
    """The authenticated account of an API request (set by the auth classes above)."""
    user = getattr(request, "auth", None)
    if not isinstance(user, User):
        raise PermissionError("no authenticated user")
    return user
