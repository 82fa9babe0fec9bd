"""A deployment serving two provinces: each province's own figures, a picker between them,
open data per province, and nothing published for a province that is not served."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.utils import timezone

from covidhub.portal.models import StatCell
from covidhub.portal.rollup import stats_rollup

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_stats(records: Any, make_person: Any, two_provinces: dict[str, Any]) -> datetime.date:
    """Hải Dương: 12 people × 110 tests a day; Hà Nội: 8 people × 40 tests a day."""
    today = timezone.localdate()
    hai_duong = [make_person(full_name=f"Hải Dương {chr(65 + i)}") for i in range(12)]
    ha_noi = [
        make_person(
            commune=two_provinces["other_province_commune"], full_name=f"Hà Nội {chr(65 + i)}"
        )
        for i in range(8)
    ]
    for n in range(3):
        day = today - datetime.timedelta(days=n)
        for person in hai_duong:
            records.add(day, person, "tests", 110)
        for person in ha_noi:
            records.add(day, person, "tests", 40)
    stats_rollup()
    return today


def _tests_of(code: str, day: datetime.date) -> int:
    return StatCell.objects.get(area__level=1, area__code=code, metric="tests", day=day).value


def test_each_province_rolls_up_to_itself(two_stats: datetime.date) -> None:
    assert _tests_of("30", two_stats) == 12 * 110
    assert _tests_of("01", two_stats) == 8 * 40


def test_home_shows_the_first_province_with_a_picker(client: Any, two_stats: Any) -> None:
    home = client.get("/portal/").content.decode()
    assert "1.320" in home  # 12 × 110, Hải Dương's tests
    assert 'class="province-picker"' in home
    assert 'href="/portal/provinces/01/"' in home
    assert '<strong aria-current="page">Tỉnh Hải Dương</strong>' in home
    other = client.get("/portal/provinces/01/")
    assert other.status_code == 200
    page = other.content.decode()
    assert "Thành phố Hà Nội" in page and "320" in page and "1.320" not in page
    assert 'href="/portal/">Tỉnh Hải Dương' in page  # the way back to the home province
    assert "/portal/charts/1/01/tests.vi.svg" in page
    assert client.get("/portal/charts/1/01/tests.vi.svg").status_code == 200
    # The home province has its own address too (the home page adds the announcements).
    assert "1.320" in client.get("/portal/provinces/30/").content.decode()


def test_one_province_has_no_picker(client: Any, records: Any, people: Any) -> None:
    records.add(timezone.localdate(), people["commune"][0], "tests", 6)
    stats_rollup()
    assert 'class="province-picker"' not in client.get("/portal/").content.decode()


def test_a_province_that_is_not_served_is_not_published(
    client: Any, two_stats: Any, settings: Any
) -> None:
    from covidhub.portal import cache

    settings.PROVINCES = ["30"]
    cache.clear_local()
    assert client.get("/portal/provinces/01/").status_code == 404
    assert client.get("/portal/districts/001/").status_code == 404
    assert client.get("/portal/charts/1/01/tests.vi.svg").status_code == 404
    assert client.get("/portal/data/daily/01.json").status_code == 404
    assert client.get("/portal/provinces/99/").status_code == 404


def test_open_data_per_province(client: Any, two_stats: datetime.date) -> None:
    index = client.get("/portal/data/").content.decode()
    assert "/portal/data/daily/30.csv" in index and "/portal/data/daily/01.csv" in index
    data = json.loads(client.get("/portal/data/daily/01.json").content)
    assert data["area"]["code"] == "01"
    rows = [r for r in data["rows"] if r["area_level"] == 1 and r["date"] == str(two_stats)]
    assert rows[0]["tests"] == 320
    summary = json.loads(client.get("/portal/data/summary.json").content)
    assert summary["area"]["code"] == "30" and summary["tests"] == 1320
    assert [(p["area"]["code"], p["tests"]) for p in summary["provinces"]] == [
        ("30", 1320),
        ("01", 320),
    ]
