from __future__ import annotations

import datetime

from django.tasks import task
from django.utils import timezone

from covidhub.core.idempotency import idempotency_prune


@task()
def housekeeping() -> dict[str, int]:
    """Hourly: forget old idempotency keys and claimed schedule slots."""
    from covidhub.core.models import ScheduledRun

    day_ago = timezone.now() - datetime.timedelta(days=1)
    runs, _r = ScheduledRun.objects.filter(created_at__lt=day_ago).delete()
    return {"idempotency": idempotency_prune(), "runs": runs}


@task()
def partitions_maintain() -> dict[str, list[str]]:
    """Daily: create the partitions of the days and months ahead (DDL only; see
    covidhub.core.partitions). Expired partitions are dropped by the retention jobs."""
    from covidhub.core import partitions

    return partitions.partitions_maintain()
