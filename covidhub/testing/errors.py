"""Testing's refusals, each with a stable code and a translated message."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from covidhub.core.errors import Conflict, DomainError, InvalidInput


class SlotFull(Conflict):
    code = "slot_full"
    default_message = _("This time slot is full. Please choose another one.")


class AlreadyRegistered(Conflict):
    code = "already_registered"
    default_message = _("This person already has an appointment for this.")


class AppointmentClosed(Conflict):
    code = "appointment_closed"
    default_message = _("This appointment can no longer be changed.")


class NotEligible(InvalidInput):
    code = "not_eligible"
    default_message = _("This person does not live in the area of this testing round.")


class TubeFull(Conflict):
    code = "tube_full"
    default_message = _("This tube is full. Scan a new tube.")


class TubeNotOpen(Conflict):
    code = "tube_not_open"
    default_message = _("This tube is closed. Scan a new tube.")


class NoOpenTube(Conflict):
    code = "no_open_tube"
    default_message = _("Scan a tube barcode first.")


class TubeTaken(Conflict):
    code = "tube_taken"
    default_message = _("This tube barcode is already used in another session.")


class AlreadyInTube(Conflict):
    code = "already_in_tube"
    default_message = _("This person is already in this tube.")


class AppointmentUsed(Conflict):
    code = "appointment_used"
    default_message = _("A sample was already taken for this appointment.")


class ScanNotRecognised(InvalidInput):
    code = "scan_not_recognised"
    default_message = _("This code is not an appointment, a personal code or a tube barcode.")


class HandedOver(Conflict):
    code = "handed_over"
    default_message = _("The tube is already handed over; it can no longer be corrected.")


class ResultAlreadyRecorded(Conflict):
    code = "result_already_recorded"
    default_message = _("A result is already recorded for this tube.")


class TubeNotReceived(Conflict):
    code = "tube_not_received"
    default_message = _("This tube has not been received by the laboratory yet.")


class AmendmentSelfApproval(DomainError):
    code = "amendment_second_technician"
    status = 403
    default_message = _("Another technician must approve this correction.")


class AmendmentPending(Conflict):
    code = "amendment_pending"
    default_message = _("A correction of this result is already waiting for approval.")


class ImportDecided(Conflict):
    code = "import_decided"
    default_message = _("A decision was already made for this import.")


class SessionClosed(Conflict):
    code = "session_closed"
    default_message = _("This sampling session is closed.")


class ShipmentReceived(Conflict):
    code = "shipment_received"
    default_message = _("This shipment was already received.")


class AmendmentDecided(Conflict):
    code = "amendment_decided"
    default_message = _("This correction was already decided.")
