"""Refusals of machine clients, each with a stable code and a translated message."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from covidhub.core.errors import Conflict, DomainError, RateLimited


class ScopeRefused(DomainError):
    """The token is good but does not hold the capability (or write access) the call needs
    (RFC 6750 insufficient_scope). Objects outside the client's areas are 404, as for
    staff; this is only about what kind of call it is."""

    code = "insufficient_scope"
    status = 403
    default_message = _("This client is not allowed to make this kind of call.")

    def __init__(self, *, needed: str | None) -> None:
        super().__init__(details={"scope": needed} if needed else {})
        self.needed = needed
        challenge = 'Bearer error="insufficient_scope"'
        if needed:
            challenge += f', scope="{needed}"'
        self.headers = {"WWW-Authenticate": challenge}


class ClientRateLimited(RateLimited):
    code = "client_rate_limited"
    default_message = _("This client has made too many calls. Wait before calling again.")

    def __init__(self, *, retry_after: int) -> None:
        super().__init__(details={"retry_after": retry_after})
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


class ClientNameTaken(Conflict):
    code = "client_name_taken"
    default_message = _("A client with this name is already registered.")


class SecretAlreadyChanged(Conflict):
    code = "client_secret_changed"
    default_message = _(
        "The secret was changed by someone else in the meantime (or this form was sent "
        "twice). Nothing more was changed; change it again if you need a new secret."
    )


class ClientRevoked(Conflict):
    code = "client_revoked"
    default_message = _("This client is revoked.")
