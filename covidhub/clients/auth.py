"""Who is calling, when a machine client calls: its bearer token (django-oauth-toolkit's
validator), what it may do (covidhub.clients.scopes), how often (its per-minute and per-day
limits). The account it acts as is the client's service account, so that every service,
scoped selector and audit row treats it like a staff member of its areas.

For the API, `ClientBearer` is one of the auth classes of every staff endpoint
(covidhub.accounts.api_auth). Any other surface (the FHIR reads) calls
`client_actor(request, capability=..., access=...)` and then `client_from_request(request)`
to tell who called.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import Request as OAuthRequest

from covidhub.accounts.models import User
from covidhub.audit.alerts import LOOKUP_BUDGET_EXEMPT
from covidhub.clients import ratelimit
from covidhub.clients.errors import ClientRateLimited, ScopeRefused
from covidhub.clients.models import MachineClient
from covidhub.clients.scopes import Need, allowed_of, allows, need_for

_CALL = "_covidhub_client_call"


@dataclass(frozen=True)
class ClientCall:
    client: MachineClient
    scopes: frozenset[str]
    account: User


def _token_check(request: HttpRequest, token: str) -> ClientCall | None:
    """The client a valid, unexpired bearer token belongs to, or None."""
    cached = getattr(request, _CALL, None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    if not token or len(token) > 512:
        return None
    validator = oauth2_settings.OAUTH2_VALIDATOR_CLASS()
    oauth_request = OAuthRequest(request.build_absolute_uri(request.path))
    if not validator.validate_bearer_token(token, [], oauth_request):
        return None
    application = oauth_request.client
    client = (
        MachineClient.objects.select_related("account")
        .filter(application_id=application.pk, revoked_at__isnull=True)
        .first()
    )
    if client is None or not client.account.is_active:
        return None
    call = ClientCall(client=client, scopes=frozenset(oauth_request.scopes), account=client.account)
    # Seen by the audit middleware (every call of a client is audited) and by
    # client_from_request; the account is what services see as the actor.
    setattr(request, _CALL, call)
    return call


def _admit(request: HttpRequest, call: ClientCall, need: Need | None) -> User:
    if need is None:
        raise ScopeRefused(needed=None)
    if need.capability is not None and not allows(
        call.scopes, capability=need.capability, access=need.access
    ):
        raise ScopeRefused(needed=need.scope)
    verdict = ratelimit.client_call_charge(
        client_pk=call.client.pk,
        per_minute=call.client.rate_per_minute,
        per_day=call.client.quota_per_day,
    )
    if not verdict.allowed:
        raise ClientRateLimited(retry_after=verdict.retry_after)
    account = copy.copy(call.account)  # views may set attributes on request.user
    # Its calls count against its own per-minute and per-day limits (just charged), not
    # against the hourly look-up budget that stops a staff member browsing people.
    setattr(account, LOOKUP_BUDGET_EXEMPT, True)
    request.user = account
    return account


def client_bearer_token(request: HttpRequest) -> str | None:
    header = str(request.META.get("HTTP_AUTHORIZATION", ""))
    scheme, _space, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


class ClientBearer(HttpBearer):
    """A machine client's bearer token on the API: the account it acts as, or None (the
    next auth class tries); a call it may not make is refused with 403 or 429."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        call = _token_check(request, token)
        if call is None:
            return None
        return _admit(request, call, need_for(path=request.path_info, method=request.method or ""))


def client_actor(
    request: HttpRequest, *, capability: str | tuple[str, ...], access: str
) -> User | None:
    """For surfaces outside /api/v1/ (FHIR): the account a client's bearer token acts as,
    when its scopes allow `access` ("read"/"write") of `capability` (of one of them, for a
    tuple); None when the request carries no client token. Raises ScopeRefused (403) or
    ClientRateLimited (429)."""
    token = client_bearer_token(request)
    call = _token_check(request, token) if token else None
    if call is None:
        return None
    if isinstance(capability, tuple):
        capability = allowed_of(call.scopes, capability, access=access)
    return _admit(request, call, Need(capability, access))


def client_from_request(request: HttpRequest) -> MachineClient | None:
    """The machine client that authenticated this request, if one did."""
    call = getattr(request, _CALL, None)
    return call.client if call is not None else None


def client_call_of(request: HttpRequest) -> ClientCall | None:
    return getattr(request, _CALL, None)


def idempotency_owner(request: HttpRequest) -> str | None:
    """Whose Idempotency-Key a client's POST uses: the client's, not the token's, so that a
    retry with a fresh token (the old one expired meanwhile) is still a retry."""
    token = client_bearer_token(request)
    call = _token_check(request, token) if token else None
    return f"client:{call.client.uuid}" if call is not None else None
