"""Writes on the exchange outbox by staff."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from covidhub.audit.services import audit_record
from covidhub.exchange.models import ExchangeRecord
from covidhub.exchange.selectors import exchange_records_for


def exchange_records_retry(*, actor: Any, endpoint: str = "", rejected: bool = False) -> int:
    """Put the actor's dead letters (of one endpoint, or all) back in the outbox, their
    attempts reset, and audit it; returns how many. Rejections only when asked
    (`rejected`): the partner refused the content, which a new send changes only once
    the cause is fixed on one side (a lot missing from its catalogue)."""
    S = ExchangeRecord.Status
    with transaction.atomic():
        dead = exchange_records_for(actor=actor).filter(
            status__in=(S.DEAD, S.REJECTED) if rejected else (S.DEAD,)
        )
        if endpoint:
            dead = dead.filter(endpoint=endpoint)
        pks = list(dead.select_for_update().values_list("pk", flat=True))
        now = timezone.now()
        count = ExchangeRecord.objects.filter(pk__in=pks).update(
            status=ExchangeRecord.Status.PENDING,
            attempts=0,
            next_attempt_at=now,
            done_at=None,
            reason="",
            updated_at=now,
        )
        audit_record(
            actor=actor,
            action="exchange.dead_letters.retried",
            details={"endpoint": endpoint, "count": count, "rejected": rejected},
        )
        if count:
            from covidhub.exchange.outbox import _kick

            transaction.on_commit(_kick)
    return count
