from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from covidhub.core import metrics
from covidhub.core.metrics import DailyCount

REAL_SOURCES: dict[str, Any] = {}  # what the capabilities registered (for one test)


@pytest.fixture(autouse=True)
def _portal_isolation(settings: Any, monkeypatch: Any) -> Iterator[None]:
    """Each test sees only the daily-count sources it registers, and fresh caches."""
    from covidhub.portal import cache

    REAL_SOURCES.update(metrics._sources)
    monkeypatch.setattr(metrics, "_sources", {})
    settings.PORTAL_CONTACT_MIN_SECONDS = 0
    cache.clear_local()
    yield
    cache.clear_local()


class Records:
    """Underlying records for a fake capability: (day, person, metric) events that its
    registered source counts by day × commune, as a real capability's selector would."""

    def __init__(self) -> None:
        self.events: list[tuple[datetime.date, Any, str]] = []

    def add(self, day: datetime.date, person: Any, metric: str, times: int = 1) -> None:
        self.events.extend([(day, person, metric)] * times)

    def source(self, since: datetime.date, until: datetime.date) -> Iterable[DailyCount]:
        counts: dict[tuple[datetime.date, int, str], int] = {}
        for day, person, metric in self.events:
            if since <= day <= until:
                key = (day, person.commune_id, metric)
                counts[key] = counts.get(key, 0) + 1
        return [DailyCount(d, c, m, v) for (d, c, m), v in counts.items()]


@pytest.fixture
def records() -> Records:
    found = Records()
    metrics.register_daily_counts("test.records", found.source)
    return found


@pytest.fixture
def people(make_person: Callable[..., Any], area_tree: dict[str, Any]) -> dict[str, list[Any]]:
    """People in each of the three communes (names do not matter here)."""
    return {
        key: [
            make_person(commune=area_tree[key], full_name=f"Người Thử {chr(65 + i)}")
            for i in range(n)
        ]
        for key, n in (("commune", 12), ("neighbour_commune", 9), ("far_commune", 7))
    }


@pytest.fixture
def editor(make_staff: Callable[..., Any], area_tree: dict[str, Any]) -> Any:
    return make_staff("editor", "portal_editor", area_tree["province"])
