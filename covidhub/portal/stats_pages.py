"""What the statistics pages show: key figures, trends, charts with their tables, the
table of the areas below. Chart and table come from the same `chart_data`, so they always
show the same numbers."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from covidhub.areas.models import Area
from covidhub.areas.served import home_province_code
from covidhub.portal import formatting, selectors
from covidhub.portal.charts import Series
from covidhub.portal.selectors import Coverage, DayFigures, Figure, Rate

WINDOW_DAYS = 28
CHART_KINDS = ("cases", "tests", "positivity", "doses", "coverage")


@dataclass
class KeyFigure:
    label: str
    display: str
    official: bool = False
    trend: str = ""
    trend_label: str = ""
    note: str = ""


@dataclass
class ChartData:
    kind: str
    title: str
    days: list[datetime.date]
    series: list[Series]
    percent: bool
    headers: list[str]
    rows: list[list[str]]
    official_days: set[datetime.date] = field(default_factory=set)
    alt: str = ""


def area_url(area: Area) -> str:
    if area.level == Area.Level.PROVINCE:
        if area.code == home_province_code():
            return reverse("portal:home")
        return reverse("portal:province", args=[area.code])
    if area.level == Area.Level.DISTRICT:
        return reverse("portal:district", args=[area.code])
    return reverse("portal:commune", args=[area.code])


def _window(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    return day - datetime.timedelta(days=WINDOW_DAYS - 1), day


def _trend(
    now: Figure, before: Figure, before_day: datetime.date, language: str
) -> tuple[str, str]:
    if now.hidden or before.hidden or not before.value:
        return "", ""
    change = 100.0 * ((now.value or 0) - before.value) / before.value
    text = formatting.percent(abs(change), 0, language)
    when = formatting.date_short(before_day, language)
    if round(change) > 0:
        return f"▲ {text}", _("up %(change)s compared with %(day)s") % {"change": text, "day": when}
    if round(change) < 0:
        return f"▼ {text}", _("down %(change)s compared with %(day)s") % {
            "change": text,
            "day": when,
        }
    return "=", _("unchanged compared with %(day)s") % {"day": when}


def key_figures(*, area: Area, day: datetime.date, language: str) -> list[KeyFigure]:
    before_day = day - datetime.timedelta(days=7)
    series = {
        d.day: d
        for d in selectors.area_series(
            area=area,
            since=before_day,
            until=day,
            metrics=selectors.KEY_METRICS + selectors.CARE_METRICS,
        )
    }
    today, before = series[day], series[before_day]
    figures = []
    for metric, label in (
        ("cases", _("New cases")),
        ("tests", _("Tests")),
        ("doses", _("Doses given")),
        ("homecare", _("Under home care (F0)")),
        ("quarantine", _("In quarantine (F1)")),
        ("homecare_released", _("Recovered at home")),
        ("homecare_referred", _("Referred from home care")),
    ):
        figure = today.get(metric)
        trend, trend_label = _trend(figure, before.get(metric), before_day, language)
        figures.append(
            KeyFigure(
                label,
                figure.display(language),
                official=figure.official,
                trend=trend,
                trend_label=trend_label,
            )
        )
    figures.insert(2, KeyFigure(_("Positivity"), today.positivity.display(language)))
    coverage = selectors.coverage_for(areas=[area], day=day)[area.pk]
    for label, rate in (
        (_("Coverage: at least one dose"), coverage.dose1),
        (_("Coverage: full primary series"), coverage.full),
        (_("Coverage: booster"), coverage.booster),
    ):
        figures.append(KeyFigure(label, rate.display(language)))
    return figures


def _count_values(days: list[DayFigures], metric: str) -> list[float | None]:
    return [None if d.get(metric).hidden else float(d.get(metric).value or 0) for d in days]


def chart_data(*, area: Area, day: datetime.date, kind: str, language: str) -> ChartData:
    since, until = _window(day)
    place = area.name
    if kind == "coverage":
        cov = selectors.coverage_series(area=area, since=since, until=until)
        days = [d for d, _c in cov]

        def values(pick: str) -> list[float | None]:
            return [getattr(c, pick).value for _d, c in cov]

        labels = (_("At least one dose"), _("Full primary series"), _("Booster"))
        series = [
            Series(labels[0], values("dose1"), "line"),
            Series(labels[1], values("full"), "line"),
            Series(labels[2], values("booster"), "line"),
        ]
        rows = [
            [
                formatting.date_long(d, language),
                c.dose1.display(language),
                c.full.display(language),
                c.booster.display(language),
            ]
            for d, c in cov
        ]
        return ChartData(
            kind,
            _("Vaccination coverage, %(place)s") % {"place": place},
            days,
            series,
            True,
            [_("Day"), *labels],
            rows,
            alt=_("Line chart of the share of people vaccinated over the last %(n)s days.")
            % {"n": WINDOW_DAYS},
        )
    daily = selectors.area_series(area=area, since=since, until=until)
    days = [d.day for d in daily]
    if kind == "positivity":
        rates: list[Rate] = [d.positivity for d in daily]
        return ChartData(
            kind,
            _("Share of tests that were positive, %(place)s") % {"place": place},
            days,
            [Series(_("Positivity"), [r.value for r in rates], "line")],
            True,
            [_("Day"), _("Positive results"), _("Tests"), _("Positivity")],
            [
                [
                    formatting.date_long(d.day, language),
                    d.get("positives").display(language),
                    d.get("tests").display(language),
                    r.display(language),
                ]
                for d, r in zip(daily, rates, strict=True)
            ],
            alt=_("Line chart of test positivity over the last %(n)s days.") % {"n": WINDOW_DAYS},
        )
    metric, title, label = {
        "cases": ("cases", _("New cases per day, %(place)s"), _("New cases")),
        "tests": ("tests", _("Tests per day, %(place)s"), _("Tests")),
        "doses": ("doses", _("Vaccine doses given per day, %(place)s"), _("Doses given")),
    }[kind]
    rows = []
    official_days = set()
    for d in daily:
        figure = d.get(metric)
        text = figure.display(language)
        if figure.official:
            official_days.add(d.day)
            text = f"{text} †"
        rows.append([formatting.date_long(d.day, language), text])
    return ChartData(
        kind,
        title % {"place": place},
        days,
        [Series(label, _count_values(daily, metric))],
        False,
        [_("Day"), label],
        rows,
        official_days,
        alt=_("Bar chart of %(what)s per day over the last %(n)s days.")
        % {"what": label.lower(), "n": WINDOW_DAYS},
    )


@dataclass
class ChildRow:
    area: Area
    url: str
    figures: DayFigures
    coverage: Coverage
    cells: list[tuple[str, bool]]


def children_table(*, area: Area, day: datetime.date, language: str) -> list[ChildRow]:
    rows = []
    children = selectors.children_figures(
        parent=area, day=day, metrics=selectors.KEY_METRICS + selectors.CARE_METRICS
    )
    coverage = selectors.coverage_for(areas=[a for a, _f in children], day=day)
    for child, figures in children:
        cov = coverage[child.pk]
        cases = figures.get("cases")
        cells = [
            (cases.display(language) + (" †" if cases.official else ""), False),
            (figures.get("tests").display(language), False),
            (figures.positivity.display(language), False),
            (figures.get("doses").display(language), False),
            (cov.dose1.display(language), False),
            (cov.full.display(language), False),
            (figures.get("homecare").display(language), False),
            (figures.get("quarantine").display(language), False),
        ]
        rows.append(ChildRow(child, area_url(child), figures, cov, cells))
    return rows


def children_headers() -> list[str]:
    return [
        _("New cases"),
        _("Tests"),
        _("Positivity"),
        _("Doses given"),
        _("At least one dose"),
        _("Full primary series"),
        _("Under home care (F0)"),
        _("In quarantine (F1)"),
    ]


def stats_context(*, area: Area, language: str) -> dict[str, Any]:
    day = selectors.stats_latest_day()
    if day is None:
        return {"area": area, "day": None}
    since, until = _window(day)
    charts = [chart_data(area=area, day=day, kind=kind, language=language) for kind in CHART_KINDS]
    last_run = selectors.stats_last_run()
    context: dict[str, Any] = {
        "area": area,
        "day": day,
        "day_display": formatting.date_long(day, language),
        "updated_display": formatting.datetime_long(last_run.finished_at, language)
        if last_run
        else "",
        "key_figures": key_figures(area=area, day=day, language=language),
        "charts": [
            {
                "data": chart,
                "url": reverse("portal:chart", args=[area.level, area.code, chart.kind, language]),
            }
            for chart in charts
        ],
        "official_entries": selectors.official_entries_for(area=area, since=since, until=until),
        "children": children_table(area=area, day=day, language=language)
        if area.level < Area.Level.COMMUNE
        else [],
        "children_headers": children_headers(),
    }
    return context
