"""The published figures reconcile with the underlying records; small cells never leak."""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections import Counter

import pytest
from django.utils import timezone

from covidhub.areas.models import Area
from covidhub.core.metrics import DailyCount, register_daily_counts
from covidhub.portal.models import AreaPopulation, RollupRun, StatCell
from covidhub.portal.rollup import stats_rollup, stats_rollup_recent

pytestmark = pytest.mark.django_db


def _expected(records, tree):
    """Sums straight from the records, by (day, area code, metric), at every level."""
    sums = Counter()
    for day, person, metric in records.events:
        commune = person.commune
        for area in (commune, commune.parent, commune.parent.parent):
            sums[(day, area.code, metric)] += 1
    return sums


@pytest.fixture
def filled(records, people, area_tree):
    today = timezone.localdate()
    days = [today - datetime.timedelta(days=n) for n in range(10)]
    for n, day in enumerate(days):
        for i, person in enumerate(people["commune"]):
            records.add(day, person, "tests", 3 + (i + n) % 4)
            records.add(day, person, "doses", 1)
        for person in people["neighbour_commune"]:
            records.add(day, person, "tests", 2)
        for person in people["far_commune"]:
            records.add(day, person, "tests", 5)
        # a few positives: small numbers that must be suppressed
        records.add(day, people["commune"][n % 12], "positives", 1 + n % 3)
        records.add(day, people["far_commune"][0], "positives", 6)
        records.add(day, people["commune"][0], "doses_dose1", 1)
    return days


def test_published_figures_reconcile_with_the_records(filled, records, area_tree, client):
    result = stats_rollup()
    assert result.cells > 0
    expected = _expected(records, area_tree)
    stored = {
        (c.day, c.area.code, c.metric): c
        for c in StatCell.objects.select_related("area").exclude(metric="cases")
    }
    assert {k: c.value for k, c in stored.items()} == dict(expected)
    for cell in stored.values():
        assert cell.shown in (None, cell.value)
    # New cases without official entries are the positive results.
    for day, code, metric in expected:
        if metric == "positives":
            cases = StatCell.objects.get(day=day, area__code=code, metric="cases")
            assert cases.value == expected[(day, code, metric)]
            assert not cases.official

    # The open-data files publish exactly the stored figures (or a suppression mark).
    response = client.get("/portal/data/daily/30.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    checked = 0
    for row in rows:
        day = datetime.date.fromisoformat(row["date"])
        for metric in ("tests", "positives", "doses"):
            cell = stored.get((day, row["area_code"], metric))
            if cell is None:
                assert row[metric] == "0"
            elif cell.shown is None:
                assert row[metric] in ("<5", "*")
            else:
                assert int(row[metric]) == expected[(day, row["area_code"], metric)]
                checked += 1
    assert checked > 20
    data = json.loads(client.get("/portal/data/daily/288.json").content)
    for row in data["rows"]:
        day = datetime.date.fromisoformat(row["date"])
        cell = stored.get((day, row["area_code"], "tests"))
        assert row["tests"] == (cell.shown if cell else 0)

    # The home page shows the province's tests of the latest day, Vietnamese-formatted.
    province_tests = expected[(filled[0], "30", "tests")]
    page = client.get("/portal/").content.decode()
    assert f"{province_tests:,}".replace(",", ".") in page


def test_small_cells_are_suppressed_everywhere(filled, records, area_tree, client):
    stats_rollup()
    small = StatCell.objects.filter(metric="positives", level=3, value__gte=1, value__lte=4)
    assert small.exists()
    for cell in small:
        assert cell.shown is None and cell.suppression == "small"
        # the family partner (new cases) is withheld too
        cases = StatCell.objects.get(day=cell.day, area=cell.area, metric="cases")
        assert cases.shown is None
    # Complementary suppression: within each district and day no hidden cell is alone.
    for day in filled:
        for district in Area.objects.filter(level=2):
            members = [district, *Area.objects.filter(parent=district)]
            hidden = StatCell.objects.filter(
                day=day, metric="positives", area__in=members, shown__isnull=True
            ).count()
            assert hidden != 1
    # The JSON carries nulls and reasons, never the true value of a suppressed cell.
    data = json.loads(client.get("/portal/data/daily/288.json").content)
    commune_rows = [r for r in data["rows"] if r["area_code"] == "10507"]
    assert any(r["suppressed"].get("positives") == "small" for r in commune_rows)
    for row in commune_rows:
        if "positives" in row["suppressed"]:
            assert row["positives"] is None and row["positivity_pct"] is None


def test_official_entries_replace_platform_cases_and_are_marked(
    filled, records, area_tree, district_officer
):
    from covidhub.portal.services import official_count_enter

    day = filled[1]
    official_count_enter(
        actor=district_officer,
        area=area_tree["district"],
        day=day,
        cases=57,
        source="Bản tin Sở Y tế",
    )
    stats_rollup()
    cell = StatCell.objects.get(day=day, area=area_tree["district"], metric="cases")
    assert cell.value == 57 and cell.official
    province = StatCell.objects.get(day=day, area=area_tree["province"], metric="cases")
    far = StatCell.objects.get(day=day, area=area_tree["far_commune"], metric="cases").value
    assert province.value == 57 + far and province.official
    # positives (platform records) are unchanged
    positives = StatCell.objects.get(day=day, area=area_tree["district"], metric="positives")
    assert positives.value == _expected(records, area_tree)[(day, "288", "positives")]


def test_hourly_rollup_touches_only_recent_days(filled, records):
    stats_rollup()
    old_day = filled[-1]
    before = StatCell.objects.filter(day=old_day).count()
    records.events = [e for e in records.events if e[0] != old_day]
    stats_rollup_recent()
    assert StatCell.objects.filter(day=old_day).count() == before
    assert RollupRun.objects.filter(kind="hourly").exists()
    stats_rollup()
    assert StatCell.objects.filter(day=old_day).count() == 0


def test_population_and_coverage(filled, records, area_tree, people):
    stats_rollup()
    population = {p.area.code: p.population for p in AreaPopulation.objects.select_related("area")}
    assert population == {"10507": 12, "10510": 9, "10546": 7, "288": 21, "290": 7, "30": 28}
    from covidhub.portal.selectors import coverage_for

    coverage = coverage_for(areas=[area_tree["province"]], day=filled[0])
    # fewer than 100 people: coverage is withheld
    assert coverage[area_tree["province"].pk].dose1.withheld


def test_unknown_communes_count_in_the_province(records, people, area_tree):
    day = timezone.localdate()
    register_daily_counts(
        "test.unassigned", lambda since, until: [DailyCount(day, None, "tests", 40)]
    )
    records.add(day, people["commune"][0], "tests", 10)
    stats_rollup()
    assert StatCell.objects.get(day=day, area=area_tree["province"], metric="tests").value == 50
    assert StatCell.objects.get(day=day, area=area_tree["district"], metric="tests").value == 10


def test_scheduled_jobs_are_registered():
    from covidhub.core.schedule import jobs

    names = {job.name: job.every_seconds for job in jobs()}
    assert names["portal.rollup_recent"] == 3600
    assert names["portal.rollup_full"] == 86400
    assert names["portal.publish_due"] == 60
