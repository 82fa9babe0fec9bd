"""Reads of the outbox."""

from __future__ import annotations

from django.db.models import Count, Min
from django.utils import timezone

from covidhub.core.monitoring import QueueDepth
from covidhub.notifications.models import Message


def message_queue_depth() -> QueueDepth:
    """Messages not yet delivered (waiting, being sent, or between retries), for /metrics:
    a count that keeps growing means a gateway is down or the workers cannot keep up."""
    waiting = Message.objects.filter(
        status__in=[Message.Status.PENDING, Message.Status.SENDING]
    ).aggregate(count=Count("pk"), oldest=Min("created_at"))
    oldest = waiting["oldest"]
    return QueueDepth(
        int(waiting["count"]),
        max(0.0, (timezone.now() - oldest).total_seconds()) if oldest else None,
    )
