"""A Redis outage: every signed-in page and API call is served from the database (no 500),
the outage is logged once per process, /readyz says "degraded", and what changed during
the outage (a sign-out) is not undone by Redis's stale copy when it answers again.

Redis is real: a closed port, or a redis-server started on a free port and paused with
CLIENT PAUSE (a Redis that hangs), never a mock."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import caches
from django.db import DatabaseError

from covidhub.accounts.authcache import auth_cache_clear_here
from covidhub.accounts.services import api_token_issue
from covidhub.accounts.sessions import sessions_here_clear
from covidhub.core.cache import _breakers

pytestmark = pytest.mark.django_db


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _use_redis(settings: Any, url: str, *, retry_seconds: float) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "covidhub.core.cache.ResilientRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "covidhub-platform-test",
            "OPTIONS": {
                "FALLBACK": "database",
                "RETRY_SECONDS": retry_seconds,
                "socket_timeout": 0.3,
                "socket_connect_timeout": 0.3,
            },
        },
        "database": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "covidhub_cache",
        },
    }
    settings.SESSION_ENGINE = "covidhub.accounts.sessions"
    settings.AUTH_CACHE_SECONDS = 60
    _breakers.clear()
    auth_cache_clear_here()
    sessions_here_clear()


@pytest.fixture
def redis_down(settings: Any) -> Iterator[str]:
    url = f"redis://127.0.0.1:{_free_port()}/13"  # nothing listens there
    _use_redis(settings, url, retry_seconds=60)
    yield url
    _breakers.clear()


def test_signed_in_pages_and_api_calls_are_served_while_redis_is_down(
    redis_down, client, citizen, citizen_person, commune_officer, login, caplog
):
    caplog.set_level(logging.WARNING, logger="covidhub.core.cache")
    citizen_web = login(citizen)
    staff_web = login(commune_officer)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {api_token_issue(user=citizen).token}"}
    answers = {
        "citizen page /": citizen_web.get("/"),
        "citizen page household": citizen_web.get("/me/household/"),
        "citizen page access log": citizen_web.get("/me/access-log/"),
        "staff page workspace": staff_web.get("/staff/"),
        "staff page people": staff_web.get("/staff/people/"),
        "staff page person": staff_web.get(f"/staff/people/{citizen_person.uuid}/"),
        "api me": client.get("/api/v1/me", **bearer),
        "api household": client.get("/api/v1/household", **bearer),
        "api inbox": client.get("/api/v1/inbox", **bearer),
        "api vaccination": client.get("/api/v1/vaccination/me", **bearer),
        "api staff person": staff_web.get(f"/api/v1/staff/people/{citizen_person.uuid}"),
        "api sign-in code": client.post(
            "/api/v1/auth/code", {"phone": "0912000111"}, content_type="application/json"
        ),
        "api result lookup": client.post(
            "/api/v1/testing/lookup",
            {"code": "ZZZZ-ZZZZ", "birth": "15/03/1985"},
            content_type="application/json",
        ),
        "staff sign-in, wrong password": client.post(
            "/staff/signin/", {"username": "officer", "password": "wrong password!"}
        ),
        "portal": client.get("/portal/"),
    }
    statuses = {name: response.status_code for name, response in answers.items()}
    assert all(code < 500 for code in statuses.values()), statuses
    for name in [n for n in answers if n.startswith(("citizen", "staff page", "api me", "api h"))]:
        assert statuses[name] == 200, (name, statuses[name])
    assert b"Nguy" in answers["api staff person"].content
    assert statuses["api sign-in code"] == 202 and statuses["api result lookup"] == 404
    # Still signed in on the next request (the session was kept in the database).
    assert citizen_web.get("/me/household/").status_code == 200
    records = caplog.get_records("setup") + caplog.records
    warnings = [r for r in records if r.name == "covidhub.core.cache"]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]  # once, not per request


def test_rate_limits_still_count_while_redis_is_down(redis_down, client):
    """The result lookup's failure counter moves to the database cache (not fail-open)."""
    for _ in range(12):
        last = client.post(
            "/api/v1/testing/lookup",
            {"code": "ZZZZ-ZZZZ", "birth": "15/03/1985"},
            content_type="application/json",
        )
    assert last.status_code == 429
    # Sign-in codes are counted in their own table, Redis or not.
    for _ in range(5):
        client.post("/api/v1/auth/code", {"phone": "0912000222"}, content_type="application/json")
    refused = client.post(
        "/api/v1/auth/code", {"phone": "0912000222"}, content_type="application/json"
    )
    assert refused.status_code == 429


def test_readiness_reports_a_redis_outage_as_degraded(redis_down, client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "database": "ok",
        "cache": "unavailable",
        "worker": {"status": "ok", "due": 0, "oldest_due_seconds": 0.0},
    }
    assert "no-store" in response["Cache-Control"]


def test_readiness_is_ok_with_its_caches_and_503_without_the_database(client, monkeypatch):
    assert client.get("/readyz").json() == {
        "status": "ok",
        "database": "ok",
        "cache": "ok",
        "worker": {"status": "ok", "due": 0, "oldest_due_seconds": 0.0},
    }
    from django.db.backends.base.base import BaseDatabaseWrapper

    def refuse(self: Any) -> None:
        raise DatabaseError("connection refused")

    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", refuse)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


@pytest.fixture
def redis_server(settings: Any, tmp_path: Any) -> Iterator[tuple[str, Any]]:
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server")
    port = _free_port()
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        url = f"redis://127.0.0.1:{port}/0"
        _use_redis(settings, url, retry_seconds=0.2)
        import redis

        yield url, redis.Redis.from_url(url, socket_timeout=5)
    finally:
        process.terminate()
        process.wait(timeout=10)
        _breakers.clear()


def test_a_sign_out_during_an_outage_is_not_undone_when_redis_returns(redis_server, citizen, login):
    _url, admin = redis_server
    web = login(citizen)
    assert web.get("/me/household/").status_code == 200
    assert admin.dbsize() > 0  # the session is in Redis
    cookie = web.cookies["sessionid"].value  # as another device or a thief keeps it
    admin.client_pause(1500)  # Redis hangs: commands wait longer than the socket timeout
    paused_until = time.monotonic() + 1.5
    assert web.post("/signout/").status_code == 302  # deleted in the database only
    assert caches["default"].degraded  # type: ignore[attr-defined]
    time.sleep(max(0.0, paused_until - time.monotonic()) + 0.3)
    sessions_here_clear()
    auth_cache_clear_here()
    web.cookies["sessionid"] = cookie
    # Redis answers again, still holding the signed-in session: it must not be read.
    response = web.get("/me/household/")
    assert response.status_code == 302 and "/signin/" in response["Location"]
    assert not caches["default"].degraded  # type: ignore[attr-defined]
