"""Reactions to other capabilities' events, connected in `DeclarationsConfig.ready()`.

Testing sends `covidhub.testing.signals.positive_result_released` when a positive result
is released; this capability proposes a confirmed case from it, without testing knowing
about exposure tracing.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from covidhub.declarations.services import case_candidate_from_positive

logger = logging.getLogger("covidhub.declarations")


def _as_date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        from django.utils import timezone

        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    if isinstance(value, datetime.date):
        return value
    return None


def positive_result_received(sender: Any, **kwargs: Any) -> None:
    """A positive result proposes a case (F0) that an officer of the person's area approves."""
    person = kwargs.get("person")
    if person is None:
        logger.warning("positive result signal without a person; ignored")
        return
    onset = None
    for name in ("onset", "onset_date", "collected_on", "collected_at", "sampled_at"):
        onset = _as_date(kwargs.get(name))
        if onset is not None:
            break
    result = kwargs.get("result")
    reference = getattr(result, "uuid", None) or kwargs.get("result_uuid") or ""
    try:
        case_candidate_from_positive(person=person, onset=onset, source_reference=str(reference))
    except Exception:
        # Never break the release of results: the officer can still propose the case.
        logger.exception("could not propose a case from a positive result")
