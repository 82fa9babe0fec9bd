"""In Chromium: a citizen declares for a family member (with a symptom), then checks in at a
venue by typing its code; an officer of the commune sees the follow-up item."""

from __future__ import annotations

import re

import pytest

from conftest import axe_violations
from covidhub.declarations.models import CheckIn, Declaration, FollowUp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, client, live_server):
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def test_declare_for_a_child_check_in_by_code_and_the_officer_sees_it(
    page, live_server, citizen, child, venue, commune_officer, login
):
    _sign_in(page, login(citizen), live_server)
    page.goto("/declarations/")
    assert axe_violations(page) == []
    page.get_by_role("link", name=f"Khai báo cho {child.full_name}").click()
    page.wait_for_url(f"**/declarations/{child.uuid}/new/")
    assert page.get_by_label("Số điện thoại").input_value() == "+84912345678"  # prefilled
    page.get_by_label("Số nhà, đường phố, thôn, xóm").fill("Số 5 Trần Hưng Đạo")
    # Sent without answers first: field messages, nothing saved.
    page.get_by_role("button", name="Gửi tờ khai").click()
    # The field's own message, and the summary at the top linking to that field.
    assert page.get_by_text(
        "Xác nhận rằng thông tin khai báo là đúng sự thật để gửi tờ khai.", exact=True
    ).is_visible()
    assert page.locator('.error-summary a[href="#id_consent"]').is_visible()
    assert not Declaration.objects.exists()
    assert axe_violations(page) == []
    page.locator("#id_travelled_1").check()
    page.get_by_label("Ho", exact=True).check()
    page.locator("#id_contact_case_1").check()
    page.locator("#id_contact_outbreak_area_1").check()
    page.locator("#id_contact_symptomatic_1").check()
    page.get_by_label("Tôi cam kết những thông tin trên là đúng sự thật.").check()
    page.get_by_role("button", name="Gửi tờ khai").click()
    page.wait_for_url("**/declarations/")
    assert page.get_by_text("trạm y tế xã, phường sẽ gọi điện").is_visible()
    assert Declaration.objects.filter(person=child).count() == 1

    page.get_by_role("link", name="Quét mã địa điểm").first.click()
    page.get_by_label("Mã địa điểm").fill(venue.code_display.lower())
    page.get_by_label("Nguyễn Văn Thử", exact=True).uncheck()  # checked by default: the account
    page.get_by_label(child.full_name, exact=True).check()
    page.get_by_role("button", name="Xác nhận vào").click()
    page.wait_for_url("**/declarations/checkins/")
    assert page.get_by_text(re.compile(f"Đã ghi nhận vào {venue.name}")).is_visible()
    assert set(CheckIn.objects.values_list("person_id", flat=True)) == {child.pk}

    _sign_in(page, login(commune_officer), live_server)
    page.goto("/staff/")
    page.get_by_role("link", name="Theo dõi khai báo y tế").click()
    page.wait_for_url("**/staff/declarations/followups/")
    assert axe_violations(page) == []
    page.get_by_role("link", name=child.full_name).click()
    assert page.get_by_role("heading", name=child.full_name).is_visible()
    assert page.get_by_text("Ho").first.is_visible()
    assert FollowUp.objects.get().person == child
