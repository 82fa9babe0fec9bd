"""Reads of the published statistics: only `shown` values leave these functions (true
values of suppressed cells never do), except coverage, which is a rounded share of a
population large enough not to point at anyone."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import Max, Sum
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from covidhub.areas.models import Area
from covidhub.portal import formatting
from covidhub.portal.models import AreaPopulation, OfficialCaseCount, RollupRun, StatCell
from covidhub.portal.suppression import COMPLEMENTARY, SMALL, SMALL_MAX

# Coverage is not published for fewer people than this (a share of a handful points at them).
COVERAGE_MIN_POPULATION = 100

METRIC_LABELS: dict[str, str | Promise] = {
    "cases": _("New cases"),
    "positives": _("Positive results"),
    "tests": _("Tests"),
    "doses": _("Doses given"),
    "doses_dose1": _("People reaching one dose"),
    "doses_full": _("People completing the primary series"),
    "doses_booster": _("People receiving a booster"),
    "declarations": _("Health declarations"),
    "checkins": _("Venue check-ins"),
}
KEY_METRICS = ("cases", "tests", "positives", "doses", "doses_dose1", "doses_full", "doses_booster")
# People under home care (F0) and in quarantine (F1) each day, and the day's releases of F0
# (recoveries) and referrals to treatment facilities (covidhub.homecare's daily counts).
CARE_METRICS = ("homecare", "quarantine", "homecare_released", "homecare_referred")
COVERAGE_METRICS = ("doses_dose1", "doses_full", "doses_booster")


@dataclass(frozen=True)
class Figure:
    """A published count: its value, or why it is withheld."""

    value: int | None
    suppression: str = ""
    official: bool = False

    @property
    def hidden(self) -> bool:
        return self.value is None

    def display(self, language: str | None = None) -> str:
        if self.suppression == SMALL:
            return f"<{SMALL_MAX + 1}"
        if self.suppression == COMPLEMENTARY:
            return "*"
        return formatting.number(self.value or 0, language)


ZERO = Figure(0)


@dataclass(frozen=True)
class Rate:
    """A derived percentage (positivity, coverage); None when it cannot be published."""

    value: float | None
    withheld: bool = False

    def display(self, language: str | None = None) -> str:
        if self.withheld:
            return "*"
        if self.value is None:
            return "–"
        return formatting.percent(self.value, 1, language)


def positivity(positives: Figure, tests: Figure) -> Rate:
    if positives.hidden or tests.hidden:
        return Rate(None, withheld=True)
    if not tests.value:
        return Rate(None)
    return Rate(round(100.0 * (positives.value or 0) / tests.value, 1))


@dataclass(frozen=True)
class Coverage:
    population: int
    dose1: Rate
    full: Rate
    booster: Rate


@dataclass
class DayFigures:
    day: datetime.date
    figures: dict[str, Figure] = field(default_factory=dict)

    def get(self, metric: str) -> Figure:
        return self.figures.get(metric, ZERO)

    @property
    def positivity(self) -> Rate:
        return positivity(self.get("positives"), self.get("tests"))


def stats_latest_day() -> datetime.date | None:
    value = StatCell.objects.filter(level=Area.Level.PROVINCE).aggregate(day=Max("day"))["day"]
    return value  # type: ignore[no-any-return]


def stats_last_run() -> RollupRun | None:
    return RollupRun.objects.order_by("-finished_at").first()


def area_series(
    *, area: Area, since: datetime.date, until: datetime.date, metrics: Sequence[str] = KEY_METRICS
) -> list[DayFigures]:
    """One area's published figures for each day since..until (missing days are zeros)."""
    days: dict[datetime.date, DayFigures] = {}
    day = since
    while day <= until:
        days[day] = DayFigures(day)
        day += datetime.timedelta(days=1)
    for cell_day, metric, shown, suppression, official in StatCell.objects.filter(
        area=area, day__gte=since, day__lte=until, metric__in=metrics
    ).values_list("day", "metric", "shown", "suppression", "official"):
        days[cell_day].figures[metric] = Figure(shown, suppression, official)
    return list(days.values())


