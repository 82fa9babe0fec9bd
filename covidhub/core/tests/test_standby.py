"""The router against a real PostgreSQL 15 streaming standby (pg_basebackup of a throwaway
primary, tests/standby.py): reads come from it, its replay lag is measured, and reads fall
back to the primary when it lags past the bound, has not replayed what a cache will keep,
or stops. About 10 s, in the PostgreSQL run (alone: `pytest -m standby`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from covidhub.areas.models import Area
from covidhub.core.replicas import (
    health,
    primary_position,
    read_database,
    reads_from_replica,
    replica_caught_up_to,
    replicas_readiness,
    standbys_seen_by_primary,
)
from covidhub.core.tests import standby as pg
from covidhub.core.tests.databases import like_default

pytestmark = pytest.mark.standby

STANDBY = "replica_1"


def settings_for(url_port: int) -> dict[str, Any]:
    return like_default(
        ENGINE="django.db.backends.postgresql",
        NAME="postgres",
        USER="postgres",
        PASSWORD="",
        HOST="127.0.0.1",
        PORT=str(url_port),
        OPTIONS={"connect_timeout": 2},
        CONN_MAX_AGE=0,
        CONN_HEALTH_CHECKS=False,
    )


@contextlib.contextmanager
def as_connection(alias: str, settings_dict: dict[str, Any]) -> Iterator[Any]:
    """`connections[alias]` in this thread is a connection to another server for the
    block (the primary of the pair stands in for "default"), then the one it was."""
    from django.db.utils import load_backend

    configured = connections.configure_settings(
        {"default": connections.settings["default"], alias: settings_dict}
    )[alias]
    wrapper = load_backend(configured["ENGINE"]).DatabaseWrapper(configured, alias)
    try:
        previous = connections[alias]
    except Exception:
        previous = None
    connections[alias] = wrapper
    try:
        yield wrapper
    finally:
        wrapper.close()
        if previous is not None:
            connections[alias] = previous
        else:
            del connections[alias]


@pytest.fixture(scope="module")
def pair(django_db_blocker: Any) -> Iterator[tuple[pg.Server, pg.Server]]:
    if not pg.available() or connections["default"].vendor != "postgresql":
        pytest.skip("needs PostgreSQL 15's binaries (initdb, pg_basebackup)")
    with django_db_blocker.unblock(), pg.standby_pair() as (primary, standby):
        with as_connection("default", settings_for(primary.port)) as connection:
            with connection.schema_editor() as editor:
                editor.create_model(Area)
            Area.objects.create(level=1, code="30", name="first", path="30/")
        standby.wait_replayed(primary)
        yield primary, standby


@pytest.fixture
def routed(
    pair: Any, settings: Any, django_db_blocker: Any
) -> Iterator[tuple[pg.Server, pg.Server]]:
    primary, standby = pair
    settings.DATABASE_REPLICAS = [STANDBY]
    settings.DATABASE_ROUTERS = ["covidhub.core.replicas.PrimaryReplicaRouter"]
    settings.REPLICA_MAX_LAG_SECONDS = 1
    settings.REPLICA_LAG_CHECK_SECONDS = 0
    settings.REPLICA_RETRY_SECONDS = 5
    settings.REPLICA_PIN_SECONDS = 10
    health.forget()
    with (
        django_db_blocker.unblock(),
        as_connection("default", settings_for(primary.port)),
        as_connection(STANDBY, settings_for(standby.port)),
    ):
        yield primary, standby
    health.forget()


def name_in_scope() -> tuple[str, str]:
    with reads_from_replica():
        alias, _reason = read_database(Area)
        return Area.objects.get(code="30").name, alias


def test_reads_come_from_the_streaming_standby(routed):
    with CaptureQueriesContext(connections[STANDBY]) as on_standby:
        assert name_in_scope() == ("first", STANDBY)
    assert any("areas_area" in q["sql"] for q in on_standby.captured_queries)
    state = replicas_readiness()[STANDBY]
    assert state["status"] == "ok" and state["lag_seconds"] < 1
    assert [name for name, _state, _lag in standbys_seen_by_primary()] == ["walreceiver"]


def test_a_standby_lagging_past_the_bound_is_skipped_until_it_catches_up(routed):
    primary, standby = routed
    standby.sql("SELECT pg_wal_replay_pause()")
    try:
        Area.objects.filter(code="30").update(name="second")
        time.sleep(1.5)
        assert name_in_scope() == ("second", "default")
        state = replicas_readiness()[STANDBY]
        assert state["status"] == "lagging" and state["lag_seconds"] > 1
    finally:
        standby.sql("SELECT pg_wal_replay_resume()")
    standby.wait_replayed(primary)
    assert name_in_scope() == ("second", STANDBY)


def test_what_a_cache_keeps_is_read_only_where_the_change_was_replayed(routed, settings):
    primary, standby = routed
    settings.REPLICA_MAX_LAG_SECONDS = 60
    settings.REPLICA_PIN_SECONDS = 61
    standby.sql("SELECT pg_wal_replay_pause()")
    try:
        Area.objects.filter(code="30").update(name="third")
        position = primary_position()
        with reads_from_replica():
            # Within the lag bound (just changed), but not replayed: the primary.
            with replica_caught_up_to(position):
                assert Area.objects.get(code="30").name == "third"
            assert Area.objects.get(code="30").name == "second"  # the standby, as allowed
    finally:
        standby.sql("SELECT pg_wal_replay_resume()")
    standby.wait_replayed(primary)
    with reads_from_replica(), replica_caught_up_to(position):
        assert read_database(Area) == (STANDBY, "replica")
        assert Area.objects.get(code="30").name == "third"


def test_a_stopped_standby_sends_reads_to_the_primary(routed):
    _primary, standby = routed

    @reads_from_replica
    def page() -> str:
        return Area.objects.get(code="30").name

    assert page() == "third"
    standby.stop("immediate")
    try:
        assert page() == "third"  # failed on the standby, run again on the primary
        assert health.states[STANDBY].status == "unavailable"
        assert replicas_readiness()[STANDBY]["status"] == "unavailable"
    finally:
        standby.start()
