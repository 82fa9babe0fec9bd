"""Wrong staff passwords lock an address, not a colleague (issue 16, finding 14): per
username and address, a slower limit per account for unknown browsers, and a known device
keeps its own count."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from covidhub.accounts.lockout import DEVICE_COOKIE
from covidhub.accounts.tests.test_staff_auth import current_code

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
LOCKED = "Too many failed attempts"


def sign_in(client: Client, password: str = PASSWORD) -> str:
    """The page's answer to a password, as text (a redirect's target or the page itself)."""
    response = client.post(
        "/staff/signin/",
        {"username": "officer", "password": password},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    return response["Location"] if response.status_code == 302 else response.content.decode()


def test_wrong_passwords_from_one_address_do_not_lock_out_the_colleague(commune_officer):
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(10):
        assert "wrong" in sign_in(attacker, "wrong")
    assert LOCKED in sign_in(attacker)  # the attacker's address is locked, even with the password
    owner = Client(REMOTE_ADDR="198.51.100.20")
    assert sign_in(owner) == "/staff/signin/verify/"


def test_an_attack_from_many_addresses_locks_unknown_browsers_but_not_the_owners(
    commune_officer, settings
):
    settings.STAFF_FAILURES_MAX_PER_ACCOUNT = 30
    # The owner signed in from their browser before: it is a known device.
    owner = Client(REMOTE_ADDR="198.51.100.20")
    assert sign_in(owner) == "/staff/signin/verify/"
    device = TOTPDevice.objects.get(user=commune_officer)
    response = owner.post("/staff/signin/verify/", {"token": current_code(device)})
    assert response["Location"] == "/staff/" and DEVICE_COOKIE in response.cookies
    owner.post("/signout/")
    # Then 30 wrong passwords from 15 addresses, none locked on its own.
    for n in range(30):
        assert "wrong" in sign_in(Client(REMOTE_ADDR=f"203.0.113.{n // 2}"), "wrong")
    assert LOCKED in sign_in(Client(REMOTE_ADDR="192.0.2.99"))  # any unknown browser
    assert sign_in(owner) == "/staff/signin/verify/"  # the known device still gets in


def test_a_known_device_has_its_own_limit(commune_officer):
    owner = Client()
    sign_in(owner)
    owner.post(
        "/staff/signin/verify/",
        {"token": current_code(TOTPDevice.objects.get(user=commune_officer))},
    )
    owner.post("/signout/")
    for _ in range(10):
        assert "wrong" in sign_in(owner, "wrong")
    assert LOCKED in sign_in(owner)


def test_a_device_cookie_of_another_account_counts_for_nothing(
    commune_officer, make_staff, area_tree
):
    make_staff("other", "commune_officer", area_tree["commune"])
    browser = Client(REMOTE_ADDR="203.0.113.50")
    browser.post("/staff/signin/", {"username": "other", "password": PASSWORD})
    other = TOTPDevice.objects.get(user__username="other")
    browser.post("/staff/signin/verify/", {"token": current_code(other)})
    browser.post("/signout/")
    for _ in range(10):
        sign_in(browser, "wrong")  # against "officer", held to the address's count
    assert LOCKED in sign_in(browser)
