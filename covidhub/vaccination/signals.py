"""Signals for the capabilities above (certificates): vaccination does not import them.

`dose_recorded(sender, dose, person)` is sent after the transaction that recorded a dose
commits (here or elsewhere); `dose_corrected(sender, dose, person)` after a dose is voided
or corrected, so that whatever was issued from it can be revoked or re-issued.
"""

from __future__ import annotations

from django.dispatch import Signal

dose_recorded = Signal()
dose_corrected = Signal()
