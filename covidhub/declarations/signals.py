"""Events of the declarations capability that the layers above subscribe to.

`case_confirmed(sender=Case, case, person)` is sent inside the transaction that confirms
a case (a second officer's approval), so that a receiver writing in that transaction (the
exchange outbox's case report) commits or rolls back with the confirmation.
"""

from __future__ import annotations

from django.dispatch import Signal

case_confirmed = Signal()
