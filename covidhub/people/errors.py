"""Refusals of the people app, each with a stable code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from covidhub.core.errors import Conflict, InvalidInput, PermissionDenied


class IdentityUnusable(InvalidInput):
    """A staff path (walk-in, staff edit) met an identity number it may not use: held by a
    record that the name and birth do not match. Worded so that the answer does not say
    that the number exists elsewhere (as the registration import's row error)."""

    code = "identity_unusable"

    def __init__(self) -> None:
        message = _(
            "This identity number cannot be used for this person. Check the number, the name "
            "and the date of birth."
        )
        super().__init__(message, details={"fields": {"id_number": [str(message)]}})


class IdentityLocked(Conflict):
    code = "identity_locked"
    default_message = _(
        "The name, date of birth, sex and identity number of a person with vaccination or "
        "test records cannot be changed here. Send a correction request: an officer of "
        "the commune checks it with the documents."
    )


class CorrectionPending(Conflict):
    code = "correction_pending"
    default_message = _(
        "A request about this person's identity is already waiting for the commune. "
        "Please wait for its decision."
    )


class CorrectionDecided(Conflict):
    code = "correction_decided"
    default_message = _("This request has already been decided.")


class OwnRequest(PermissionDenied):
    code = "four_eyes"
    default_message = _("You asked for this change yourself; another officer must decide on it.")
