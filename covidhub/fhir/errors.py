"""Errors of the FHIR surface: an HTTP status, an OperationOutcome issue type, a message."""

from __future__ import annotations

from typing import ClassVar

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class FhirError(Exception):
    status: ClassVar[int] = 400
    issue_code: ClassVar[str] = "invalid"
    default_message: ClassVar[str | Promise] = _("The request is not valid.")

    def __init__(self, message: str | Promise | None = None) -> None:
        self.message = message if message is not None else self.default_message
        super().__init__(str(self.message))


class BadRequest(FhirError):
    pass


class NotFound(FhirError):
    status = 404
    issue_code = "not-found"
    default_message = _("Resource not found.")


class Unauthorized(FhirError):
    status = 401
    issue_code = "login"
    default_message = _("Sign in, or send a valid bearer token.")


class Forbidden(FhirError):
    status = 403
    issue_code = "forbidden"
    default_message = _("You may not use this operation.")


class NotAcceptable(FhirError):
    status = 406
    issue_code = "not-supported"
    default_message = _("Only JSON is supported (application/fhir+json).")


class MethodNotAllowed(FhirError):
    status = 405
    issue_code = "not-supported"
    default_message = _("This method is not supported here.")


class TooMany(FhirError):
    status = 429
    issue_code = "throttled"
    default_message = _("Too many requests. Please wait a while and try again.")
