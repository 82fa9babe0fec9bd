"""Daily counts for the portal.

What counts (by the day the result was released, Asia/Ho_Chi_Minh, and the commune where
the person lived then):
- "tests": people who got a test outcome — a pooled tube of 10 counts 10 people; a
  pool-positive outcome counts (the person was tested) and so does their retest later;
  invalid outcomes (no result, a new sample taken) do not count.
- "positives": positive individual outcomes (pool-positive members are not cases until
  their individual retest is positive).
- "tests_pcr", "tests_rapid": "tests" split by test type.
Amended results count with their current outcome.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from covidhub.core.metrics import DailyCount
from covidhub.testing.models import Result, TestType

COUNTED = [Result.Outcome.NEGATIVE, Result.Outcome.POSITIVE, Result.Outcome.POOL_POSITIVE]


def _bounds(since: datetime.date, until: datetime.date) -> tuple[datetime.datetime, ...]:
    tz = timezone.get_default_timezone()
    start = datetime.datetime.combine(since, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(
        until + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
    )
    return start, end


def testing_daily_counts(since: datetime.date, until: datetime.date) -> Iterable[DailyCount]:
    start, end = _bounds(since, until)
    rows = (
        Result.objects.filter(released_at__gte=start, released_at__lt=end, outcome__in=COUNTED)
        .annotate(day=TruncDate("released_at", tzinfo=timezone.get_default_timezone()))
        .values("day", "commune_id", "test_type", "outcome")
        .annotate(n=Count("id"))
        .order_by()
    )
    totals: dict[tuple[datetime.date, int, str], int] = {}
    for row in rows:
        day, commune = row["day"], row["commune_id"]
        for metric, applies in (
            ("tests", True),
            ("positives", row["outcome"] == Result.Outcome.POSITIVE),
            ("tests_pcr", row["test_type"] == TestType.PCR),
            ("tests_rapid", row["test_type"] == TestType.RAPID),
        ):
            if applies:
                key = (day, commune, metric)
                totals[key] = totals.get(key, 0) + row["n"]
    for (day, commune, metric), value in sorted(totals.items()):
        yield DailyCount(day=day, commune_id=commune, metric=metric, value=value)
