"""The bearer-token cache: a hit costs no query; revoking, deactivating or expiring a token
takes effect on the next request."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.core.cache import cache
from django.utils import timezone

from covidhub.accounts.models import ApiToken
from covidhub.accounts.services import (
    api_token_authenticate,
    api_token_issue,
    api_token_revoke,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def token_cache(settings):
    settings.AUTH_CACHE_SECONDS = 60
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"}
    }
    cache.clear()
    yield
    cache.clear()


def test_a_cached_token_costs_no_query(token_cache, citizen, django_assert_num_queries):
    token = api_token_issue(user=citizen).token
    assert api_token_authenticate(token) == citizen  # miss: query, touch, store
    with django_assert_num_queries(0):
        assert api_token_authenticate(token) == citizen


def test_without_the_setting_every_request_queries(settings, citizen, django_assert_num_queries):
    settings.AUTH_CACHE_SECONDS = 0
    token = api_token_issue(user=citizen).token
    api_token_authenticate(token)
    # The live token, then its active account: two plain (prepared) statements.
    with django_assert_num_queries(2):
        assert api_token_authenticate(token) == citizen


def test_revoking_takes_effect_on_the_next_request(token_cache, citizen):
    token = api_token_issue(user=citizen).token
    assert api_token_authenticate(token) == citizen
    assert api_token_revoke(user=citizen, token=token) == 1
    assert api_token_authenticate(token) is None


def test_revoking_by_id_or_all_clears_the_cache(token_cache, citizen):
    first = api_token_issue(user=citizen)
    second = api_token_issue(user=citizen).token
    assert api_token_authenticate(first.token) == citizen
    assert api_token_authenticate(second) == citizen
    api_token_revoke(user=citizen, token_id=first.record.pk)
    assert api_token_authenticate(first.token) is None
    assert api_token_authenticate(second) == citizen
    api_token_revoke(user=citizen)
    assert api_token_authenticate(second) is None


def test_a_deactivated_account_is_refused_at_once(token_cache, citizen):
    token = api_token_issue(user=citizen).token
    assert api_token_authenticate(token) == citizen
    citizen.is_active = False
    citizen.save()
    assert api_token_authenticate(token) is None


def test_a_token_edited_in_the_admin_is_reread(token_cache, citizen):
    issued = api_token_issue(user=citizen)
    assert api_token_authenticate(issued.token) == citizen
    record = ApiToken.objects.get(pk=issued.record.pk)
    record.revoked_at = timezone.now()
    record.save()
    assert api_token_authenticate(issued.token) is None


def test_an_expired_token_is_refused_even_from_the_cache(token_cache, citizen):
    token = api_token_issue(user=citizen).token
    assert api_token_authenticate(token) == citizen
    later = timezone.now() + datetime.timedelta(days=365)
    with mock.patch("covidhub.accounts.services.timezone.now", return_value=later):
        assert api_token_authenticate(token) is None


def test_last_use_is_kept_at_most_every_five_minutes(token_cache, citizen):
    issued = api_token_issue(user=citizen)
    api_token_authenticate(issued.token)
    first = ApiToken.objects.get(pk=issued.record.pk).last_used_at
    assert first is not None
    api_token_authenticate(issued.token)
    assert ApiToken.objects.get(pk=issued.record.pk).last_used_at == first
    later = timezone.now() + datetime.timedelta(minutes=6)
    with mock.patch("covidhub.accounts.services.timezone.now", return_value=later):
        assert api_token_authenticate(issued.token) == citizen
    assert ApiToken.objects.get(pk=issued.record.pk).last_used_at == later


def _queries_of(client, path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    return response, [q["sql"] for q in captured.captured_queries]


def test_a_staff_session_reads_account_and_device_from_the_cache(
    token_cache, commune_officer, login
):
    client = login(commune_officer)
    first, _ = _queries_of(client, "/api/v1/me")
    assert first.status_code == 200  # also keeps the last activity, which clears the entry
    client.get("/api/v1/me")
    second, queries = _queries_of(client, "/api/v1/me")
    assert second.status_code == 200
    assert not any('FROM "accounts_user"' in q for q in queries), queries
    assert not any("otp_totp_totpdevice" in q for q in queries), queries


def test_a_deactivated_staff_account_is_signed_out_at_once(token_cache, commune_officer, login):
    client = login(commune_officer)
    assert client.get("/api/v1/me").status_code == 200
    commune_officer.is_active = False
    commune_officer.save()
    assert client.get("/api/v1/me").status_code == 401


def test_a_removed_device_unverifies_the_session_at_once(token_cache, commune_officer, login):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = login(commune_officer)
    assert client.get("/api/v1/me").status_code == 200
    TOTPDevice.objects.get(user=commune_officer).delete()
    assert client.get("/api/v1/me").status_code == 401


def test_a_changed_password_ends_other_sessions(token_cache, commune_officer, login):
    client = login(commune_officer)
    assert client.get("/api/v1/me").status_code == 200
    commune_officer.set_password("Another-Long-Passw0rd!")
    commune_officer.save()
    assert client.get("/api/v1/me").status_code == 401


def test_a_role_taken_away_applies_on_the_next_request(
    token_cache, commune_officer, login, django_assert_num_queries
):
    from covidhub.accounts.models import RoleAssignment
    from covidhub.accounts.scoping import actor_scope

    assert actor_scope(commune_officer).roles
    fresh = type(commune_officer).objects.get(pk=commune_officer.pk)
    with django_assert_num_queries(0):
        assert actor_scope(fresh).roles  # from the shared cache
    RoleAssignment.objects.get(user=commune_officer).delete()
    again = type(commune_officer).objects.get(pk=commune_officer.pk)
    assert not actor_scope(again).roles


def test_another_process_revoking_takes_effect_here_within_seconds(token_cache, citizen, settings):
    """Revoked through another server process: that process clears Redis, and this one's
    own copy lapses after AUTH_LOCAL_CACHE_SECONDS."""
    import time

    from covidhub.accounts.services import _token_cache_key, _token_hash

    settings.AUTH_LOCAL_CACHE_SECONDS = 5
    token = api_token_issue(user=citizen).token
    assert api_token_authenticate(token) == citizen
    ApiToken.objects.update(revoked_at=timezone.now())  # the other process's write…
    cache.delete(_token_cache_key(_token_hash(token)))  # …and its clearing of Redis
    assert api_token_authenticate(token) == citizen  # this process's copy, for seconds
    later = time.monotonic() + 6
    with mock.patch("covidhub.accounts.services.time.monotonic", return_value=later):
        assert api_token_authenticate(token) is None


def test_each_request_gets_its_own_copy_of_the_account(token_cache, citizen):
    token = api_token_issue(user=citizen).token
    first = api_token_authenticate(token)
    first.some_attribute = "set by a view"
    second = api_token_authenticate(token)
    assert second == citizen and not hasattr(second, "some_attribute")