def children_figures(
    *, parent: Area, day: datetime.date, metrics: Sequence[str] = KEY_METRICS
) -> list[tuple[Area, DayFigures]]:
    children = list(Area.objects.filter(parent=parent, dissolved_on__isnull=True).order_by("name"))
    by_area: dict[int, DayFigures] = {child.pk: DayFigures(day) for child in children}
    for area_id, metric, shown, suppression, official in StatCell.objects.filter(
        area_id__in=list(by_area), day=day, metric__in=metrics
    ).values_list("area_id", "metric", "shown", "suppression", "official"):
        by_area[area_id].figures[metric] = Figure(shown, suppression, official)
    return [(child, by_area[child.pk]) for child in children]


def _rate(count: int, population: int) -> Rate:
    if population < COVERAGE_MIN_POPULATION:
        return Rate(None, withheld=True)
    return Rate(min(100.0, round(100.0 * count / population, 1)))


def coverage_for(*, areas: Iterable[Area], day: datetime.date) -> dict[int, Coverage]:
    """Coverage on `day`: people who reached each stage so far / people registered."""
    ids = [a.pk for a in areas]
    population = dict(
        AreaPopulation.objects.filter(area_id__in=ids).values_list("area_id", "population")
    )
    sums: dict[tuple[int, str], int] = {
        (area_id, metric): total or 0
        for area_id, metric, total in StatCell.objects.filter(
            area_id__in=ids, metric__in=COVERAGE_METRICS, day__lte=day
        )
        .order_by()
        .values("area_id", "metric")
        .annotate(total=Sum("value"))
        .values_list("area_id", "metric", "total")
    }
    result = {}
    for area_id in ids:
        pop = population.get(area_id, 0)
        result[area_id] = Coverage(
            population=pop,
            dose1=_rate(sums.get((area_id, "doses_dose1"), 0), pop),
            full=_rate(sums.get((area_id, "doses_full"), 0), pop),
            booster=_rate(sums.get((area_id, "doses_booster"), 0), pop),
        )
    return result


def coverage_series(
    *, area: Area, since: datetime.date, until: datetime.date
) -> list[tuple[datetime.date, Coverage]]:
    pop = AreaPopulation.objects.filter(area=area).values_list("population", flat=True).first() or 0
    running: dict[str, int] = defaultdict(int)
    for metric, total in (
        StatCell.objects.filter(area=area, metric__in=COVERAGE_METRICS, day__lt=since)
        .order_by()
        .values("metric")
        .annotate(total=Sum("value"))
        .values_list("metric", "total")
    ):
        running[metric] = total or 0
    daily: dict[tuple[datetime.date, str], int] = {
        (d, m): v
        for d, m, v in StatCell.objects.filter(
            area=area, metric__in=COVERAGE_METRICS, day__gte=since, day__lte=until
        ).values_list("day", "metric", "value")
    }
    series = []
    day = since
    while day <= until:
        for metric in COVERAGE_METRICS:
            running[metric] += daily.get((day, metric), 0)
        series.append(
            (
                day,
                Coverage(
                    pop,
                    _rate(running["doses_dose1"], pop),
                    _rate(running["doses_full"], pop),
                    _rate(running["doses_booster"], pop),
                ),
            )
        )
        day += datetime.timedelta(days=1)
    return series


def official_entries_for(
    *, area: Area, since: datetime.date, until: datetime.date
) -> list[OfficialCaseCount]:
    """Official case entries shown with their source (the figures are public)."""
    return list(
        OfficialCaseCount.objects.filter(
            area__path__startswith=area.path, day__gte=since, day__lte=until
        )
        .select_related("area")
        .order_by("-day", "area__path")
    )
