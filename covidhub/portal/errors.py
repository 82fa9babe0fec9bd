from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from covidhub.core.errors import Conflict, InvalidInput, RateLimited


class TicketJunk(InvalidInput):
    code = "ticket_junk"
    default_message = _(
        "This message looks like spam, so it was not sent. Please describe your problem in "
        "a few sentences of your own, or call the support line."
    )


class TicketRateLimited(RateLimited):
    code = "ticket_rate_limited"
    default_message = _(
        "Too many messages were sent from this network. Please try again in an hour, or "
        "call the support line."
    )


class TicketClosed(Conflict):
    code = "ticket_closed"
    default_message = _("This ticket is closed.")


class AnnouncementState(Conflict):
    code = "announcement_state"
    default_message = _("The announcement cannot do that in its current state.")
