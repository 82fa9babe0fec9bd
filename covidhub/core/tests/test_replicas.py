"""The database router's decisions, with two real databases: the test database as the
primary and a second one standing in for a standby, holding different rows under the same
keys, so that each read shows where it went. (A real streaming standby, its replay lag
and its loss: test_standby.py, run by the replica drill.)"""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest
from django.db import connections, transaction
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from prometheus_client import REGISTRY

from covidhub.areas.models import Area
from covidhub.core import replicas
from covidhub.core.replicas import (
    PIN_COOKIE,
    ReplicaMiddleware,
    ReplicaState,
    health,
    primary_position,
    read_database,
    reads_from_replica,
    replica_caught_up_to,
)
from covidhub.core.tests.databases import database_alias, like_default, separate_database

pytestmark = pytest.mark.django_db(transaction=True)

STANDBY = "replica_1"


@pytest.fixture
def routed(settings: Any) -> Any:
    """The router installed with one standby alias, and no knowledge of it yet."""
    settings.DATABASE_REPLICAS = [STANDBY]
    settings.DATABASE_ROUTERS = ["covidhub.core.replicas.PrimaryReplicaRouter"]
    settings.REPLICA_MAX_LAG_SECONDS = 5
    settings.REPLICA_LAG_CHECK_SECONDS = 1
    settings.REPLICA_RETRY_SECONDS = 5
    settings.REPLICA_PIN_SECONDS = 10
    health.forget()
    yield settings
    health.forget()


@pytest.fixture
def standin(routed: Any, tmp_path: Any) -> Any:
    """A second real database as the standby: the same area under the same key, named
    "on the standby" there and "on the primary" here."""
    with separate_database(tmp_path) as settings_dict, database_alias(STANDBY, settings_dict):
        with connections[STANDBY].schema_editor() as editor:
            editor.create_model(Area)
        area = Area.objects.using("default").create(
            level=1, code="99", name="on the primary", path="99/"
        )
        Area.objects.using(STANDBY).create(
            pk=area.pk, level=1, code="99", name="on the standby", path="99/"
        )
        yield area
        connections[STANDBY].close()


def name_read(pk: int) -> str:
    return Area.objects.get(pk=pk).name


def reads(database: str, reason: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "covidhub_db_reads_total", {"database": database, "reason": reason}
        )
        or 0.0
    )


def usable_state(alias: str = STANDBY, **fields: Any) -> ReplicaState:
    state = ReplicaState(
        alias,
        status="ok",
        lag_seconds=0.0,
        checked_at=time.monotonic(),
    )
    for key, value in fields.items():
        setattr(state, key, value)
    return state


def test_reads_outside_a_replica_scope_stay_on_the_primary(standin):
    assert name_read(standin.pk) == "on the primary"


def test_reads_inside_a_replica_scope_come_from_the_standby(standin):
    before = reads("replica", "replica")
    with reads_from_replica():
        assert name_read(standin.pk) == "on the standby"
    assert reads("replica", "replica") == before + 1
    assert name_read(standin.pk) == "on the primary"


def test_a_decorated_view_reads_the_standby(standin):
    @reads_from_replica
    def view(pk: int) -> str:
        return name_read(pk)

    assert view(standin.pk) == "on the standby"


def test_a_read_inside_a_transaction_stays_on_the_primary(standin):
    with reads_from_replica(), transaction.atomic():
        assert name_read(standin.pk) == "on the primary"
        assert read_database(Area) == ("default", "transaction")


def test_after_a_write_the_scope_reads_the_primary(standin):
    with reads_from_replica():
        assert name_read(standin.pk) == "on the standby"
        Area.objects.filter(pk=standin.pk).update(name="renamed on the primary")
        assert name_read(standin.pk) == "renamed on the primary"
    # The write went to the primary only.
    assert Area.objects.using(STANDBY).get(pk=standin.pk).name == "on the standby"


def test_identity_and_invariant_rows_are_never_read_on_a_standby(standin):
    from covidhub.accounts.models import User
    from covidhub.core.models import IdempotencyRecord

    with reads_from_replica():
        assert read_database(User) == ("default", "model")
        assert read_database(IdempotencyRecord) == ("default", "model")
        assert read_database(Area) == (STANDBY, "replica")


