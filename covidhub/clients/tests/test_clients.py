"""Machine clients: registration, secrets, tokens, scopes, limits and the audit trail."""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.db import connection
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from covidhub.audit.models import AuditEvent
from covidhub.clients import services
from covidhub.clients.errors import SecretAlreadyChanged
from covidhub.clients.models import MachineClient
from covidhub.clients.tests.conftest import basic

pytestmark = pytest.mark.django_db


def test_registered_client_secret_is_kept_hashed(register: Any, province_admin: Any) -> None:
    credentials = register()
    application = Application.objects.get(client_id=credentials.client_id)
    assert application.client_secret != credentials.client_secret
    identify_hasher(application.client_secret)  # a password hash, not the secret
    client = credentials.client
    assert client.account.kind == "staff" and not client.account.has_usable_password()
    assert AuditEvent.objects.filter(
        action="clients.client.registered", actor=province_admin, object_id=str(client.uuid)
    ).exists()


def test_token_with_the_right_secret_and_not_with_a_wrong_one(
    register: Any, token_for: Any
) -> None:
    credentials = register()
    good = token_for(credentials)
    assert good.status_code == 200
    body = good.json()
    assert body["token_type"] == "Bearer"
    assert 0 < body["expires_in"] <= 600
    assert body["scope"] == "people:read"
    assert "no-store" in good["Cache-Control"]
    wrong = token_for(credentials, secret="not-the-secret")
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    account = credentials.client.account
    assert AuditEvent.objects.filter(action="clients.token.issued", actor=account).count() == 1
    assert AuditEvent.objects.filter(action="clients.token.refused", actor=account).count() == 1


def test_a_scope_beyond_the_registration_is_refused(register: Any, token_for: Any) -> None:
    credentials = register(access={"people": "read"})
    answer = token_for(credentials, scope="people:read testing:write")
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_scope"


def test_wrong_secrets_lock_the_client_id_out(register: Any, token_for: Any, settings: Any) -> None:
    settings.CLIENT_SECRET_FAILURES_MAX = 3
    credentials = register()
    for _attempt in range(3):
        assert token_for(credentials, secret="guess").status_code == 401
    locked = token_for(credentials)  # even the right secret, for 15 minutes
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0


def test_access_token_is_stored_as_its_checksum_only(register: Any, token_for: Any) -> None:
    credentials = register()
    raw = token_for(credentials).json()["access_token"]
    table = AccessToken._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT token, token_checksum FROM {table}")  # noqa: S608
        rows = cursor.fetchall()
    assert len(rows) == 1
    stored_token, checksum = rows[0]
    assert stored_token == ""
    assert checksum == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(rows)


def test_expired_token_is_refused(register: Any, token_for: Any, make_person: Any) -> None:
    credentials = register()
    raw = token_for(credentials).json()["access_token"]
    person = make_person()
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get(f"/api/v1/staff/people/{person.uuid}").status_code == 200
    AccessToken.objects.update(expires=timezone.now() - datetime.timedelta(seconds=1))
    assert api.get(f"/api/v1/staff/people/{person.uuid}").status_code == 401


def test_scopes_capability_access_and_area(
    register: Any, bearer: Any, make_person: Any, area_tree: dict[str, Any]
) -> None:
    credentials = register(access={"people": "read"}, area="commune")
    api = bearer(credentials)
    mine = make_person(commune=area_tree["commune"])
    neighbour = make_person(commune=area_tree["neighbour_commune"], full_name="Trần Thị Khác")
    assert api.get(f"/api/v1/staff/people/{mine.uuid}").status_code == 200
    # Outside its area: not found, as for staff.
    assert api.get(f"/api/v1/staff/people/{neighbour.uuid}").status_code == 404
    # A search is a read (a POST that keeps names out of URLs).
    found = api.post("/api/v1/staff/people/search", {"q": ""}, content_type="application/json")
    assert found.status_code == 200
    assert {p["uuid"] for p in found.json()["items"]} == {str(mine.uuid)}
    # Writing needs people:write.
    update = api.put(
        f"/api/v1/staff/people/{mine.uuid}", {"full_name": "X"}, content_type="application/json"
    )
    assert update.status_code == 403
    assert update.json()["code"] == "insufficient_scope"
    assert 'error="insufficient_scope"' in update["WWW-Authenticate"]
    # Another capability: refused whatever the object.
    assert api.get("/api/v1/testing/labs").status_code == 403
    # A capability no client may hold.
    assert api.get("/api/v1/adoption/report").status_code == 403
    # Citizen-only endpoints do not know clients.
    assert api.get("/api/v1/household").status_code == 401


