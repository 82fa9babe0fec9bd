"""The statistics rollup: every registered daily-count source → aggregate tables.

The capabilities register functions with `covidhub.core.metrics.register_daily_counts`; the
rollup calls them all for a range of days, adds up their rows by day × commune × metric,
rolls them up to the district and the province, lays the officers' official case counts
over the platform's positive results, decides suppression, and replaces the range's cells
in one transaction (readers see the old figures or the new ones, never half).

The hourly run recomputes the last few days (late results change them); the daily run
recomputes everything since `PORTAL_STATS_START`.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from covidhub.areas.models import Area
from covidhub.areas.served import home_province_code
from covidhub.core.metrics import DailyCount, daily_count_sources
from covidhub.people.models import Person
from covidhub.portal import cache as portal_cache
from covidhub.portal.models import AreaPopulation, OfficialCaseCount, RollupRun, StatCell
from covidhub.portal.suppression import Equation, suppress_day

logger = logging.getLogger(__name__)

RECENT_DAYS = 3
CASES = "cases"
POSITIVES = "positives"


def stats_start() -> datetime.date:
    value = getattr(settings, "PORTAL_STATS_START", None)
    return value if isinstance(value, datetime.date) else datetime.date(2020, 1, 1)


@dataclass(frozen=True)
class AreaTree:
    level: dict[int, int]
    parent: dict[int, int | None]
    province: int | None
    equations: tuple[Equation, ...]

    @classmethod
    def load(cls) -> AreaTree:
        rows = list(Area.objects.values_list("id", "level", "parent_id", "code").order_by("path"))
        level = {pk: lvl for pk, lvl, _p, _c in rows}
        parent: dict[int, int | None] = {pk: p for pk, _l, p, _c in rows}
        home = home_province_code()
        provinces = [(code != home, pk) for pk, lvl, _p, code in rows if lvl == 1]
        province = min(provinces)[1] if provinces else None
        children: dict[int, list[int]] = defaultdict(list)
        for pk, _lvl, p, _c in rows:
            if p is not None:
                children[p].append(pk)
        equations = tuple(Equation(p, tuple(kids)) for p, kids in children.items())
        return cls(level=level, parent=parent, province=province, equations=equations)

    def ancestors(self, area_id: int) -> list[int]:
        """The area and every area above it."""
        chain = [area_id]
        current = self.parent.get(area_id)
        while current is not None:
            chain.append(current)
            current = self.parent.get(current)
        return chain


@dataclass(frozen=True)
class RollupResult:
    since: datetime.date
    until: datetime.date
    cells: int
    seconds: float
    sources: tuple[str, ...]


def _collect(
    tree: AreaTree, since: datetime.date, until: datetime.date
) -> tuple[dict[tuple[datetime.date, int, str], int], list[str]]:
    """Call every source; sum their rows by (day, commune, metric) and up the tree.

    A row without a known commune still counts in the province's figure.
    """
    commune_counts: dict[tuple[datetime.date, int, str], int] = defaultdict(int)
    names = []
    for name, source in daily_count_sources().items():
        names.append(name)
        rows: Iterable[DailyCount] = source(since, until)
        for row in rows:
            if not since <= row.day <= until or row.value == 0:
                continue
            if row.value < 0:
                raise ValueError(f"daily-count source {name} returned a negative count")
            area = row.commune_id if row.commune_id in tree.level else tree.province
            if area is None:
                continue
            commune_counts[(row.day, area, row.metric)] += int(row.value)
    totals: dict[tuple[datetime.date, int, str], int] = defaultdict(int)
    for (day, area, metric), value in commune_counts.items():
        for ancestor in tree.ancestors(area):
            totals[(day, ancestor, metric)] += value
    return totals, names


def _overlay_cases(
    tree: AreaTree,
    totals: dict[tuple[datetime.date, int, str], int],
    since: datetime.date,
    until: datetime.date,
) -> set[tuple[datetime.date, int]]:
    """New cases: an officer's official count where there is one, otherwise the sum of
    the areas below (communes: the platform's positive results). Returns official cells."""
    official = {
        (day, area): cases
        for day, area, cases in OfficialCaseCount.objects.filter(
            day__gte=since, day__lte=until
        ).values_list("day", "area_id", "cases")
    }
    days = {day for day, _a, _m in totals} | {day for day, _a in official}
    by_level = sorted(tree.level, key=lambda pk: -tree.level[pk])  # communes first
    children: dict[int, list[int]] = defaultdict(list)
    for pk, parent in tree.parent.items():
        if parent is not None:
            children[parent].append(pk)
    marked: set[tuple[datetime.date, int]] = set()
    for day in days:
        for area in by_level:
            if (day, area) in official:
                value = official[(day, area)]
                marked.add((day, area))
            elif area in children:
                value = sum(totals.get((day, kid, CASES), 0) for kid in children[area])
                if area == tree.province:
                    # Positives whose commune is unknown count at the province only.
                    value += totals.get((day, area, POSITIVES), 0) - sum(
                        totals.get((day, kid, POSITIVES), 0) for kid in children[area]
                    )
                if any((day, kid) in marked for kid in children[area]):
                    marked.add((day, area))
            else:
                value = totals.get((day, area, POSITIVES), 0)
            if value:
                totals[(day, area, CASES)] = value
            else:
                totals.pop((day, area, CASES), None)
    return marked


def _population_refresh(tree: AreaTree) -> None:
    counts: dict[int, int] = defaultdict(int)
    for commune_id, n in (
        Person.objects.order_by()
        .values("commune_id")
        .annotate(n=Count("id"))
        .values_list("commune_id", "n")
    ):
        for ancestor in tree.ancestors(commune_id):
            counts[ancestor] += n
    AreaPopulation.objects.all().delete()
    AreaPopulation.objects.bulk_create(
        [
            AreaPopulation(area_id=area, level=tree.level.get(area, 0), population=n)
            for area, n in sorted(counts.items())
        ]
    )


COLUMNS = ("day", "area_id", "level", "metric", "value", "shown", "suppression", "official")


def _write(rows: list[tuple[object, ...]]) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(  # type: ignore[attr-defined]
                f"COPY {StatCell._meta.db_table} ({', '.join(COLUMNS)}) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(row)
        return
    StatCell.objects.bulk_create(
        [StatCell(**dict(zip(COLUMNS, row, strict=True))) for row in rows],  # type: ignore[misc]
        batch_size=2000,
    )


def stats_rollup(
    *,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
    kind: str = RollupRun.Kind.MANUAL,
) -> RollupResult:
    """Recompute the published statistics for the days `since`..`until` (inclusive).

    Defaults: from `PORTAL_STATS_START` to today (Asia/Ho_Chi_Minh).
    """
    started_at = timezone.now()
    started = time.perf_counter()
    until = until or timezone.localdate()
    since = since or stats_start()
    tree = AreaTree.load()
    totals, names = _collect(tree, since, until)
    official = _overlay_cases(tree, totals, since, until)

    by_day: dict[datetime.date, dict[tuple[str, int], int]] = defaultdict(dict)
    for (day, area, metric), value in totals.items():
        by_day[day][(metric, area)] = value
    rows: list[tuple[object, ...]] = []
    for day in sorted(by_day):
        values = by_day[day]
        hidden = suppress_day(values, tree.equations)
        for key in sorted(set(values) | set(hidden), key=lambda k: (k[1], k[0])):
            metric, area = key
            value = values.get(key, 0)
            suppression = hidden.get(key, "")
            rows.append(
                (
                    day,
                    area,
                    tree.level.get(area, 0),
                    metric,
                    value,
                    None if suppression else value,
                    suppression,
                    metric == CASES and (day, area) in official,
                )
            )
    with transaction.atomic():
        StatCell.objects.filter(day__gte=since, day__lte=until).delete()
        _write(rows)
        _population_refresh(tree)
        RollupRun.objects.create(
            kind=kind,
            since=since,
            until=until,
            started_at=started_at,
            finished_at=timezone.now(),
            cells=len(rows),
            sources=names,
        )
        transaction.on_commit(portal_cache.bump)
    seconds = time.perf_counter() - started
    logger.info("portal rollup %s..%s: %d cells in %.1f s", since, until, len(rows), seconds)
    return RollupResult(since, until, len(rows), seconds, tuple(names))


def stats_rollup_recent() -> RollupResult:
    today = timezone.localdate()
    return stats_rollup(
        since=today - datetime.timedelta(days=RECENT_DAYS - 1),
        until=today,
        kind=RollupRun.Kind.HOURLY,
    )


def stats_rollup_full() -> RollupResult:
    return stats_rollup(kind=RollupRun.Kind.DAILY)
