"""The walk-through of issue 21 in Chromium: a positive result turns into a home-care
order; a week of self-checks with one warning sign (sent from the page) becomes an alert
that a station officer closes; the person is released with a paper; the status card and
the portal follow each step."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from conftest import axe_violations
from covidhub.homecare.models import CareAlert, CareOrder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, client, live_server):
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def _card_text(page):
    page.goto("/certificates/")
    return page.locator("main").inner_text()


def _portal_figure(page, code, label):
    from covidhub.portal.rollup import stats_rollup

    today = timezone.localdate()
    stats_rollup(since=today - datetime.timedelta(days=10), until=today)
    page.goto(f"/portal/communes/{code}/")
    text = page.locator("main").inner_text()
    match = re.search(re.escape(label) + r"\s*\n?\s*(\S+)", text)
    return match.group(1) if match else None


def test_positive_result_to_release_with_the_card_and_portal_following(
    page, live_server, citizen, citizen_person, commune_officer, make_result, login, area_tree
):
    from covidhub.homecare.services.checks import self_check_submit
    from covidhub.homecare.validation import SelfCheckInput
    from covidhub.testing.notify import results_notify_pending

    code = area_tree["commune"].code
    # 1. A positive result collected 8 days ago is released: the order opens.
    make_result(citizen_person, "positive", timezone.now() - datetime.timedelta(days=8))
    results_notify_pending()
    order = CareOrder.objects.get(person=citizen_person, status="open")
    citizen_client = login(citizen)
    _sign_in(page, citizen_client, live_server)
    card = _card_text(page)
    assert "ca bệnh COVID-19" in card  # red, with the reason
    assert _portal_figure(page, code, "Đang chăm sóc tại nhà (F0)") == "<5"

    # 2. A week of checks (sent from the phone on their days), then today's from the page.
    for day in range(7, 0, -1):
        self_check_submit(
            actor=citizen,
            order=order,
            data=SelfCheckInput(
                client_key=f"walk-{day:02d}-abcdef",
                measured_at=timezone.now() - datetime.timedelta(days=day),
                temperature=Decimal("37.0"),
                spo2=97,
            ),
        )
    page.goto("/homecare/")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Gửi phiếu theo dõi hôm nay").click()
    page.get_by_label("SpO2 (%), đo bằng máy kẹp ngón tay").fill("150")
    page.get_by_role("button", name="Gửi phiếu").click()
    assert page.get_by_text("SpO2 là tỉ lệ phần trăm").first.is_visible()
    assert axe_violations(page) == []
    page.get_by_label("SpO2 (%), đo bằng máy kẹp ngón tay").fill("93")
    page.get_by_label("Nhiệt độ (°C)").fill("37,2")
    page.get_by_label("Không có triệu chứng").check()
    page.get_by_role("button", name="Gửi phiếu").click()
    page.wait_for_url("**/homecare/")
    assert page.get_by_text("Trạm y tế đã được báo").is_visible()
    alert = CareAlert.objects.get(order=order)
    assert alert.signs == ["spo2_low"] and alert.status == "open"

    # 3. The station officer sees who needs a call and closes the alert.
    _sign_in(page, login(commune_officer), live_server)
    page.goto("/staff/homecare/")
    assert axe_violations(page) == []
    # The open alert comes first, before the list of people under care.
    page.get_by_role("link", name=citizen_person.full_name).first.click()
    page.wait_for_url(f"**/staff/homecare/alerts/{alert.uuid}/")
    page.get_by_role("button", name="Tôi nhận xử lý cảnh báo này").click()
    page.get_by_label("Đã gọi điện").check()
    page.get_by_label("Ghi chú").fill("Đo lại SpO2 97 %")
    page.get_by_role("button", name="Đóng cảnh báo").click()
    page.wait_for_url(f"**/staff/homecare/orders/{order.uuid}/")
    alert.refresh_from_db()
    assert alert.status == "closed" and alert.closed_by == commune_officer

    # 4. A negative test from day 7: the release is due; the officer releases.
    make_result(citizen_person, "negative", timezone.now() - datetime.timedelta(hours=7))
    results_notify_pending()
    page.reload()
    page.get_by_role("button", name="Kết thúc cách ly và cấp giấy xác nhận").click()
    assert page.get_by_text("Đã kết thúc cách ly; giấy xác nhận đã sẵn sàng.").is_visible()
    order.refresh_from_db()
    assert order.status == "released" and order.release_reason == "negative_test"
    paper = page.request.get(f"/staff/homecare/orders/{order.uuid}/release.pdf")
    assert paper.status == 200 and paper.body().startswith(b"%PDF")

    # 5. The status card and the portal follow.
    _sign_in(page, citizen_client, live_server)
    card = _card_text(page)
    assert "ca bệnh COVID-19" not in card
    page.goto("/homecare/")
    page.get_by_role("link", name="Giấy xác nhận kết thúc cách ly (PDF)").is_visible()
    assert _portal_figure(page, code, "Đang chăm sóc tại nhà (F0)") in ("0", "—")
    assert _portal_figure(page, code, "Khỏi bệnh tại nhà") == "<5"