def test_district_client_reaches_its_communes(
    register: Any, bearer: Any, make_person: Any, area_tree: dict[str, Any]
) -> None:
    api = bearer(register(area="district"))
    inside = make_person(commune=area_tree["neighbour_commune"])
    outside = make_person(commune=area_tree["far_commune"])
    assert api.get(f"/api/v1/staff/people/{inside.uuid}").status_code == 200
    assert api.get(f"/api/v1/staff/people/{outside.uuid}").status_code == 404


def test_every_call_is_audited_with_the_client_as_actor(
    register: Any, bearer: Any, make_person: Any
) -> None:
    credentials = register()
    api = bearer(credentials)
    person = make_person()
    assert api.get(f"/api/v1/staff/people/{person.uuid}").status_code == 200
    assert api.get("/api/v1/testing/labs").status_code == 403
    account = credentials.client.account
    viewed = AuditEvent.objects.get(action="people.person.viewed", person_uuid=person.uuid)
    assert viewed.actor_id == account.pk
    calls = AuditEvent.objects.filter(action="clients.api.called", actor=account).order_by("id")
    assert [c.details["status"] for c in calls] == [200, 403]
    assert calls[0].object_id == str(credentials.client.uuid)


def test_rate_limit_answers_429_with_retry_after(register: Any, bearer: Any) -> None:
    api = bearer(register(rate_per_minute=2))
    assert api.get("/api/v1/me").status_code == 200
    assert api.get("/api/v1/me").status_code == 200
    refused = api.get("/api/v1/me")
    assert refused.status_code == 429
    assert refused.json()["code"] == "client_rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 60


def test_daily_quota(register: Any, bearer: Any) -> None:
    api = bearer(register(quota_per_day=1))
    assert api.get("/api/v1/me").status_code == 200
    refused = api.get("/api/v1/me")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) <= 86_400


def test_rotation_ends_the_old_secret_and_tokens(
    register: Any, token_for: Any, bearer: Any, province_admin: Any
) -> None:
    credentials = register()
    old_api = bearer(credentials)
    assert old_api.get("/api/v1/me").status_code == 200
    rotated = services.client_secret_rotate(
        actor=province_admin, client=credentials.client, version=1
    )
    assert rotated.client_secret != credentials.client_secret
    assert old_api.get("/api/v1/me").status_code == 401
    assert token_for(credentials).status_code == 401
    assert token_for(rotated).status_code == 200
    # The same form sent again (version 1) changes nothing more.
    with pytest.raises(SecretAlreadyChanged):
        services.client_secret_rotate(actor=province_admin, client=credentials.client, version=1)


def test_revoked_client_gets_nothing(
    register: Any, token_for: Any, bearer: Any, province_admin: Any
) -> None:
    credentials = register()
    api = bearer(credentials)
    services.client_revoke(actor=province_admin, client=credentials.client)
    assert api.get("/api/v1/me").status_code == 401
    assert token_for(credentials).status_code == 401
    assert AccessToken.objects.count() == 0
    client = MachineClient.objects.get(pk=credentials.client.pk)
    assert client.revoked_at is not None and not client.account.is_active


def test_an_area_outside_the_administrators_is_refused(
    make_staff: Any, area_tree: dict[str, Any]
) -> None:
    from covidhub.core.errors import NotFound

    second_admin = make_staff("qtv-huyen", "administrator", area_tree["province"])
    # Administrators are province-wide; an officer-only account cannot register at all.
    officer = make_staff("cb-xa", "commune_officer", area_tree["commune"])
    with pytest.raises(NotFound):
        services.client_register(
            actor=officer,
            name="X",
            kind="national",
            access={"people": "read"},
            area=area_tree["district"],
        )
    assert services.client_register(
        actor=second_admin,
        name="Y",
        kind="national",
        access={"people": "read"},
        area=area_tree["district"],
    ).client.pk


