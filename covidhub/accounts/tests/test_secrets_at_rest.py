"""Staff TOTP keys and session keys are not in clear in the database (issue 16, the gaps
left after the penetration test): each test reads the raw row, as a backup reader would."""

from __future__ import annotations

import importlib
import io
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.core import serializers
from django.db import connection
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from covidhub.accounts.sessions import SessionStore as RedisSessionStore
from covidhub.accounts.sessions import sessions_here_clear
from covidhub.accounts.tests.test_staff_auth import current_code
from covidhub.accounts.totp_keys import PREFIX

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


def _raw_keys() -> list[str]:
    table = connection.ops.quote_name(TOTPDevice._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key FROM {table}")  # noqa: S608 - a table name from model metadata
        return [row[0] for row in cursor.fetchall()]


def _raw_session_keys() -> list[str]:
    table = connection.ops.quote_name(Session._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT session_key FROM {table}")  # noqa: S608 - as above
        return [row[0] for row in cursor.fetchall()]


def _historical_apps() -> Any:
    """The models as the migration sees them (django-otp's plain key field)."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(connection)
    return loader.project_state(("accounts", "0003_secrets_at_rest")).apps


def test_a_totp_key_is_sealed_in_the_database_and_still_verifies(commune_officer):
    device = TOTPDevice.objects.get(user=commune_officer)
    key_hex = device.key
    assert len(key_hex) == 40 and int(key_hex, 16) >= 0  # Python sees the hex key
    [stored] = _raw_keys()
    assert stored.startswith(PREFIX)
    assert key_hex not in stored.lower()
    assert bytes.fromhex(key_hex).hex() not in stored
    # The sign-in still verifies codes from the authenticator app.
    client = Client()
    client.post("/staff/signin/", {"username": "officer", "password": PASSWORD})
    response = client.post("/staff/signin/verify/", {"token": current_code(device)})
    assert response["Location"] == "/staff/"
    # Its save after verification (drift, last code) wrote the key sealed again.
    [stored_after] = _raw_keys()
    assert stored_after.startswith(PREFIX) and key_hex not in stored_after.lower()
    assert TOTPDevice.objects.get(pk=device.pk).key == key_hex


def test_enrolment_shows_the_key_once_and_stores_it_sealed(make_staff, area_tree):
    user = make_staff("newcomer", "commune_officer", area_tree["commune"])
    TOTPDevice.objects.filter(user=user).delete()
    client = Client()
    client.post("/staff/signin/", {"username": "newcomer", "password": PASSWORD})
    page = client.get("/staff/signin/enrol/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user)
    [stored] = _raw_keys()
    assert stored.startswith(PREFIX) and device.key not in stored.lower()
    response = client.post("/staff/signin/enrol/", {"token": current_code(device)})
    assert response.status_code == 302
    assert TOTPDevice.objects.get(pk=device.pk).confirmed


def test_a_queryset_update_and_a_dump_hold_no_clear_key(commune_officer):
    device = TOTPDevice.objects.get(user=commune_officer)
    TOTPDevice.objects.filter(pk=device.pk).update(key="ab" * 20)
    [stored] = _raw_keys()
    assert stored.startswith(PREFIX) and "ab" * 20 not in stored
    assert TOTPDevice.objects.get(pk=device.pk).key == "ab" * 20
    dumped = serializers.serialize("json", TOTPDevice.objects.all())
    assert "ab" * 20 not in dumped and PREFIX in dumped


def test_a_key_that_cannot_be_opened_refuses_codes_without_an_error(commune_officer, settings):
    device = TOTPDevice.objects.get(user=commune_officer)
    code = current_code(device)
    settings.SECRET_KEY = "a different key, as if the sealing key had been lost " * 2
    client = Client()
    client.post("/staff/signin/", {"username": "officer", "password": PASSWORD})
    response = client.post("/staff/signin/verify/", {"token": code})
    assert response.status_code == 200  # the form again, "the code is wrong"
    assert "_auth_user_id" not in client.session


def test_the_migration_seals_the_keys_stored_in_clear(commune_officer):
    migration = importlib.import_module("covidhub.accounts.migrations.0003_secrets_at_rest")
    device = TOTPDevice.objects.get(user=commune_officer)
    key_hex = device.key
    table = connection.ops.quote_name(TOTPDevice._meta.db_table)
    with connection.cursor() as cursor:  # a row as django-otp wrote it before
        cursor.execute(f"UPDATE {table} SET key = %s", [key_hex])  # noqa: S608
    assert _raw_keys() == [key_hex]

    apps = _historical_apps()
    migration.seal_totp_keys(apps, None)
    [stored] = _raw_keys()
    assert stored.startswith(PREFIX)
    assert TOTPDevice.objects.get(pk=device.pk).key == key_hex
    migration.open_totp_keys(apps, None)  # reversible
    assert _raw_keys() == [key_hex]


@pytest.mark.parametrize("engine", ["covidhub.accounts.sessions_db", "covidhub.accounts.sessions"])
def test_a_session_key_is_never_stored_and_the_session_still_works(
    engine, commune_officer, settings
):
    settings.SESSION_ENGINE = engine
    settings.AUTH_LOCAL_CACHE_SECONDS = 0
    sessions_here_clear()
    client = Client()
    client.post("/staff/signin/", {"username": "officer", "password": PASSWORD})
    device = TOTPDevice.objects.get(user=commune_officer)
    client.post("/staff/signin/verify/", {"token": current_code(device)})
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert cookie
    stored = _raw_session_keys()
    assert stored and cookie not in stored
    assert all(cookie not in row for row in stored)
    assert client.get("/staff/").status_code == 200  # the cookie still finds its session
    # Presenting a stored name as a cookie finds nothing: a copy of the table is no key.
    thief = Client()
    thief.cookies[settings.SESSION_COOKIE_NAME] = stored[0]
    assert thief.get("/staff/").status_code == 302
    # Signing out deletes the row.
    client.post("/signout/")
    assert cookie not in _raw_session_keys()
    assert client.get("/staff/").status_code == 302


def test_the_redis_entry_is_named_by_the_hash_too(settings):
    settings.AUTH_LOCAL_CACHE_SECONDS = 0
    store = RedisSessionStore()
    store["x"] = 1
    store.create()
    key = store.session_key
    assert key
    assert key not in store.cache_key
    assert store._cache.get(store.cache_key) == {"x": 1}
    store.delete()
    assert store._cache.get(RedisSessionStore.cache_key_prefix + key) is None
    assert not Session.objects.exists()


def test_the_migration_drops_sessions_stored_by_their_key(settings: Any):
    from django.contrib.sessions.backends.db import SessionStore as PlainStore

    plain = PlainStore()
    plain["x"] = 1
    plain.create()
    assert plain.session_key in _raw_session_keys()
    migration = importlib.import_module("covidhub.accounts.migrations.0003_secrets_at_rest")
    migration.drop_sessions(_historical_apps(), None)
    assert _raw_session_keys() == []


def test_a_new_first_key_opens_old_keys_and_reseal_moves_them(commune_officer, settings):
    from django.core.management import call_command

    device = TOTPDevice.objects.get(user=commune_officer)
    key_hex = device.key
    [sealed_before] = _raw_keys()
    settings.SECRETS_KEYS = ["a brand new key for secrets at rest", settings.SECRET_KEY]
    assert TOTPDevice.objects.get(pk=device.pk).key == key_hex  # the old key still opens it
    call_command("secrets_reseal", stdout=io.StringIO())
    [sealed_after] = _raw_keys()
    assert sealed_after != sealed_before
    settings.SECRETS_KEYS = ["a brand new key for secrets at rest"]
    settings.SECRET_KEY = "and SECRET_KEY rotated as well, long enough to be a real key"
    assert TOTPDevice.objects.get(pk=device.pk).key == key_hex  # the old key may go
