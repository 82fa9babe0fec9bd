"""One error format for the whole API: {"code", "message", "details"}."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from covidhub.core.errors import DomainError


class ErrorOut(Schema):
    code: str
    message: str
    details: dict[str, Any] = {}


def _messages() -> dict[str, str]:
    return {
        "missing": _("This field is required."),
        "string_too_long": _("This value is too long."),
        "string_too_short": _("This value is too short."),
        "string_type": _("Enter text."),
        "int_parsing": _("Enter a whole number."),
        "int_type": _("Enter a whole number."),
        "float_parsing": _("Enter a number."),
        "bool_parsing": _("Enter true or false."),
        "date_from_datetime_parsing": _("Enter a date as YYYY-MM-DD."),
        "date_parsing": _("Enter a date as YYYY-MM-DD."),
        "datetime_parsing": _("Enter a date and time."),
        "uuid_parsing": _("Enter a valid identifier."),
        "enum": _("Choose one of the allowed values."),
        "literal_error": _("Choose one of the allowed values."),
        "json_invalid": _("The request body is not valid JSON."),
        "greater_than_equal": _("This value is too small."),
        "less_than_equal": _("This value is too large."),
        "value_error": _("This value is not valid."),
        "extra_forbidden": _("This field is not part of the request."),
    }


def error_response(
    api: NinjaAPI,
    request: HttpRequest,
    *,
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": message, "details": details or {}}, status=status
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 404 handler: the API's JSON error under /api/ (a path no route matches,
    such as a malformed UUID where a `{uuid:…}` is expected), the site's page elsewhere."""
    from covidhub.api.main import api
    from covidhub.core.views import error_404

    if request.path.startswith("/api/"):
        return error_response(api, request, status=404, code="not_found", message=_("Not found."))
    return error_404(request, exception)


def install(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        response = error_response(
            api,
            request,
            status=exc.status,
            code=exc.code,
            message=str(exc.message),
            details=exc.details,
        )
        # An error may name headers of its answer (Retry-After, WWW-Authenticate).
        for name, value in getattr(exc, "headers", {}).items():
            response[name] = value
        return response

    @api.exception_handler(NinjaValidationError)
    def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        if any(tuple(error.get("loc", ()))[:1] == ("path",) for error in exc.errors):
            # A malformed identifier in the path names nothing that exists.
            return not_found(request, Http404())
        messages = _messages()
        fields: dict[str, list[str]] = {}
        for error in exc.errors:
            location = [
                str(part)
                for part in error.get("loc", ())
                if part not in ("body", "payload", "query", "path")
            ]
            name = ".".join(location) or "body"
            fields.setdefault(name, []).append(
                messages.get(str(error.get("type")), _("This value is not valid."))
            )
        return error_response(
            api,
            request,
            status=422,
            code="invalid",
            message=_("Some fields are not valid. Please correct them and try again."),
            details={"fields": fields},
        )

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return error_response(
            api, request, status=401, code="unauthenticated", message=_("Sign in to continue.")
        )

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return error_response(api, request, status=404, code="not_found", message=_("Not found."))

    @api.exception_handler(RequestDataTooBig)
    def too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return error_response(
            api, request, status=413, code="too_large", message=_("The request is too large.")
        )

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        # Ninja turns whatever its parser raises into a 400 "cannot parse": the cleaning
        # step's refusal and an oversized body keep their own answer.
        if isinstance(exc.__cause__, DomainError):
            return domain_error(request, exc.__cause__)
        if isinstance(exc.__cause__, RequestDataTooBig):
            return too_large(request, exc.__cause__)
        code = {
            400: "bad_request",
            403: "forbidden",
            405: "method_not_allowed",
            413: "too_large",
        }.get(exc.status_code, "error")
        return error_response(
            api,
            request,
            status=exc.status_code,
            code=code,
            message=_("The request could not be completed."),
        )

    @api.exception_handler(Exception)
    def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        import logging

        logging.getLogger("covidhub.api").exception("unhandled error in the API")
        return error_response(
            api,
            request,
            status=500,
            code="server_error",
            message=_("Something went wrong on our side. Please try again later."),
        )
