"""Every 404 a signed-in account gets for a route that takes an object id is audited.

Scoping answers "not found" for an object outside the actor's reach (so that its existence
is not revealed); this is the one place that sees every such answer, pages and API alike,
whatever view produced it. A path that matches no route is not a look-up and is left alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)


def _target(request: HttpRequest) -> tuple[str, str] | None:
    """(kind of object, id) of the route's object id, or None for a route without one."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return None
    for name, value in match.kwargs.items():
        if name == "uuid" or name.endswith("_uuid"):
            kind = name.removesuffix("_uuid") if name != "uuid" else (match.url_name or "object")
            return kind, str(value)
    return None


class DeniedAccessMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 404:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                target = _target(request)
                if target is not None:
                    self._record(user, *target)
        return response

    @staticmethod
    def _record(user: object, kind: str, target_id: str) -> None:
        from covidhub.audit.alerts import access_denied_record

        try:
            access_denied_record(actor=user, target_kind=kind, target_id=target_id)
        except Exception:
            # The answer is already a 404; failing to audit it must not turn it into a 500.
            logger.exception("could not audit a refused look-up")
