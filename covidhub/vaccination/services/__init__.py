"""Vaccination's writes; every state change goes through one of these functions."""

from covidhub.vaccination.services.aefi import aefi_report
from covidhub.vaccination.services.booking import (
    booking_cancel,
    booking_create,
    invitation_respond,
    invitations_send,
)
from covidhub.vaccination.services.campaigns import campaign_create, session_create, site_create
from covidhub.vaccination.services.day import (
    checkin_record,
    dose_record,
    dose_record_elsewhere,
    dose_void,
    screening_record,
)
from covidhub.vaccination.services.followup import reminders_send
from covidhub.vaccination.services.registration import (
    IMPORT_JOB_KIND,
    ImportReport,
    import_report,
    registration_import,
    registration_import_run,
    registration_submit,
)
from covidhub.vaccination.services.stock import lot_allocate, lot_receive, wastage_record

__all__ = [
    "IMPORT_JOB_KIND",
    "ImportReport",
    "aefi_report",
    "booking_cancel",
    "booking_create",
    "campaign_create",
    "checkin_record",
    "dose_record",
    "dose_record_elsewhere",
    "dose_void",
    "import_report",
    "invitation_respond",
    "invitations_send",
    "lot_allocate",
    "lot_receive",
    "registration_import",
    "registration_import_run",
    "registration_submit",
    "reminders_send",
    "screening_record",
    "session_create",
    "site_create",
    "wastage_record",
]
