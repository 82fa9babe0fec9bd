"""The administrators' pages: register (secret shown once), change the secret, revoke;
everyone else gets 404."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.hashers import check_password
from oauth2_provider.models import Application

from covidhub.clients.models import MachineClient

pytestmark = pytest.mark.django_db


def _token(client: Any) -> str:
    page = client.get("/staff/clients/new/")
    return re.search(rb'name="form_token" value="([^"]+)"', page.content).group(1).decode()


def _form(area: Any, **extra: Any) -> dict[str, Any]:
    return {
        "name": "Nền tảng tiêm chủng quốc gia",
        "kind": "national",
        "area": area.pk,
        "unit": "",
        "rate_per_minute": 60,
        "quota_per_day": 1000,
        "access_people": "read",
        "access_vaccination": "write",
        **extra,
    }


def test_register_shows_the_secret_once(
    login: Any, province_admin: Any, area_tree: dict[str, Any]
) -> None:
    browser = login(province_admin)
    form = _form(area_tree["district"], form_token=_token(browser))
    answer = browser.post("/staff/clients/new/", form)
    assert answer.status_code == 200
    client = MachineClient.objects.get()
    shown = re.search(r'id="client-secret">([^<]+)<', answer.content.decode()).group(1)
    assert client.scopes == ["people:read", "vaccination:read", "vaccination:write"]
    assert "no-store" in answer["Cache-Control"]
    application = Application.objects.get()
    assert application.client_id.encode() in answer.content
    assert check_password(shown, application.client_secret)
    # The detail page never shows it again.
    detail = browser.get(f"/staff/clients/{client.uuid}/")
    assert detail.status_code == 200
    assert shown not in detail.content.decode()
    # The same form sent again creates nothing.
    again = browser.post("/staff/clients/new/", form)
    assert MachineClient.objects.count() == 1
    assert again.status_code in (200, 303)


def test_bad_input_is_a_message_not_a_client(
    login: Any, province_admin: Any, area_tree: dict[str, Any]
) -> None:
    browser = login(province_admin)
    nothing = _form(area_tree["district"], access_people="", access_vaccination="")
    answer = browser.post("/staff/clients/new/", {**nothing, "form_token": _token(browser)})
    assert answer.status_code == 200
    assert "error" in answer.content.decode()
    bad = _form(area_tree["district"], rate_per_minute="lots")
    assert (
        browser.post("/staff/clients/new/", {**bad, "form_token": _token(browser)}).status_code
        == 200
    )
    assert not MachineClient.objects.exists()


def test_rotate_and_revoke_pages(
    login: Any, province_admin: Any, area_tree: dict[str, Any], rf: Any
) -> None:
    from covidhub.clients import services

    credentials = services.client_register(
        actor=province_admin,
        name="App",
        kind="app_backend",
        access={"people": "read"},
        area=area_tree["commune"],
    )
    browser = login(province_admin)
    uuid = credentials.client.uuid
    detail = browser.get(f"/staff/clients/{uuid}/")
    token = re.search(rb'name="form_token" value="([^"]+)"', detail.content).group(1).decode()
    rotated = browser.post(f"/staff/clients/{uuid}/secret/", {"version": 1, "form_token": token})
    assert rotated.status_code == 200
    shown = re.search(r'id="client-secret">([^<]+)<', rotated.content.decode()).group(1)
    assert shown != credentials.client_secret
    assert check_password(shown, Application.objects.get().client_secret)
    assert MachineClient.objects.get().secret_version == 2
    detail = browser.get(f"/staff/clients/{uuid}/")
    tokens = re.findall(rb'name="form_token" value="([^"]+)"', detail.content)
    revoked = browser.post(f"/staff/clients/{uuid}/revoke/", {"form_token": tokens[-1].decode()})
    assert revoked.status_code == 302
    assert MachineClient.objects.get().revoked_at is not None


def test_pages_in_both_languages(login: Any, province_admin: Any) -> None:
    browser = login(province_admin)
    vi = browser.get("/staff/clients/", HTTP_ACCEPT_LANGUAGE="vi")
    assert "Hệ thống kết nối (API)" in vi.content.decode()
    en = browser.get("/staff/clients/new/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Register a client" in en.content.decode()


def test_others_get_404(login: Any, commune_officer: Any, province_admin: Any, area_tree) -> None:
    from covidhub.clients import services

    credentials = services.client_register(
        actor=province_admin,
        name="App",
        kind="app_backend",
        access={"people": "read"},
        area=area_tree["commune"],
    )
    browser = login(commune_officer)
    assert browser.get("/staff/clients/").status_code == 404
    assert browser.get(f"/staff/clients/{credentials.client.uuid}/").status_code == 404
