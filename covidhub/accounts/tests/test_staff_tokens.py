"""Staff bearer tokens for the native staff apps: password and TOTP as on the web, the
session's scope, revoked on sign-out and when the account is disabled."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from covidhub.accounts.models import ApiToken
from covidhub.accounts.tests.test_staff_auth import current_code
from covidhub.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


def _issue(user, *, password=PASSWORD, code=None):
    device = TOTPDevice.objects.get(user=user)
    device.last_t = -1  # each test may use the current code again
    device.save(update_fields=["last_t"])
    return Client().post(
        "/api/v1/auth/staff/token",
        {
            "username": user.username,
            "password": password,
            "totp": code or current_code(device),
            "device_label": "Android",
        },
        content_type="application/json",
    )


def test_token_after_password_and_totp_has_the_sessions_scope(
    commune_officer, make_person, area_tree
):
    answer = _issue(commune_officer)
    assert answer.status_code == 201, answer.content
    token = answer.json()["token"]
    assert answer.json()["me"]["kind"] == "staff"
    row = ApiToken.objects.get(user=commune_officer)
    assert row.key_hash != token and token not in row.key_hash  # only its hash is kept
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    mine = make_person(commune=area_tree["commune"])
    neighbour = make_person(commune=area_tree["neighbour_commune"], full_name="Lê Văn Bên")
    assert api.get(f"/api/v1/staff/people/{mine.uuid}").status_code == 200
    assert api.get(f"/api/v1/staff/people/{neighbour.uuid}").status_code == 404
    # A POST with a bearer token needs no CSRF token (there is no cookie to forge).
    search = api.post("/api/v1/staff/people/search", {"q": ""}, content_type="application/json")
    assert search.status_code == 200
    assert AuditEvent.objects.filter(
        action="accounts.staff_token.issued", actor=commune_officer
    ).exists()


def test_wrong_password_or_code_gets_no_token(commune_officer):
    assert _issue(commune_officer, password="wrong password!").status_code == 400
    device = TOTPDevice.objects.get(user=commune_officer)
    wrong = "000000" if current_code(device) != "000000" else "111111"
    refused = _issue(commune_officer, code=wrong)
    assert refused.status_code == 400
    assert refused.json()["code"] == "totp_invalid"
    assert not ApiToken.objects.filter(user=commune_officer).exists()


def test_password_lockout_applies(commune_officer, settings):
    settings.STAFF_FAILURES_MAX = 2
    for _attempt in range(2):
        assert _issue(commune_officer, password="wrong password!").status_code == 400
    assert _issue(commune_officer).status_code == 429


def test_staff_without_authenticator_must_enrol_on_the_web(commune_officer):
    TOTPDevice.objects.filter(user=commune_officer).update(confirmed=False)
    answer = Client().post(
        "/api/v1/auth/staff/token",
        {"username": "officer", "password": PASSWORD, "totp": "123456"},
        content_type="application/json",
    )
    assert answer.status_code == 422


def test_sign_out_revokes_the_token(commune_officer):
    token = _issue(commune_officer).json()["token"]
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/api/v1/me").status_code == 200
    assert api.post("/api/v1/auth/logout").status_code == 204
    assert api.get("/api/v1/me").status_code == 401
    assert ApiToken.objects.get(user=commune_officer).revoked_at is not None


def test_disabling_the_account_revokes_its_tokens(commune_officer):
    token = _issue(commune_officer).json()["token"]
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/api/v1/me").status_code == 200
    commune_officer.is_active = False
    commune_officer.save()
    assert api.get("/api/v1/me").status_code == 401
    assert ApiToken.objects.get(user=commune_officer).revoked_at is not None
    commune_officer.is_active = True
    commune_officer.save()
    assert api.get("/api/v1/me").status_code == 401  # enabling again brings none back


def test_a_citizen_token_is_not_a_staff_token(citizen):
    from covidhub.accounts.services import api_token_issue

    api = Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=citizen).token}")
    answer = api.post("/api/v1/staff/people/search", {"q": ""}, content_type="application/json")
    assert answer.status_code in (401, 403)


def test_a_staff_token_ends_when_left_idle_like_the_session(commune_officer, settings):
    import datetime

    from django.utils import timezone

    settings.STAFF_IDLE_SECONDS = 15 * 60
    token = _issue(commune_officer).json()["token"]
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    row = ApiToken.objects.get(user=commune_officer)
    # Used 14 minutes after its last use: still valid, and the use is kept.
    ApiToken.objects.filter(pk=row.pk).update(
        last_used_at=timezone.now() - datetime.timedelta(minutes=14)
    )
    assert api.get("/api/v1/me").status_code == 200
    row.refresh_from_db()
    assert timezone.now() - row.last_used_at < datetime.timedelta(seconds=5)
    # Then left alone 16 minutes: refused, revoked, and a later use does not revive it.
    ApiToken.objects.filter(pk=row.pk).update(
        last_used_at=timezone.now() - datetime.timedelta(minutes=16)
    )
    assert api.get("/api/v1/me").status_code == 401
    row.refresh_from_db()
    assert row.revoked_at is not None
    ApiToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    assert api.get("/api/v1/me").status_code == 401


def test_a_citizen_token_has_no_idle_limit(citizen, settings):
    import datetime

    from django.utils import timezone

    from covidhub.accounts.services import api_token_issue

    settings.STAFF_IDLE_SECONDS = 15 * 60
    issued = api_token_issue(user=citizen)
    ApiToken.objects.filter(pk=issued.record.pk).update(
        last_used_at=timezone.now() - datetime.timedelta(days=3)
    )
    assert Client(HTTP_AUTHORIZATION=f"Bearer {issued.token}").get("/api/v1/me").status_code == 200
