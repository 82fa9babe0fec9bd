"""django-oauth-toolkit, fitted through its own extension points: the validator refuses
revoked clients, the scopes backend gives each client its registered scopes, and the token
endpoint adds the wrong-secret lockout and the audit trail.

Tokens are stored as their SHA-256 only: OAUTH2_PROVIDER["COMPLIANT_BCP_RFC9700_TOKEN_
STORAGE"] (RFC 9700) leaves the token column blank and keeps the checksum the library looks
tokens up by. Client secrets are hashed by the library with the password hashers.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any
from urllib.parse import unquote_plus

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import BaseScopes
from oauth2_provider.signals import app_authorized
from oauth2_provider.views import TokenView

from covidhub.audit.services import audit_record
from covidhub.clients import ratelimit
from covidhub.clients.models import MachineClient
from covidhub.clients.scopes import all_scopes

FAILURE_WINDOW_SECONDS = 15 * 60


def _client_of(application: Any) -> MachineClient | None:
    if application is None:
        return None
    return (
        MachineClient.objects.select_related("account")
        .filter(application_id=application.pk, revoked_at__isnull=True)
        .first()
    )


class ClientValidator(OAuth2Validator):
    def _load_application(self, client_id: str, request: Any) -> Any:
        application = super()._load_application(client_id, request)
        # A revoked client (or an application that is no registered client) gets nothing.
        if application is not None and _client_of(application) is None:
            request.client = None
            return None
        return application


class ClientScopes(BaseScopes):
    def get_all_scopes(self) -> dict[str, str]:
        return all_scopes()

    def get_available_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        client = _client_of(application)
        return list(client.scopes) if client is not None else []

    def get_default_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        return self.get_available_scopes(application, request)


def _client_id_of(request: HttpRequest) -> str:
    """The client id a token request names (HTTP Basic, else the form), or ''."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.startswith("Basic "):
        try:
            decoded = base64.b64decode(header[6:]).decode()
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return unquote_plus(decoded.split(":", 1)[0])[:100]
    return str(request.POST.get("client_id", ""))[:100]


def _failure_key(client_id: str) -> str:
    return "clients:secret-failures:" + hashlib.sha256(client_id.encode()).hexdigest()[:40]


def _token_issued(sender: Any, request: HttpRequest, token: Any, **kwargs: Any) -> None:
    client = _client_of(token.application)
    if client is None:
        return
    audit_record(
        actor=client.account,
        action="clients.token.issued",
        obj=client,
        details={"scope": token.scope, "expires": token.expires.isoformat()},
    )


app_authorized.connect(_token_issued, dispatch_uid="covidhub_clients_token_issued")


@method_decorator(csrf_exempt, name="dispatch")
class ClientTokenView(TokenView):
    """POST /oauth/token/: grant_type=client_credentials, the client authenticated by HTTP
    Basic (or client_id and client_secret in the form). Too many wrong secrets for one
    client id: 429 with Retry-After for 15 minutes."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        client_id = _client_id_of(request)
        key = _failure_key(client_id)
        if client_id and ratelimit.failure_count(key, FAILURE_WINDOW_SECONDS) >= (
            settings.CLIENT_SECRET_FAILURES_MAX
        ):
            refused = JsonResponse(
                {
                    "error": "slow_down",
                    "error_description": _(
                        "Too many wrong secrets for this client. Try again in 15 minutes."
                    ),
                },
                status=429,
            )
            refused["Retry-After"] = str(FAILURE_WINDOW_SECONDS)
            return refused
        response: HttpResponse = super().post(request, *args, **kwargs)
        if response.status_code in (400, 401) and client_id:
            try:
                error = json.loads(response.content).get("error")
            except ValueError:
                error = None
            if error == "invalid_client":
                ratelimit.failure_record(key, FAILURE_WINDOW_SECONDS)
                self._refusal_audit(client_id)
        response["Cache-Control"] = "no-store"
        return response

    @staticmethod
    def _refusal_audit(client_id: str) -> None:
        client = (
            MachineClient.objects.select_related("account")
            .filter(application__client_id=client_id)
            .first()
        )
        if client is None:
            return
        # The address is on the row (request context), like every audit row's.
        audit_record(actor=client.account, action="clients.token.refused", obj=client)
