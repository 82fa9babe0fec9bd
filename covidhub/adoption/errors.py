from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from covidhub.core.errors import Conflict, InvalidInput, RateLimited


class UploadAlreadyDecided(Conflict):
    code = "roster_upload_decided"
    default_message = _("A decision was already made for this file.")


class RosterChanged(Conflict):
    code = "roster_changed"
    default_message = _(
        "Another roster file was imported for this agency after this one was checked. "
        "Upload the file again so that it is compared with the current roster."
    )


class ReminderTooSoon(RateLimited):
    code = "reminder_too_soon"
    default_message = _(
        "Reminders were sent for this agency less than a day ago. Please try again tomorrow."
    )


class AgencyInvalid(InvalidInput):
    code = "agency_invalid"
