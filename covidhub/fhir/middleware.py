"""Under /fhir/ every answer is FHIR: an error produced outside the FHIR views (a path
the input cleaning refuses, a CSRF refusal, a signed-out staff session's redirect, a
server error) is replaced by an OperationOutcome with the same meaning."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

_MESSAGES: dict[int, tuple[str, Callable[[], str]]] = {
    400: ("invalid", lambda: _("The request is not valid.")),
    401: ("login", lambda: _("Sign in, or send a valid bearer token.")),
    403: ("forbidden", lambda: _("You may not use this operation.")),
    404: ("not-found", lambda: _("Resource not found.")),
    405: ("not-supported", lambda: _("This method is not supported here.")),
    413: ("too-costly", lambda: _("The request is too large.")),
}


def _server_failed() -> str:
    return _("The server failed.")


class FhirOutcomeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not (request.path_info == "/fhir" or request.path_info.startswith("/fhir/")):
            return response
        content_type = response.get("Content-Type", "")
        if "fhir+json" in content_type or "ndjson" in content_type:
            return response
        status = response.status_code
        if 300 <= status < 400:
            status = 401  # a signed-out session is sent to the sign-in page: not here
        elif status < 400:
            return response
        from covidhub.fhir.views import outcome_response

        code, message = _MESSAGES.get(status, ("exception", _server_failed))
        return outcome_response(request, status=status, code=code, message=str(message()))
