"""Public pages: Vietnamese and English formats, charts beside tables, the embed, guides,
open data; officers' official entries (scoped, audited)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from covidhub.audit.models import AuditEvent
from covidhub.core.testing import run_queued_tasks
from covidhub.portal.models import OfficialCaseCount, StatCell
from covidhub.portal.rollup import stats_rollup

pytestmark = pytest.mark.django_db


@pytest.fixture
def stats(records, people):
    today = timezone.localdate()
    for n in range(30):
        day = today - datetime.timedelta(days=n)
        for person in people["commune"]:
            records.add(day, person, "tests", 110)
            records.add(day, person, "positives", 1)
        for person in people["far_commune"]:
            records.add(day, person, "tests", 3)
            records.add(day, person, "doses", 20)
    stats_rollup()
    return today


def test_home_in_vietnamese_and_english(client, stats):
    vi = client.get("/portal/").content.decode()
    # 12 × 110 + 9·0 + 7 × 3 = 1341 tests in the province: "1.341" in Vietnamese
    assert "1.341" in vi
    assert "Ca mắc mới" in vi and "New cases" not in vi
    assert stats.strftime("%d/%m/%Y") in vi
    en = client.get("/portal/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "1,341" in en and "New cases" in en
    assert f"{stats.day} " in en  # "17 Aug 2021"
    assert 'href="/"' in vi  # the way to the citizen services


def test_each_chart_has_a_table_and_an_svg(client, stats):
    page = client.get("/portal/").content.decode()
    for kind in ("cases", "tests", "positivity", "doses", "coverage"):
        assert f'id="chart-{kind}"' in page
        assert f"/portal/charts/1/30/{kind}.vi.svg" in page
        svg = client.get(f"/portal/charts/1/30/{kind}.vi.svg")
        assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
        assert svg.content.startswith(b"<?xml") and b"<svg" in svg.content
    svg = client.get("/portal/charts/1/30/tests.vi.svg").content.decode()
    assert "1.341" in page and ("1.000" in svg or "1.200" in svg or "1.250" in svg)
    assert client.get("/portal/charts/1/30/nope.vi.svg").status_code == 404
    # The tables are there, folded: open, five of them made the phone home page ~10,500 px.
    assert page.count('<details class="chart-table">') == 5
    assert '<details class="chart-table" open>' not in page


def test_district_and_commune_pages(client, stats, area_tree):
    district = client.get("/portal/districts/288/").content.decode()
    assert "Phường Cẩm Thượng" in district and "Phường Bình Hàn" in district
    assert 'href="/portal/communes/10507/"' in district
    commune = client.get("/portal/communes/10507/")
    assert commune.status_code == 200
    assert client.get("/portal/communes/99999/").status_code == 404
    assert client.get("/portal/districts/10507/").status_code == 404


def test_pages_are_served_from_cache(client, stats, django_assert_num_queries):
    client.get("/portal/")
    client.get("/portal/data/daily/30.csv")
    with django_assert_num_queries(0):
        assert client.get("/portal/").status_code == 200
        assert client.get("/portal/data/daily/30.csv").status_code == 200


def test_a_cached_page_carries_each_visitors_csrf_token(client, stats):
    from django.test import Client

    first = client.get("/portal/").content.decode()
    other = Client()
    second = other.get("/portal/")
    token = second.cookies["csrftoken"].value
    assert "portalcsrfplaceholder" not in second.content.decode()
    assert "portalcsrfplaceholder" not in first
    # the language form works for the second visitor with the shared page
    from django.test import Client as C

    strict = C(enforce_csrf_checks=True)
    page = strict.get("/portal/").content.decode()
    import re

    form_token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    response = strict.post(
        "/i18n/setlang/", {"language": "en", "next": "/portal/", "csrfmiddlewaretoken": form_token}
    )
    assert response.status_code == 302
    assert token


def test_the_embed_may_be_framed_and_nothing_else(client, stats):
    embed = client.get("/portal/embed/")
    assert embed.status_code == 200
    assert "X-Frame-Options" not in embed
    assert "1.341" in embed.content.decode()
    assert client.get("/portal/")["X-Frame-Options"] == "DENY"
    snippet = client.get("/portal/embed/snippet.html")
    assert snippet["Access-Control-Allow-Origin"] == "*"
    assert snippet.content.decode().lstrip().startswith("<div")


def test_guides_faq_and_data_pages(client, stats):
    from covidhub.portal.guides import GUIDES

    index = client.get("/portal/guides/").content.decode()
    assert len(GUIDES) == 8
    for guide in GUIDES:
        assert f"/portal/guides/{guide.key}/" in index
        assert client.get(f"/portal/guides/{guide.key}/").status_code == 200
    assert client.get("/portal/guides/unknown/").status_code == 404
    assert "02203.897.353" in client.get("/portal/faq/").content.decode()
    data = client.get("/portal/data/").content.decode()
    assert "/portal/data/daily/30.csv" in data and "/portal/data/daily/288.json" in data
    assert "/portal/data/daily/288/recent.csv" in data
    assert client.get("/portal/data/daily/10507.csv").status_code == 404
    summary = client.get("/portal/data/summary.json").json()
    assert summary["tests"] == 1341


def test_guide_buttons_open_their_task_not_the_home_page(client):
    from django.urls import reverse

    from covidhub.core.tasks_catalog import entry_url_name
    from covidhub.portal.guides import GUIDES

    for guide in GUIDES:
        if guide.key == "install":
            continue
        html = client.get(f"/portal/guides/{guide.key}/").content.decode()
        target = reverse(entry_url_name(guide.key))
        assert target != "/"
        assert f'class="button" href="{target}"' in html, guide.key


def test_officer_enters_official_counts_in_their_area_only(
    commune_officer,
    district_officer,
    neighbour_officer,
    login,
    area_tree,
    stats,
    django_capture_on_commit_callbacks,
    client,
):
    from covidhub.core.errors import NotFound
    from covidhub.portal.services import official_count_enter

    day = stats - datetime.timedelta(days=1)
    staff = login(district_officer)
    page = staff.get("/staff/portal/official-counts/").content.decode()
    assert "Phường Cẩm Thượng" in page and "Phường Sao Đỏ" not in page
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            "/staff/portal/official-counts/",
            {
                "area": "10507",
                "day": day.strftime("%d/%m/%Y"),
                "cases": "44",
                "source": "Bản tin Bộ Y tế 18 giờ",
            },
        )
    assert response.status_code == 302
    entry = OfficialCaseCount.objects.get()
    assert entry.cases == 44 and entry.entered_by == district_officer
    event = AuditEvent.objects.get(action="portal.official_count.entered")
    assert event.details["cases"] == 44 and event.details["previous"] is None
    run_queued_tasks()  # the rollup of that day
    cell = StatCell.objects.get(day=day, area=area_tree["commune"], metric="cases")
    assert cell.value == 44 and cell.official
    page = client.get("/portal/communes/10507/").content.decode()
    assert "Bản tin Bộ Y tế 18 giờ" in page and "†" in page

    # the neighbouring commune's officer cannot enter or remove it
    with pytest.raises(NotFound):
        official_count_enter(
            actor=neighbour_officer, area=area_tree["commune"], day=day, cases=1, source="xyz"
        )
    other = login(neighbour_officer)
    assert other.post(f"/staff/portal/official-counts/{entry.uuid}/remove/").status_code == 404
    bad = other.post(
        "/staff/portal/official-counts/",
        {"area": "10507", "day": day.strftime("%d/%m/%Y"), "cases": "1", "source": "xyz"},
    )
    assert bad.status_code == 400
    assert OfficialCaseCount.objects.get().cases == 44
    # a correction replaces the figure and records the previous one
    official_count_enter(
        actor=commune_officer, area=area_tree["commune"], day=day, cases=45, source="Đính chính"
    )
    assert OfficialCaseCount.objects.get().cases == 45
    assert AuditEvent.objects.filter(
        action="portal.official_count.entered", details__previous=44
    ).exists()


def test_official_count_input_errors(commune_officer, area_tree):
    from covidhub.core.errors import InvalidInput
    from covidhub.portal.services import official_count_enter

    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(InvalidInput) as error:
        official_count_enter(
            actor=commune_officer, area=area_tree["commune"], day=tomorrow, cases=-1, source=""
        )
    assert set(error.value.details["fields"]) == {"day", "cases", "source"}
    assert not OfficialCaseCount.objects.exists()


def test_public_api(client, stats, editor):
    from covidhub.portal.models import Announcement, Category

    now = timezone.now()
    Announcement.objects.create(
        slug="a",
        language="vi",
        title="Thông báo",
        body="<p>x</p>",
        category=Category.objects.first(),
        status="published",
        publish_at=now,
        published_at=now,
        created_by=editor,
        updated_by=editor,
    )
    assert client.get("/api/v1/portal/summary").json()["tests"] == 1341
    daily = client.get("/api/v1/portal/daily/288").json()
    assert {r["area_code"] for r in daily["rows"]} == {"288", "10507", "10510"}
    assert client.get("/api/v1/portal/daily/1").status_code == 404
    items = client.get("/api/v1/portal/announcements").json()["items"]
    assert items[0]["title"] == "Thông báo" and items[0]["url"].endswith("/portal/announcements/a/")


def test_open_data_files_recent_gzip_and_etag(client, stats):
    import gzip

    full = client.get("/portal/data/daily/30.csv")
    recent = client.get("/portal/data/daily/30/recent.csv")
    assert recent.status_code == 200
    full_rows = full.content.decode().splitlines()
    recent_rows = recent.content.decode().splitlines()
    assert len(recent_rows) == 1 + 28 * 3  # header; the province and its two districts
    assert set(recent_rows[1:]) <= set(full_rows[1:])
    zipped = client.get("/portal/data/daily/30.csv", HTTP_ACCEPT_ENCODING="gzip, br")
    assert zipped["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.content) == full.content
    again = client.get("/portal/data/daily/30.csv", HTTP_IF_NONE_MATCH=full["ETag"])
    assert again.status_code == 304
    assert client.get("/portal/data/daily/99/recent.json").status_code == 404


def test_open_data_csv_writes_a_formula_like_area_name_as_text(client, stats, area_tree):
    """Finding 12: a text cell that starts with = + - @ would run in a spreadsheet."""
    import csv
    import io

    from covidhub.areas.models import Area

    evil = '=HYPERLINK("http://evil.example","Số liệu")'
    Area.objects.filter(pk=area_tree["other_district"].pk).update(name=evil)
    body = client.get("/portal/data/daily/30/recent.csv").content.decode()
    names = {row["area_name"] for row in csv.DictReader(io.StringIO(body))}
    assert "'" + evil in names
    assert not any(name.startswith(("=", "+", "-", "@")) for name in names)
