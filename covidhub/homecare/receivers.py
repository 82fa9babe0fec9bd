"""Reactions to other capabilities' events, connected in `HomecareConfig.ready()`.

Testing sends `result_released` inside the transaction that marks a result as notified; a
positive individual result opens the F0's home-care order in that same transaction, so a
released positive can never be missing its order. Testing does not know this app.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

logger = logging.getLogger("covidhub.homecare")


def on_result_released(sender: Any, result: Any, person: Any = None, **kwargs: Any) -> None:
    from covidhub.homecare.services.orders import order_from_positive_result
    from covidhub.testing.models import Result

    if person is None or result.outcome != Result.Outcome.POSITIVE:
        return
    try:
        with transaction.atomic():
            order_from_positive_result(result=result, person=person)
    except Exception:
        # Never block the release of results; the officer opens the order by hand.
        logger.exception("could not open a home-care order from a positive result")


def connect() -> None:
    from covidhub.testing.signals import result_released

    result_released.connect(on_result_released, dispatch_uid="homecare.result")