def test_without_standbys_the_router_changes_nothing(standin, settings):
    settings.DATABASE_REPLICAS = []
    with reads_from_replica():
        assert name_read(standin.pk) == "on the primary"


def test_a_standby_over_the_lag_bound_is_skipped(standin):
    health.states[STANDBY] = usable_state(status="lagging", lag_seconds=9.0)
    before = reads("primary", "lagging")
    with reads_from_replica():
        assert name_read(standin.pk) == "on the primary"
    assert reads("primary", "lagging") == before + 1


def test_lag_is_measured_again_after_the_check_interval(standin):
    # Known as lagging a while ago: the next read measures it again (the stand-in is no
    # standby, so its lag is 0) and uses it.
    health.states[STANDBY] = usable_state(
        status="lagging", lag_seconds=9.0, checked_at=time.monotonic() - 2
    )
    with reads_from_replica():
        assert name_read(standin.pk) == "on the standby"
    assert health.states[STANDBY].status == "ok"
    assert health.states[STANDBY].lag_seconds == 0.0


def test_what_will_be_kept_is_read_where_the_change_is_known_to_be(standin):
    """A cache filled until the next change reads a standby only once it has replayed that
    change; where the change stands is unknown (None), the primary."""
    with reads_from_replica():
        with replica_caught_up_to(None):
            assert name_read(standin.pk) == "on the primary"
        with replica_caught_up_to(primary_position()):
            assert name_read(standin.pk) == "on the standby"


