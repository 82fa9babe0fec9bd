"""Signals for the capabilities above (certificates): vaccination does not import them.

`dose_recorded(sender, dose, person)` is sent inside the transaction that records a dose
(here or elsewhere), once the dose is written; `dose_corrected(sender, dose, person)`
inside the transaction that voids or corrects one, so that whatever was issued from it
can be revoked or re-issued. A receiver may write in that transaction (what it writes
commits or rolls back with the dose: an outbox); anything it does outside the database
waits for the commit (`transaction.on_commit`).
"""

from __future__ import annotations

from django.dispatch import Signal

dose_recorded = Signal()
dose_corrected = Signal()
