"""Refusals of the people app, each with a stable code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from covidhub.core.errors import Conflict, PermissionDenied


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
