from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, QueryDict

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


class InputCleaningMiddleware:
    """Every text of a request through `covidhub.core.cleaning` before any view sees it.

    A path with a refused character is a 404 (no route has such a name; PostgreSQL would
    refuse a NUL in the lookup with a server error). A query or form value with one is a
    400 with a translated message; the others are put in NFC, so every form sees NFC text.
    API bodies are cleaned by the API's parser (`covidhub.api.parsing`), which knows JSON.
    A body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
        from django.http import Http404

        from covidhub.core.cleaning import InvalidText, text_is_clean

        if not text_is_clean(request.path_info):
            raise Http404
        try:
            request.GET = _querydict_clean(request.GET)  # type: ignore[assignment]
            if request.method == "POST" and not request.path_info.startswith("/api/"):
                request.POST = _querydict_clean(request.POST)  # type: ignore[assignment]
        except InvalidText as error:
            return input_refused(request, status=400, message=str(error.message))
        except RequestDataTooBig:
            return input_refused(request, status=413, message=str(_too_large()))
        except TooManyFieldsSent:
            return input_refused(request, status=400, message=str(_too_many_fields()))
        return self.get_response(request)


def _too_large() -> str:
    from django.utils.translation import gettext

    return gettext("The request is too large.")


def _too_many_fields() -> str:
    from django.utils.translation import gettext

    return gettext("The request has too many fields.")


def _querydict_clean(data: QueryDict) -> QueryDict:
    """The same QueryDict when every key and value is clean and in NFC, else an NFC copy;
    InvalidText naming the first refused field."""
    from covidhub.core.cleaning import text_clean

    changed = False
    lists = []
    for key, values in data.lists():
        name = text_clean(key)
        cleaned = [text_clean(value, field=name) for value in values]
        changed = changed or name != key or cleaned != values
        lists.append((name, cleaned))
    if not changed:
        return data
    copy = QueryDict(mutable=True, encoding=data.encoding)
    for key, values in lists:
        copy.setlist(key, values)
    copy._mutable = False
    return copy


def input_refused(request: HttpRequest, *, status: int, message: str) -> HttpResponse:
    """A refused input: the API's error format under /api/, else the error page."""
    from django.http import JsonResponse
    from django.shortcuts import render

    if request.path_info.startswith("/api/"):
        code = "too_large" if status == 413 else "invalid_text"
        return JsonResponse(
            {"code": code, "message": message, "details": {}},
            status=status,
            json_dumps_params={"ensure_ascii": False},
        )
    return render(request, "core/error.html", {"message": message}, status=status)
