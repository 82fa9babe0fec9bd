"""Daily counts that capabilities publish for the portal's statistics.

A capability registers a function in its `AppConfig.ready()`; the portal's rollups call
every registered function, so that the portal reads figures through each capability's
selectors without importing their models, and a capability does not know the portal.

A source function takes `since` and `until` (inclusive dates, Asia/Ho_Chi_Minh) and
returns rows `DailyCount(day, commune_id, metric, value)`; metric names are stable strings
such as "declarations", "checkins", "tests", "positives", "doses", "doses_dose1".
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class DailyCount:
    day: datetime.date
    commune_id: int | None
    metric: str
    value: int


DailyCountSource = Callable[[datetime.date, datetime.date], Iterable[DailyCount]]
_sources: dict[str, DailyCountSource] = {}


def register_daily_counts(name: str, source: DailyCountSource) -> None:
    _sources[name] = source


def daily_count_sources() -> dict[str, DailyCountSource]:
    return dict(sorted(_sources.items()))
