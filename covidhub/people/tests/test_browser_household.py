"""In Chromium: a citizen signs in with a code read from the development outbox, adds a
family member, and switches the language; the pages pass automated accessibility checks."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command

from conftest import axe_violations
from covidhub.people.models import Person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_citizen_signs_in_adds_a_family_member_and_switches_language(page):
    call_command("load_areas", stdout=StringIO())
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.get_by_role("link", name=re.compile("Khai báo y tế")).is_visible()
    assert axe_violations(page) == []

    page.get_by_role("link", name="Đăng nhập").first.click()
    page.get_by_label("Số điện thoại").fill("0912 345 678")
    page.get_by_role("button", name="Gửi mã cho tôi").click()
    page.wait_for_url("**/signin/code/")

    # The demo has no SMS gateway: the code waits in the outbox page.
    outbox = page.context.new_page()
    outbox.goto("/dev/outbox/")
    text = outbox.locator(".sms-text").first.inner_text()
    code = re.search(r"\b(\d{6})\b", text).group(1)
    outbox.close()

    page.get_by_label("Mã 6 chữ số chúng tôi đã gửi cho bạn").fill(code)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/me/profile/")
    page.get_by_label("Họ và tên").fill("Nguyễn Văn Bố")
    page.get_by_label("Ngày sinh").fill("15/03/1985")
    page.get_by_label("Nam", exact=True).check()
    page.get_by_label("Xã, phường nơi cư trú").select_option("10507")
    page.get_by_role("button", name="Lưu").click()
    page.wait_for_url(lambda url: url.endswith("/"))

    page.goto("/me/household/add/")
    assert axe_violations(page) == []
    page.get_by_label("Quan hệ với bạn").select_option("child")
    page.get_by_label("Họ và tên").fill("Nguyễn Minh Con")
    page.get_by_label("Ngày sinh").fill("2015")
    page.get_by_label("Nữ").check()
    page.get_by_label("Xã, phường nơi cư trú").select_option("10507")
    page.get_by_role("button", name="Lưu").click()
    page.wait_for_url("**/me/household/")
    assert page.get_by_role("heading", name="Nguyễn Minh Con").is_visible()
    assert Person.objects.filter(full_name="Nguyễn Minh Con", relationship="child").count() == 1

    page.get_by_label("Ngôn ngữ").select_option("en")
    page.wait_for_load_state("load")
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.get_by_role("heading", name="My household").is_visible()
    assert axe_violations(page) == []
