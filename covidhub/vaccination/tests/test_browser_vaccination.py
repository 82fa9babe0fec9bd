"""In Chromium: a citizen registers and books; site staff check them in, screen them and
record the dose; the citizen then sees the dose and the next due date."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from conftest import axe_violations
from covidhub.vaccination.models import Dose

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _signed_in_context(chromium, live_server, client):
    context = chromium.new_context(
        base_url=live_server.url, locale="vi-VN", viewport={"width": 390, "height": 844}
    )
    context.set_default_timeout(15_000)
    host = live_server.url.split("//")[1].split(":")[0]
    context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "domain": host,
                "path": "/",
            }
        ]
    )
    return context


def test_citizen_registers_and_books_staff_vaccinate_citizen_sees_the_dose(
    chromium,
    live_server,
    login,
    citizen,
    citizen_person,
    site,
    vaccinator,
    make_session,
    make_lot,
    vaccines,
):
    make_session(site=site, capacity=30)
    allocation = make_lot(site=site, doses=20)

    citizen_context = _signed_in_context(chromium, live_server, login(citizen))
    page = citizen_context.new_page()
    page.goto("/vaccination/register/")
    assert axe_violations(page) == []
    page.locator("input[name=priority_group][value=g05]").check()
    page.locator("input[name=occupation]").fill("Kế toán")
    page.locator("input[name=q_chronic]").check()
    page.locator("main form button.button").click()
    page.wait_for_url("**/vaccination/book/**")
    page.locator("input[name=session]").first.check()
    page.locator("main form button.button").click()
    page.wait_for_url("**/vaccination/me/")
    code = page.locator(".booking code").first.inner_text()
    assert len(code) == 10
    assert axe_violations(page) == []

    staff_context = _signed_in_context(chromium, live_server, login(vaccinator))
    staff = staff_context.new_page()
    staff.goto(f"/staff/vaccination/sites/{site.uuid}/")
    staff.locator("input[name=code]").fill(code)
    staff.locator("input[name=code]").press("Enter")
    staff.wait_for_url("**/screening/")
    assert axe_violations(staff) == []
    staff.locator("input[name=temperature]").fill("36.7")
    staff.locator("input[name=outcome][value=vaccinate]").check()
    staff.locator("main form button.button").click()
    staff.wait_for_url("**/dose/")
    staff.locator(f"input[name=lot][value='{allocation.lot.uuid}']").check()
    staff.locator("main form button.button").click()
    staff.wait_for_url(f"**/staff/vaccination/sites/{site.uuid}/")
    assert staff.get_by_role("cell", name=citizen_person.full_name).is_visible()
    dose = Dose.objects.get(person=citizen_person)
    assert dose.vaccinator == vaccinator

    page.goto("/vaccination/me/")
    assert page.locator("tr.dose").count() == 1
    due = (timezone.localdate() + datetime.timedelta(days=84)).strftime("%d/%m/%Y")
    assert due in page.locator(".next-due").inner_text()
    citizen_context.close()
    staff_context.close()
