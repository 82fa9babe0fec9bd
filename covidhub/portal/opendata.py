"""Open data: the published aggregates as CSV and JSON at stable URLs.

`/portal/data/daily/<code>.csv|json` — one row per day and area, for the province and its
districts (code of the province) or for a district and its communes (code of a district),
every day since the first figure; `/portal/data/daily/<code>/recent.csv|json` — the last
28 days only.
Suppressed cells are "<5" or "*" in CSV and null (with the reason) in JSON; the true values
of suppressed cells are never written.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db.models import Min, Sum
from django.utils import timezone

from covidhub.areas.models import Area
from covidhub.areas.served import is_served, served_provinces
from covidhub.core.spreadsheets import csv_safe
from covidhub.portal import selectors
from covidhub.portal.models import AreaPopulation, StatCell
from covidhub.portal.selectors import COVERAGE_METRICS, COVERAGE_MIN_POPULATION, Figure

COUNT_COLUMNS = (
    "cases",
    "tests",
    "positives",
    "doses",
    "doses_dose1",
    "doses_full",
    "doses_booster",
    "declarations",
    "checkins",
)
COVERAGE_COLUMNS = ("coverage_dose1_pct", "coverage_full_pct", "coverage_booster_pct")
COLUMNS = (
    "date",
    "area_code",
    "area_level",
    "area_name",
    *COUNT_COLUMNS,
    "cases_official",
    "positivity_pct",
    *COVERAGE_COLUMNS,
)
LICENCE = "CC BY 4.0"
RECENT_DAYS = 28


def scope_areas(code: str) -> list[Area]:
    """The areas of a data file: the province and its districts, or a district and its
    communes. Empty when the code names neither."""
    parent = Area.objects.filter(level__lt=Area.Level.COMMUNE, code=code).first()
    if parent is None or not is_served(parent):
        return []
    children = list(Area.objects.filter(parent=parent).order_by("name"))
    return [parent, *children]


def _rows(areas: list[Area], *, recent: bool = False) -> list[dict[str, Any]]:
    ids = [a.pk for a in areas]
    latest = selectors.stats_latest_day()
    first = StatCell.objects.filter(area_id__in=ids).aggregate(day=Min("day"))["day"]
    if latest is None or first is None:
        return []
    before: dict[tuple[int, str], int] = {}
    if recent:
        first = latest - datetime.timedelta(days=RECENT_DAYS - 1)
        before = {
            (area_id, metric): total or 0
            for area_id, metric, total in StatCell.objects.filter(
                area_id__in=ids, metric__in=COVERAGE_METRICS, day__lt=first
            )
            .order_by()
            .values("area_id", "metric")
            .annotate(total=Sum("value"))
            .values_list("area_id", "metric", "total")
        }
    cells: dict[tuple[int, datetime.date], dict[str, Figure]] = defaultdict(dict)
    increments: dict[tuple[int, datetime.date, str], int] = {}
    for area_id, day, metric, value, shown, suppression, official in StatCell.objects.filter(
        area_id__in=ids, day__gte=first, day__lte=latest
    ).values_list("area_id", "day", "metric", "value", "shown", "suppression", "official"):
        cells[(area_id, day)][metric] = Figure(shown, suppression, official)
        if metric in COVERAGE_METRICS:
            increments[(area_id, day, metric)] = value
    population = dict(
        AreaPopulation.objects.filter(area_id__in=ids).values_list("area_id", "population")
    )
    rows = []
    for area in areas:
        running: dict[str, int] = defaultdict(int)
        for metric in COVERAGE_METRICS:
            running[metric] = before.get((area.pk, metric), 0)
        pop = population.get(area.pk, 0)
        day = first
        while day <= latest:
            figures = cells.get((area.pk, day), {})
            for metric in COVERAGE_METRICS:
                running[metric] += increments.get((area.pk, day, metric), 0)
            row: dict[str, Any] = {
                "date": day.isoformat(),
                "area_code": area.code,
                "area_level": area.level,
                "area_name": area.name,
            }
            suppressed: dict[str, str] = {}
            for metric in COUNT_COLUMNS:
                figure = figures.get(metric, selectors.ZERO)
                row[metric] = figure.value
                if figure.hidden:
                    suppressed[metric] = figure.suppression
            row["cases_official"] = figures.get("cases", selectors.ZERO).official
            rate = selectors.positivity(
                figures.get("positives", selectors.ZERO), figures.get("tests", selectors.ZERO)
            )
            row["positivity_pct"] = rate.value
            if rate.withheld:
                suppressed["positivity_pct"] = "complementary"
            for column, metric in zip(COVERAGE_COLUMNS, COVERAGE_METRICS, strict=True):
                if pop >= COVERAGE_MIN_POPULATION:
                    row[column] = min(100.0, round(100.0 * running[metric] / pop, 1))
                else:
                    row[column] = None
                    suppressed[column] = "small"
            row["suppressed"] = suppressed
            rows.append(row)
            day += datetime.timedelta(days=1)
    return rows


def daily_csv(areas: list[Area], *, recent: bool = False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in _rows(areas, recent=recent):
        suppressed = row["suppressed"]
        line = []
        for column in COLUMNS:
            if column in suppressed:
                line.append("<5" if suppressed[column] == "small" else "*")
            elif isinstance(row[column], bool):
                line.append("1" if row[column] else "0")
            elif row[column] is None:
                line.append("")
            elif isinstance(row[column], str):
                line.append(csv_safe(row[column]))  # an area's name must not run as a formula
            else:
                line.append(str(row[column]))
        writer.writerow(line)
    return out.getvalue().encode("utf-8")


def daily_json(areas: list[Area], *, recent: bool = False) -> bytes:
    data = {
        "title": f"{settings.PLATFORM_NAME}: daily COVID-19 figures",
        "area": {"code": areas[0].code, "level": areas[0].level, "name": areas[0].name},
        "generated_at": timezone.now().isoformat(),
        "licence": LICENCE,
        "documentation": f"{settings.SITE_URL}/portal/data/",
        "columns": list(COLUMNS),
        "suppression": {
            "small": "a count from 0 to 4 (shown as <5)",
            "complementary": "a count of 5 or more, withheld so that small counts cannot be worked out (shown as *)",
        },
        "rows": _rows(areas, recent=recent),
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _summary(province: Area, day: datetime.date) -> dict[str, Any]:
    today = {d.day: d for d in selectors.area_series(area=province, since=day, until=day)}[day]
    coverage = selectors.coverage_for(areas=[province], day=day)[province.pk]
    figures: dict[str, Any] = {}
    for metric in ("cases", "tests", "positives", "doses"):
        figure = today.get(metric)
        figures[metric] = figure.value
        if figure.hidden:
            figures[f"{metric}_suppressed"] = figure.suppression
    figures["cases_official"] = today.get("cases").official
    figures["positivity_pct"] = today.positivity.value
    figures["coverage_dose1_pct"] = coverage.dose1.value
    figures["coverage_full_pct"] = coverage.full.value
    figures["coverage_booster_pct"] = coverage.booster.value
    return {"area": {"code": province.code, "name": province.name}, **figures}


def summary_json() -> bytes:
    """The home province's key figures of the latest day at the top level (as when a
    deployment served one province) and, under "provinces", every served province's."""
    provinces = served_provinces()
    day = selectors.stats_latest_day()
    if not provinces or day is None:
        return json.dumps({"day": None}).encode()
    each = [_summary(province, day) for province in provinces]
    return json.dumps(
        {**each[0], "day": day.isoformat(), "provinces": each}, ensure_ascii=False
    ).encode()
