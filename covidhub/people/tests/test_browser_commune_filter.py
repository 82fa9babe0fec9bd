"""In Chromium at phone width: the new family member's commune is picked from the
province's list by choosing the district first; the list follows at once (no button, no
reload) and the page passes the accessibility checks."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from conftest import axe_violations
from covidhub.areas.models import Area
from covidhub.areas.served import served_communes
from covidhub.people.models import Person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, client, live_server):
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def test_a_family_members_commune_is_picked_through_the_district_filter(
    page, live_server, citizen, login
):
    call_command("load_areas", stdout=StringIO())
    home = Person.objects.get(managed_by=citizen, relationship="self").commune
    other = (
        Area.objects.filter(level=Area.Level.DISTRICT, parent=home.parent.parent)
        .exclude(pk=home.parent_id)
        .order_by("name")
        .first()
    )
    assert other is not None
    wanted = served_communes().filter(parent=other).order_by("name").last()
    _sign_in(page, login(citizen), live_server)
    page.goto("/me/household/add/")
    communes = page.locator("#id_commune")
    district = page.get_by_label("Huyện, thị xã, thành phố")
    # The filter starts at the household's district and the list shows its communes only.
    assert district.input_value() == home.parent.code
    home_count = served_communes().filter(parent=home.parent).count()
    assert communes.locator("option").count() == 1 + home_count
    assert communes.input_value() == home.code
    # With the script the list follows the filter: the server's button is gone.
    assert page.locator("[data-district-filter-show]").count() == 0
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    district.focus()
    district.select_option(other.code)
    names = communes.locator("optgroup").evaluate_all("gs => gs.map(g => g.label)")
    assert len(names) == 1
    assert communes.locator("option").count() == 1 + served_communes().filter(parent=other).count()
    assert communes.input_value() == ""  # the home commune is not in this district
    communes.select_option(wanted.code)
    # "All districts" brings the whole list back and keeps the commune chosen.
    district.select_option("")
    assert communes.locator("option").count() == 1 + served_communes().count()
    assert communes.input_value() == wanted.code

    page.get_by_label("Quan hệ với bạn").select_option("child")
    page.get_by_label("Họ và tên").fill("Nguyễn Minh Con")
    page.get_by_label("Ngày sinh").fill("2015")
    page.get_by_label("Nữ").check()
    page.get_by_label("Họ và tên").press("Enter")  # Enter sends the form, not the filter
    page.wait_for_url("**/me/household/")
    member = Person.objects.get(full_name="Nguyễn Minh Con")
    assert member.commune == wanted


def test_without_javascript_the_button_asks_the_server_for_the_districts_communes(
    chromium, live_server, citizen, login
):
    call_command("load_areas", stdout=StringIO())
    home = Person.objects.get(managed_by=citizen, relationship="self").commune
    other = (
        Area.objects.filter(level=Area.Level.DISTRICT, parent=home.parent.parent)
        .exclude(pk=home.parent_id)
        .order_by("name")
        .first()
    )
    assert other is not None
    wanted = served_communes().filter(parent=other).order_by("name").first()
    context = chromium.new_context(
        base_url=live_server.url,
        locale="vi-VN",
        viewport={"width": 390, "height": 844},
        java_script_enabled=False,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    _sign_in(page, login(citizen), live_server)
    page.goto("/me/household/add/")
    communes = page.locator("#id_commune")
    assert communes.locator("option").count() == 1 + served_communes().count()
    page.get_by_label("Họ và tên").fill("Nguyễn Minh Con")
    page.get_by_label("Huyện, thị xã, thành phố").select_option(other.code)
    with page.expect_navigation():
        page.get_by_role("button", name="Xem các xã, phường của huyện").click()
    assert communes.locator("option").count() == 1 + served_communes().filter(parent=other).count()
    assert page.get_by_label("Họ và tên").input_value() == "Nguyễn Minh Con"  # kept
    assert page.locator(".error-summary").count() == 0
    assert not Person.objects.filter(full_name="Nguyễn Minh Con").exists()
    communes.select_option(wanted.code)
    page.get_by_label("Quan hệ với bạn").select_option("child")
    page.get_by_label("Ngày sinh").fill("2015")
    page.get_by_label("Nữ").check()
    page.get_by_label("Ngày sinh").press("Enter")  # the form's own button, not the filter
    page.wait_for_url("**/me/household/")
    assert Person.objects.get(full_name="Nguyễn Minh Con").commune == wanted
    context.close()
