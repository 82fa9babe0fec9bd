from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from covidhub.core import request_context


class RequestContextMiddleware:
    """Gives every request an id (echoed in X-Request-ID) and records the client address."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        context = request_context.RequestContext(
            request_id=request_context.new_request_id(request),
            client_address=request_context.client_address(request),
        )
        request.request_id = context.request_id  # type: ignore[attr-defined]
        token = request_context.bind(context)
        try:
            response = self.get_response(request)
        finally:
            request_context.reset(token)
        response["X-Request-ID"] = context.request_id
        return response


class DomainErrorMiddleware:
    """Pages: an out-of-scope object (NotFound) is a plain 404; other domain errors get
    their status and translated message instead of a server error."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from django.http import Http404
        from django.shortcuts import render

        from covidhub.core.errors import DomainError, NotFound

        if isinstance(exception, NotFound):
            raise Http404 from exception
        if isinstance(exception, DomainError):
            return render(
                request, "core/error.html", {"message": exception.message}, status=exception.status
            )
        return None