def dead_standby_settings(tmp_path: Any) -> dict[str, Any]:
    if connections["default"].vendor == "sqlite":
        return like_default(NAME=str(tmp_path / "no-such-directory" / "standby.sqlite3"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    return like_default(HOST="127.0.0.1", PORT=str(port), OPTIONS={"connect_timeout": 2})


def test_an_unreachable_standby_is_skipped_and_not_asked_again(routed, tmp_path, area_tree):
    with database_alias(STANDBY, dead_standby_settings(tmp_path)):
        before = reads("primary", "unavailable")
        with reads_from_replica():
            assert Area.objects.filter(level=1).count() == 1
        assert reads("primary", "unavailable") == before + 1
        state = health.states[STANDBY]
        assert state.status == "unavailable"
        assert state.down_until > time.monotonic() + 3
        checked = state.checked_at
        with reads_from_replica():
            assert Area.objects.filter(level=1).count() == 1
        assert health.states[STANDBY].checked_at == checked  # not asked again


def test_a_view_whose_standby_fails_midway_runs_again_on_the_primary(routed, tmp_path, area_tree):
    calls = []

    @reads_from_replica
    def view() -> str:
        calls.append(1)
        return Area.objects.get(level=1, code="30").name

    with database_alias(STANDBY, dead_standby_settings(tmp_path)):
        # Believed usable (measured a moment ago), it fails at the view's first read.
        health.states[STANDBY] = usable_state()
        assert view() == "Tỉnh Hải Dương"
        assert len(calls) == 2
        assert health.states[STANDBY].status == "unavailable"


def test_a_view_that_wrote_is_not_run_twice(routed, tmp_path, area_tree):
    calls = []

    @reads_from_replica
    def view() -> str:
        calls.append(1)
        Area.objects.filter(level=1).update(name="Hải Dương")
        return Area.objects.get(level=1, code="30").name

    with database_alias(STANDBY, dead_standby_settings(tmp_path)):
        health.states[STANDBY] = usable_state()
        assert view() == "Hải Dương"  # after the write, read on the primary
        assert len(calls) == 1


def test_an_api_operation_whose_standby_fails_answers_from_the_primary(routed, tmp_path, client):
    """django-ninja turns the standby's error into a 500 inside the operation: the failure
    is still seen, and the look-up answers as it would have (no such code: 404)."""
    with database_alias(STANDBY, dead_standby_settings(tmp_path)):
        health.states[STANDBY] = usable_state()
        response = client.post(
            "/api/v1/testing/lookup",
            {"code": "ABCD-2345", "birth": "01/01/1990"},
            content_type="application/json",
        )
        assert response.status_code == 404
        assert health.states[STANDBY].status == "unavailable"
        # Believed usable again (as after REPLICA_RETRY_SECONDS) and failing again: the
        # closed connection's flag from the first failure does not hide the second.
        health.states[STANDBY] = usable_state()
        client.cookies.clear()  # another citizen (not pinned by the first one's POST)
        response = client.post(
            "/api/v1/testing/lookup",
            {"code": "ABCD-2346", "birth": "01/01/1990"},
            content_type="application/json",
        )
        assert response.status_code == 404


# -- a client that wrote reads its own writes ------------------------------------------


def pinned_view(pk: int) -> Any:
    @reads_from_replica
    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse(name_read(pk))

    return ReplicaMiddleware(view)


def test_a_browser_that_wrote_reads_the_primary_for_a_while(standin, routed):
    app = pinned_view(standin.pk)
    factory = RequestFactory()
    posted = app(factory.post("/portal/contact/"))
    cookie = posted.cookies[PIN_COOKIE]
    assert cookie["max-age"] == routed.REPLICA_PIN_SECONDS
    assert cookie["httponly"]
    assert app(factory.get("/portal/")).content == b"on the standby"
    pinned = factory.get("/portal/")
    pinned.COOKIES[PIN_COOKIE] = cookie.value
    assert app(pinned).content == b"on the primary"
    # A read does not pin.
    assert PIN_COOKIE not in app(factory.get("/portal/")).cookies


def test_an_app_that_wrote_is_pinned_by_its_account(standin, routed, make_citizen):
    app = pinned_view(standin.pk)
    factory = RequestFactory()
    writer = make_citizen("+84912000101")
    other = make_citizen("+84912000102")

    def api_request(method: str, user: Any) -> HttpRequest:
        request = getattr(factory, method)("/api/v1/x", HTTP_AUTHORIZATION="Bearer t")
        request.user = user  # as the API's bearer authentication sets it
        return request

    app(api_request("post", writer))
    assert app(api_request("get", writer)).content == b"on the primary"
    assert app(api_request("get", other)).content == b"on the standby"


# -- whole pages, on a second connection to the test database ---------------------------


@pytest.fixture
def second_connection(routed: Any) -> Any:
    with database_alias(STANDBY, like_default()) as connection:
        yield connection


def test_the_result_lookup_reads_the_standby_unless_the_client_wrote(client, second_connection):
    body = {"code": "ABCD-2345", "birth": "01/01/1990"}
    with CaptureQueriesContext(second_connection) as on_standby:
        client.post("/api/v1/testing/lookup", body, content_type="application/json")
    assert any("testing_" in q["sql"] for q in on_standby.captured_queries)
    # That POST pinned this client (the look-up is a POST): its next look-up reads the primary.
    with CaptureQueriesContext(second_connection) as on_standby:
        client.post("/api/v1/testing/lookup", body, content_type="application/json")
    assert not any("testing_" in q["sql"] for q in on_standby.captured_queries)


def test_a_portal_page_is_built_on_the_standby_only_past_the_last_change(client, second_connection):
    from django.core.cache import cache

    from covidhub.portal import cache as portal_cache

    def announcement_reads() -> int:
        with CaptureQueriesContext(second_connection) as on_standby:
            assert client.get("/portal/announcements/").status_code == 200
        return sum('FROM "portal_announcement"' in q["sql"] for q in on_standby.captured_queries)

    portal_cache.bump()  # records where the primary stands after the change
    assert cache.get(portal_cache.POSITION_KEY) is not None
    assert announcement_reads() == 1
    portal_cache.bump()
    cache.delete(portal_cache.POSITION_KEY)  # unknown (a flushed cache): the primary
    assert announcement_reads() == 0


def test_the_scope_is_per_request(standin):
    """A scope opened in one context does not leak into another thread's reads."""
    import threading

    seen: list[str] = []
    with reads_from_replica():
        thread = threading.Thread(target=lambda: seen.append(replicas.read_database(Area)[0]))
        thread.start()
        thread.join()
    assert seen == ["default"]
