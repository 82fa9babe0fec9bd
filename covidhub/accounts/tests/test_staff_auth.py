from __future__ import annotations

import time

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from covidhub.accounts.middleware import LAST_ACTIVITY, STAFF_AUTH_AT

pytestmark = pytest.mark.django_db


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def test_password_then_totp(commune_officer):
    client = Client()
    response = client.post(
        "/staff/signin/", {"username": "officer", "password": "correct horse battery"}
    )
    assert response["Location"] == "/staff/signin/verify/"
    assert client.get("/staff/").status_code == 302  # not signed in before the TOTP step
    response = client.post(
        "/staff/signin/verify/",
        {
            "token": "000000"
            if current_code(TOTPDevice.objects.get(user=commune_officer)) != "000000"
            else "111111"
        },
    )
    assert response.status_code == 200
    device = TOTPDevice.objects.get(user=commune_officer)
    assert device.throttling_failure_count == 1  # wrong codes are throttled
    device.throttle_reset()
    response = client.post("/staff/signin/verify/", {"token": current_code(device)})
    assert response["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200


def test_staff_without_a_device_must_enrol(make_staff, area_tree):
    user = make_staff("newbie", "commune_officer", area_tree["commune"])
    TOTPDevice.objects.filter(user=user).delete()
    client = Client()
    response = client.post(
        "/staff/signin/", {"username": "newbie", "password": "correct horse battery"}
    )
    assert response["Location"] == "/staff/signin/enrol/"
    page = client.get("/staff/signin/enrol/")
    assert b"<svg" in page.content
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post("/staff/signin/enrol/", {"token": current_code(device)})
    assert response["Location"] == "/staff/"
    device.refresh_from_db()
    assert device.confirmed


def test_wrong_password_and_lockout(commune_officer):
    client = Client()
    for _ in range(10):
        response = client.post(
            "/staff/signin/",
            {"username": "officer", "password": "wrong"},
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert "wrong" in response.content.decode()
    response = client.post(
        "/staff/signin/",
        {"username": "officer", "password": "correct horse battery"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "Too many failed attempts" in response.content.decode()


def test_a_citizen_cannot_use_the_staff_sign_in(citizen):
    citizen.set_password("correct horse battery")
    citizen.save()
    response = Client().post(
        "/staff/signin/", {"username": citizen.username, "password": "correct horse battery"}
    )
    assert response.status_code == 200


def test_staff_session_ends_after_15_minutes_idle(commune_officer, login):
    client = login(commune_officer)
    assert client.get("/staff/").status_code == 200
    session = client.session
    session[LAST_ACTIVITY] = time.time() - 16 * 60
    session.save()
    response = client.get("/staff/")
    assert response.status_code == 302 and response["Location"] == "/staff/signin/"
    assert client.get("/staff/").status_code == 302


def test_staff_session_ends_after_12_hours_in_all(commune_officer, login):
    client = login(commune_officer)
    client.get("/staff/")
    session = client.session
    session[STAFF_AUTH_AT] = time.time() - 12 * 3600 - 1
    session.save()
    assert client.get("/staff/")["Location"] == "/staff/signin/"


def test_staff_without_verified_totp_gets_no_api(commune_officer, citizen_person):
    client = Client()
    client.force_login(commune_officer)  # password only, no TOTP step
    response = client.get(f"/api/v1/staff/people/{citizen_person.uuid}")
    assert response.status_code == 401