def test_basic_helper_matches_rfc_form() -> None:
    assert basic("a", "b") == "Basic YTpi"


def test_expired_tokens_are_pruned_on_schedule(
    register: Any, token_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from covidhub.clients.tasks import access_tokens_prune
    from covidhub.core.schedule import jobs
    from covidhub.core.testing import run_queued_tasks

    assert "clients.access_tokens_prune" in {job.name for job in jobs()}
    credentials = register()
    token_for(credentials)
    token_for(credentials)
    AccessToken.objects.filter(pk=AccessToken.objects.order_by("pk").first().pk).update(
        expires=timezone.now() - datetime.timedelta(minutes=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        access_tokens_prune.enqueue()
    assert run_queued_tasks() >= 1
    assert AccessToken.objects.count() == 1


def test_a_client_is_held_by_its_own_limits_not_the_staff_lookup_budget(
    register: Any,
    bearer: Any,
    make_person: Any,
    area_tree: dict[str, Any],
    settings: Any,
    commune_officer: Any,
) -> None:
    settings.STAFF_LOOKUPS_PER_HOUR = 2
    settings.STAFF_LOOKUPS_PER_HOUR_BY_ROLE = {}
    api = bearer(register(access={"people": "read"}, area="commune"))
    people = [
        make_person(commune=area_tree["commune"], full_name=name)
        for name in ("Lê Văn An", "Trần Thị Bình", "Phạm Văn Cường", "Đỗ Thị Dung")
    ]
    for person in people:
        assert api.get(f"/api/v1/staff/people/{person.uuid}").status_code == 200
    # The control: a commune officer with the same budget is stopped at the third person.
    from covidhub.audit.alerts import LookupBudgetExceeded, staff_lookup_charge

    officer = commune_officer
    staff_lookup_charge(actor=officer, person_uuid=people[0].uuid)
    staff_lookup_charge(actor=officer, person_uuid=people[1].uuid)
    with pytest.raises(LookupBudgetExceeded):
        staff_lookup_charge(actor=officer, person_uuid=people[2].uuid)


def test_a_service_account_cannot_sign_in_nor_be_changed_in_the_admin(
    register: Any, province_admin: Any, login: Any
) -> None:
    credentials = register(access={"people": "read"}, area="commune")
    account = MachineClient.objects.get(application__client_id=credentials.client_id).account
    # A password given to it (here straight in the database) signs nobody in.
    account.set_password("correct horse battery staple")
    account.save()
    browser = Client()
    answer = browser.post(
        "/staff/signin/",
        {"username": account.username, "password": "correct horse battery staple"},
    )
    assert answer.status_code == 200  # the form again, with its error; no TOTP step
    assert "_auth_user_id" not in browser.session
    # The control: the same form signs a staff member in with their password.
    officer_answer = Client().post(
        "/staff/signin/", {"username": province_admin.username, "password": "correct horse battery"}
    )
    assert officer_answer.status_code == 302
    # In the admin it is read-only: no password change, no role edit, no delete.
    province_admin.is_staff = province_admin.is_superuser = True
    province_admin.save()
    admin = login(province_admin)
    assert admin.get(f"/admin/accounts/user/{account.pk}/change/").status_code == 200
    changed = admin.post(
        f"/admin/accounts/user/{account.pk}/change/",
        {"username": account.username, "kind": "staff", "is_active": "on"},
    )
    assert changed.status_code == 403
    assert admin.get(f"/admin/accounts/user/{account.pk}/password/").status_code == 403
    assert (
        admin.post(f"/admin/accounts/user/{account.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    # The control: an ordinary staff account stays editable.
    assert admin.get(f"/admin/accounts/user/{province_admin.pk}/password/").status_code == 200
