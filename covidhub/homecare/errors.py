from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from covidhub.core.errors import Conflict


class OrderAlreadyOpen(Conflict):
    code = "order_already_open"
    default_message = _("This person is already under home care or quarantine.")


class OrderNotOpen(Conflict):
    code = "order_not_open"
    default_message = _("This order is no longer open.")


class AlertAlreadyClosed(Conflict):
    code = "alert_already_closed"
    default_message = _("This alert was already closed by another officer.")


class ReleaseNotDue(Conflict):
    code = "release_not_due"
    default_message = _(
        "The person cannot be released yet under the protocol: see the conditions on the order."
    )
