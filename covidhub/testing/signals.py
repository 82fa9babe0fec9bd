"""Events of the testing capability that other capabilities subscribe to.

Testing imports none of its subscribers: certificates listen to `result_released` to issue
test and recovery certificates, declarations listen to `positive_result_released` for
exposure tracing. Both are sent by the notification task after the result is committed,
once per released version of a person's outcome (an amendment sends them again).

`results_recorded` is the other kind: sent *inside* the transaction that releases or
amends results (`release.results_recorded_announce`, the one place), so that a receiver
writing in that transaction (the exchange outbox) commits or rolls back with the results.
"""

from __future__ import annotations

from django.dispatch import Signal

# sender=Result, result=Result, person=Person — every released individual outcome
# (negative, positive, pool positive, invalid); `result.version > 1` after an amendment.
result_released = Signal()

# sender=Result, person=Person, collected_at=datetime — a positive individual result.
positive_result_released = Signal()

# sender=Result, results=QuerySet[Result] — the results whose current version the sending
# transaction recorded (released, or amended to a new version); a queryset, not a list,
# so that a 200,000-result import is answered set-based (INSERT … SELECT).
results_recorded = Signal()
