"""Vaccination's domain errors, each with a stable code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from covidhub.core.errors import Conflict, DomainError, InvalidInput


class SessionFull(Conflict):
    code = "session_full"
    default_message = _("This session is full. Choose another session or join its waiting list.")


class SessionClosed(DomainError):
    code = "session_closed"
    status = 409
    default_message = _("This session is not open for booking.")


class AlreadyBooked(Conflict):
    code = "already_booked"
    default_message = _("This person already has a booking for this dose.")


class NotRegistered(DomainError):
    code = "not_registered"
    status = 409
    default_message = _("Register this person for vaccination first.")


class DoseRefused(DomainError):
    """A dose (or a booking for one) that the vaccine's rules do not allow."""

    code = "dose_refused"
    status = 422
    default_message = _("This dose is not allowed by the vaccine's rules.")


class TooEarly(DoseRefused):
    code = "too_early"


class WrongVaccine(DoseRefused):
    code = "wrong_vaccine"


class AgeNotAllowed(DoseRefused):
    code = "age_not_allowed"


class SeriesComplete(DoseRefused):
    code = "series_complete"


class LotUnusable(DomainError):
    code = "lot_unusable"
    status = 409
    default_message = _("This lot cannot be used.")


class StockShort(DomainError):
    code = "stock_short"
    status = 409
    default_message = _("There are not enough doses left.")


class WrongStep(DomainError):
    code = "wrong_step"
    status = 409
    default_message = _("This step cannot be done now.")


class ImportRefused(InvalidInput):
    code = "import_refused"
    default_message = _("The list has errors; nothing was imported.")
