from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from covidhub.core.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied


class VenueUnknown(NotFound):
    code = "venue_unknown"
    default_message = _("No venue has this code. Check the code on the poster and try again.")


class NoPeopleChosen(InvalidInput):
    code = "people_required"
    default_message = _("Choose at least one person to check in.")


class SecondOfficerRequired(PermissionDenied):
    code = "second_officer_required"
    default_message = _(
        "A confirmed case must be approved by a second officer, not by the one who proposed it."
    )


class CaseNotPending(Conflict):
    code = "case_not_pending"
    default_message = _("This case was already decided.")


class CaseAlreadyOpen(Conflict):
    code = "case_pending_exists"
    default_message = _("This person already has a case awaiting approval.")


class CaseNotConfirmed(Conflict):
    code = "case_not_confirmed"
    default_message = _("Exposure tracing starts once the case is approved.")


class AccountUnknown(InvalidInput):
    code = "account_unknown"


class NotVenueStaff(DomainError):
    code = "not_venue_staff"
    status = 404
    default_message = _("Not found.")
