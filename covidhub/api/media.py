"""JSON bodies only as application/json, for every endpoint of the API.

A browser sends `text/plain`, `application/x-www-form-urlencoded` and `multipart/form-data`
from any site without asking the API first (no CORS preflight). Were a JSON body accepted
under those types, another site could make its visitors' browsers call the API — send sign-in
codes by SMS to any number, for one. Requiring `application/json` makes such a request need a
preflight, which the API never grants to another origin. File uploads stay multipart: a
cross-site one carries no bearer token, and a staff session's cookie needs the CSRF token.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI
from ninja.params.models import BodyModel, _MultiPartBodyModel

from covidhub.core.errors import DomainError


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"
    status = 415
    default_message = _("Send the request body as JSON, with Content-Type: application/json.")


def is_json_media_type(content_type: str) -> bool:
    """application/json, or a JSON-based type (application/problem+json and the like)."""
    main = content_type.split(";", 1)[0].strip().lower()
    return main == "application/json" or (
        main.startswith("application/") and main.endswith("+json")
    )


def has_body(request: HttpRequest) -> bool:
    # From the headers: reading the body here would run before the API's own size limit.
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 1
    return length > 0 or "HTTP_TRANSFER_ENCODING" in request.META


def takes_json_body(operation: Any) -> bool:
    return any(
        isinstance(model, type)
        and issubclass(model, BodyModel)
        and not issubclass(model, _MultiPartBodyModel)
        for model in getattr(operation, "models", ())
    )


def install(api: NinjaAPI) -> None:
    """Refuse a JSON body of another media type with 415, before authentication and parsing."""
    from covidhub.api.errors import error_response

    def json_bodies_only(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        # `run` is the operation's bound method, or another decorator's wrapper of it.
        if not takes_json_body(getattr(inspect.unwrap(run), "__self__", None)):
            return run

        @wraps(run)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if has_body(request) and not is_json_media_type(request.META.get("CONTENT_TYPE", "")):
                error = UnsupportedMediaType()
                return error_response(
                    api, request, status=error.status, code=error.code, message=str(error.message)
                )
            return run(request, *args, **kwargs)

        checked.json_media_type_checked = True  # type: ignore[attr-defined]
        return checked

    api.add_decorator(json_bodies_only, mode="view")
