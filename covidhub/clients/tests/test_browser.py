"""In Chromium, at 390 and 1366 px, in Vietnamese and English: an administrator registers a
client, copies its secret, and changes it; every page passes axe and does not overflow."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import _verified_client, axe_violations
from covidhub.clients.models import MachineClient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _no_overflow(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, f"page is {width}px wide"


@pytest.mark.parametrize(("language", "width"), [("vi", 390), ("en", 1366)])
def test_register_and_rotate(
    page: Any,
    live_server: Any,
    province_admin: Any,
    area_tree: dict[str, Any],
    language: str,
    width: int,
    settings: Any,
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    client = _verified_client(province_admin)
    page.context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "url": live_server.url,
            },
            {"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url},
        ]
    )
    page.goto("/staff/clients/")
    assert axe_violations(page) == []
    _no_overflow(page)
    page.goto("/staff/clients/new/")
    assert axe_violations(page) == []
    _no_overflow(page)
    page.locator("#id_name").fill("Nền tảng quốc gia")
    page.locator("#id_area").select_option(str(area_tree["district"].pk))
    page.locator("#id_access_vaccination").select_option("read")
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector("#client-secret")
    assert axe_violations(page) == []
    _no_overflow(page)
    page.screenshot(
        path=f"{settings.VAR_DIR}/screenshots/clients-secret-{language}-{width}.png", full_page=True
    )
    first = page.locator("#client-secret").inner_text()
    page.locator("main a[href*='/staff/clients/']").last.click()
    page.wait_for_selector("form[action$='/secret/']")
    assert axe_violations(page) == []
    _no_overflow(page)
    page.screenshot(
        path=f"{settings.VAR_DIR}/screenshots/clients-detail-{language}-{width}.png", full_page=True
    )
    page.locator("form[action$='/secret/'] button").click()
    page.wait_for_selector("#client-secret")
    assert page.locator("#client-secret").inner_text() != first
    assert MachineClient.objects.get().secret_version == 2
