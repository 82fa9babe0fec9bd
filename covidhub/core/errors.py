"""Domain errors: a stable code for machines, a translated message for people.

Services raise these; the API and the views map them to HTTP statuses in one place
(`covidhub.api.errors` and `covidhub.core.views`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A refused operation. `code` is stable; `message` is shown to the user."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    default_message: ClassVar[str | Promise] = _("The request could not be completed.")

    def __init__(
        self,
        message: str | Promise | None = None,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.message = message if message is not None else self.default_message
        if code is not None:
            self.code = code  # type: ignore[misc]
        self.details = details or {}
        super().__init__(str(self.message))


class InvalidInput(DomainError):
    code = "invalid"
    status = 422
    default_message = _("Some fields are not valid. Please correct them and try again.")


class NotFound(DomainError):
    """Also what a staff member gets for an object outside their scope."""

    code = "not_found"
    status = 404
    default_message = _("Not found.")


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403
    default_message = _("You do not have permission to do this.")


class Conflict(DomainError):
    code = "conflict"
    status = 409
    default_message = _("This was changed by someone else at the same time. Please try again.")


class RateLimited(DomainError):
    """Every refusal of a rate limit is one of these: counted here, once, for /metrics."""

    code = "rate_limited"
    status = 429
    default_message = _("Too many attempts. Please wait a while and try again.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from covidhub.core.monitoring import rate_limit_refused

        rate_limit_refused(self.code)
