from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from covidhub.accounts.models import ApiToken, PhoneCode, User
from covidhub.accounts.services import CodeInvalid, phone_code_request, phone_code_verify
from covidhub.core.errors import RateLimited
from covidhub.notifications.models import Message
from covidhub.notifications.sealing import message_text

pytestmark = pytest.mark.django_db
PHONE = "0912 345 678"


def last_code(phone="+84912345678"):
    """The code as the SMS gateway would receive it (the stored text has it masked)."""
    message = Message.objects.filter(channel="sms", to=phone).order_by("-id").first()
    return re.search(r"\b(\d{6})\b", message_text(message)).group(1)


def test_code_is_six_digits_hashed_and_sent_in_the_language_asked():
    phone_code_request(phone=PHONE, client_address="10.0.0.1", language="en")
    code = last_code()
    record = PhoneCode.objects.get()
    assert record.phone == "+84912345678"
    assert code not in record.code_hash and len(record.code_hash) == 64
    assert "sign-in code" in Message.objects.get().body
    phone_code_request(phone=PHONE, client_address="10.0.0.1", language="vi")
    assert "mã đăng nhập" in Message.objects.order_by("-id").first().body


def test_verify_creates_the_citizen_account_once_and_the_code_works_once():
    phone_code_request(phone=PHONE, client_address=None, language="vi")
    code = last_code()
    user = phone_code_verify(phone="+84 912 345 678", code=code)
    assert user.kind == User.Kind.CITIZEN and user.phone == "+84912345678"
    assert not user.has_usable_password()
    with pytest.raises(CodeInvalid):
        phone_code_verify(phone=PHONE, code=code)
    phone_code_request(phone=PHONE, client_address=None, language="vi")
    assert phone_code_verify(phone=PHONE, code=last_code()) == user
    assert User.objects.count() == 1


def test_code_expires_after_five_minutes():
    phone_code_request(phone=PHONE, client_address=None, language="vi")
    PhoneCode.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(CodeInvalid):
        phone_code_verify(phone=PHONE, code=last_code())
    assert not User.objects.exists()


def test_five_wrong_tries_burn_the_code():
    phone_code_request(phone=PHONE, client_address=None, language="vi")
    code = last_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(4):
        with pytest.raises(CodeInvalid):
            phone_code_verify(phone=PHONE, code=wrong)
    # The try that locks the code, and the right code after it, say why (not "wrong or
    # expired", which sent people typing the right code again and again).
    with pytest.raises(RateLimited, match="Quá nhiều lần nhập sai mã"):
        phone_code_verify(phone=PHONE, code=wrong)
    with pytest.raises(RateLimited, match="Quá nhiều lần nhập sai mã"):
        phone_code_verify(phone=PHONE, code=code)  # even the right code is dead now
    phone_code_request(phone=PHONE, client_address=None, language="vi")
    assert phone_code_verify(phone=PHONE, code=last_code())  # a new code works


def test_a_new_code_replaces_the_old_one():
    phone_code_request(phone=PHONE, client_address=None, language="vi")
    first = last_code()
    phone_code_request(phone=PHONE, client_address=None, language="vi")
    second = last_code()
    if first != second:
        with pytest.raises(CodeInvalid):
            phone_code_verify(phone=PHONE, code=first)
    assert phone_code_verify(phone=PHONE, code=second)


def test_at_most_five_codes_per_phone_per_hour():
    for _ in range(5):
        phone_code_request(phone=PHONE, client_address=None, language="vi")
    with pytest.raises(RateLimited):
        phone_code_request(phone=PHONE, client_address=None, language="vi")
    PhoneCode.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=61))
    phone_code_request(phone=PHONE, client_address=None, language="vi")


def test_limit_per_client_address(settings):
    settings.PHONE_CODE_MAX_PER_ADDRESS_PER_HOUR = 3
    for n in range(3):
        phone_code_request(phone=f"09123456{n:02d}", client_address="203.0.113.7", language="vi")
    with pytest.raises(RateLimited):
        phone_code_request(phone="0912345699", client_address="203.0.113.7", language="vi")
    phone_code_request(phone="0912345699", client_address="203.0.113.8", language="vi")


def test_api_sign_in_token_me_and_logout(client):
    response = client.post("/api/v1/auth/code", {"phone": PHONE}, content_type="application/json")
    assert response.status_code == 202
    assert response.json()["phone_masked"] == "091•••678"
    response = client.post(
        "/api/v1/auth/token",
        {"phone": PHONE, "code": last_code(), "device_label": "Android"},
        content_type="application/json",
    )
    assert response.status_code == 201
    token = response.json()["token"]
    assert ApiToken.objects.get().key_hash != token
    me = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert me.status_code == 200 and me.json()["kind"] == "citizen"
    assert (
        client.post("/api/v1/auth/logout", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 204
    )
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_api_rate_limit_is_429_with_a_translated_message(client):
    for _ in range(5):
        assert (
            client.post(
                "/api/v1/auth/code", {"phone": PHONE}, content_type="application/json"
            ).status_code
            == 202
        )
    response = client.post(
        "/api/v1/auth/code",
        {"phone": PHONE},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="vi",
    )
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "rate_limited" and "Quá nhiều" in body["message"]
    response = client.post(
        "/api/v1/auth/code",
        {"phone": PHONE},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "Too many" in response.json()["message"]


def test_api_bad_phone_is_422_and_changes_nothing(client):
    response = client.post(
        "/api/v1/auth/code",
        {"phone": "12ab"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 422
    assert response.json()["code"] == "phone_invalid"
    assert not PhoneCode.objects.exists() and not Message.objects.exists()
    response = client.post(
        "/api/v1/auth/code", {}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 422
    assert response.json()["details"]["fields"]["phone"] == ["This field is required."]


def test_web_sign_in_keeps_the_phone_out_of_urls(client, area_tree):
    response = client.post("/signin/", {"phone": PHONE})
    assert response.status_code == 302 and response["Location"] == "/signin/code/"
    assert "912" not in response["Location"]
    response = client.post("/signin/code/", {"code": last_code()})
    assert response.status_code == 302 and response["Location"] == "/me/profile/"
    response = client.post("/signin/code/", {"code": "000000"})
    assert response.status_code == 302  # the sign-in is finished: back to the start


def test_web_wrong_code_shows_a_message(client):
    client.post("/signin/", {"phone": PHONE})
    code = last_code()
    response = client.post(
        "/signin/code/", {"code": f"{(int(code) + 1) % 1_000_000:06d}"}, HTTP_ACCEPT_LANGUAGE="vi"
    )
    assert response.status_code == 200
    assert "Mã không đúng" in response.content.decode()
