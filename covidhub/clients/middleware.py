"""Every call a machine client makes is written to the audit trail, with the client's
account as the actor: allowed or refused (403 scope, 404 out of its areas, 429 limits),
whatever the view did besides (the services audit the reads and writes of people's data
themselves)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

ACTION = "clients.api.called"


class ClientCallAuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        from covidhub.clients.auth import client_call_of

        call = client_call_of(request)
        if call is not None:
            self._record(request, response, call)
        return response

    @staticmethod
    def _record(request: HttpRequest, response: HttpResponse, call: object) -> None:
        from covidhub.audit.services import audit_record

        match = getattr(request, "resolver_match", None)
        try:
            audit_record(
                actor=call.account,  # type: ignore[attr-defined]
                action=ACTION,
                obj=call.client,  # type: ignore[attr-defined]
                details={
                    "method": request.method,
                    "route": (match.route if match is not None else "")[:200],
                    "path": request.path[:200],
                    "status": response.status_code,
                },
            )
        except Exception:
            # The answer is already made; failing to audit it must not turn it into a 500.
            logger.exception("could not audit a machine client's call")
