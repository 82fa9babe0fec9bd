"""In Chromium: the portal's home page in Vietnamese and English, a chart beside its
table, and an announcement an editor publishes appearing on the home page and in the
feed; every page passes the automated accessibility checks (axe)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from conftest import _verified_client, axe_violations
from covidhub.portal.rollup import stats_rollup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def published_stats(records: Any, people: Any) -> datetime.date:
    today = timezone.localdate()
    for n in range(30):
        day = today - datetime.timedelta(days=n)
        for person in people["commune"]:
            records.add(day, person, "tests", 110)
            records.add(day, person, "doses", 3)
        records.add(day, people["far_commune"][0], "positives", 2 + n % 5)
        for person in people["far_commune"]:
            records.add(day, person, "tests", 3)
    stats_rollup()
    return today


def test_home_in_vietnamese_and_english_with_charts_and_tables(
    page: Any, live_server: Any, published_stats: datetime.date
) -> None:
    page.goto("/portal/")
    assert page.locator("h1").inner_text() == "Tình hình COVID-19 tại Tỉnh Hải Dương"
    assert "1.341" in page.locator(".figures").inner_text()  # 12 × 110 + 7 × 3 tests
    assert axe_violations(page) == []

    chart = page.locator("#chart-tests")
    image = chart.locator("img")
    image.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    table = chart.locator("table")
    # The numbers start folded (a phone's home page is not every table open); one tap opens.
    assert not table.is_visible()
    chart.locator("summary").click()
    assert table.is_visible()
    assert table.locator("tbody tr").count() == 28
    assert "1.341" in table.locator("tbody tr").last.inner_text()

    # English, through the language form (works without JavaScript as well)
    # Choosing a language submits the form (our small JS); wait for the new page.
    page.select_option("#language-select", "en")
    page.wait_for_function("document.documentElement.lang === 'en'")
    page.goto("/portal/")
    assert page.locator("h1").inner_text() == "COVID-19 in Tỉnh Hải Dương"
    figures = page.locator(".figures").inner_text()
    assert "New cases" in figures and "1,341" in figures
    assert axe_violations(page) == []
    page.goto("/portal/districts/288/")
    assert page.get_by_role("link", name="Phường Cẩm Thượng").is_visible()
    assert axe_violations(page) == []


def test_an_editor_publishes_an_announcement_that_appears_on_home_and_feed(
    page: Any, live_server: Any, editor: Any, area_tree: Any
) -> None:
    from covidhub.portal.models import Category

    # transactional tests flush the categories that a data migration creates
    Category.objects.get_or_create(
        slug="tiem-chung", defaults={"name_vi": "Tiêm chủng", "name_en": "Vaccination"}
    )
    client = _verified_client(editor)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto("/staff/portal/announcements/new/")
    assert axe_violations(page) == []
    page.get_by_label("Tiêu đề").fill("Tiêm mũi nhắc lại cho người trên 50 tuổi")
    page.get_by_label("Chuyên mục").select_option("tiem-chung")
    page.get_by_label("Tóm tắt").fill("Lịch tiêm tại các trạm y tế")
    page.get_by_label("Nội dung").fill(
        "<p>Người dân mang theo <strong>căn cước</strong>.</p><script>alert(1)</script>"
    )
    page.get_by_role("button", name="Lưu").click()
    page.wait_for_url("**/staff/portal/announcements/*/")
    page.get_by_role("button", name="Đăng", exact=True).click()
    page.wait_for_load_state("load")
    assert "Thông báo đã được đăng" in page.locator(".messages").inner_text()

    # a reader who is not signed in
    reader = page.context.browser.new_context(base_url=live_server.url, locale="vi-VN")
    public = reader.new_page()
    public.goto("/portal/")
    link = public.get_by_role("link", name="Tiêm mũi nhắc lại cho người trên 50 tuổi")
    assert link.is_visible()
    assert axe_violations(public) == []
    link.click()
    public.wait_for_load_state("load")
    assert public.locator("article strong").inner_text() == "căn cước"
    assert public.locator("article script").count() == 0
    assert axe_violations(public) == []
    feed = public.request.get(f"{live_server.url}/portal/feed/vi.atom")
    assert feed.ok and "Tiêm mũi nhắc lại cho người trên 50 tuổi" in feed.text()
    reader.close()


def test_guides_contact_and_open_data_pages_are_accessible(
    page: Any, live_server: Any, published_stats: datetime.date
) -> None:
    for path in (
        "/portal/guides/",
        "/portal/guides/declare/",
        "/portal/faq/",
        "/portal/contact/",
        "/portal/data/",
        "/portal/announcements/",
    ):
        page.goto(path)
        assert axe_violations(page) == [], path
    page.goto("/portal/embed/")
    assert axe_violations(page) == []
