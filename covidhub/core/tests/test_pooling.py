"""The hot paths' prepared statements, pipelines and cursors through a real PgBouncer in
transaction mode (Debian 12's 1.18, which does not track prepared statements): a control
that shows what breaks with statements prepared, and the settings of DB_POOL_MODE=transaction
that make the same traffic work."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import DatabaseError, connections, transaction

from covidhub.core import rawsql
from covidhub.core.models import BenchProbe
from covidhub.core.tests import pooler
from covidhub.core.tests.databases import database_alias, like_default

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def bouncer_port() -> Iterator[int]:
    if not pooler.available():
        pytest.skip("needs pgbouncer (apt-get install -y pgbouncer)")
    server = connections["default"].settings_dict
    # One server connection for everyone: any two clients share it in turn, as under load.
    with pooler.pgbouncer(
        host=server["HOST"] or "127.0.0.1",
        port=int(server["PORT"] or 5432),
        pool_mode="transaction",
        pool_size=1,
    ) as port:
        yield port


def tuned(monkeypatch: Any, mode: str, **env: str) -> dict[str, Any]:
    """DATABASES settings as config/settings.py makes them for DB_POOL_MODE=mode."""
    import config.settings as project_settings

    monkeypatch.setattr(project_settings, "DB_POOL_MODE", mode)
    monkeypatch.delenv("DB_PREPARE_THRESHOLD", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result: dict[str, Any] = project_settings._postgres_tuned({"OPTIONS": {}})
    return result


@contextlib.contextmanager
def two_clients(port: int, database: dict[str, Any]) -> Iterator[tuple[str, str]]:
    options = {**connections["default"].settings_dict["OPTIONS"], **database["OPTIONS"]}
    settings_dict = like_default(
        HOST="127.0.0.1",
        PORT=str(port),
        OPTIONS=options,
        DISABLE_SERVER_SIDE_CURSORS=database["DISABLE_SERVER_SIDE_CURSORS"],
        CONN_MAX_AGE=0,
    )
    with database_alias("pooled_a", settings_dict), database_alias("pooled_b", settings_dict):
        yield "pooled_a", "pooled_b"


def hot_traffic(a: str, b: str) -> None:
    """What two server processes do through one pooled server connection: the same reads
    again and again (prepared after DB_PREPARE_THRESHOLD runs), a pipelined transaction
    that commits with its last statement, and a read in chunks (`.iterator()`)."""
    for n in range(8):
        for alias in (a, b):
            assert BenchProbe.objects.using(alias).filter(key=f"probe-{n}").count() == 0
    with transaction.atomic(using=a), rawsql.pipelined(using=a):
        for n in range(3):
            BenchProbe.objects.using(a).create(key=f"pipelined-{n}")
        rawsql.execute_committing(
            "INSERT INTO core_benchprobe (key, created_at) VALUES (%s, now())",
            ["committed"],
            using=a,
        )
    keys = []
    for probe in BenchProbe.objects.using(b).order_by("key").iterator(chunk_size=1):
        keys.append(probe.key)
        assert BenchProbe.objects.using(a).filter(key=probe.key).exists()
    assert keys == ["committed", "pipelined-0", "pipelined-1", "pipelined-2"]


def test_control_prepared_statements_break_in_transaction_mode(bouncer_port, monkeypatch):
    database = tuned(monkeypatch, "none", DB_PREPARE_THRESHOLD="1")
    assert database["OPTIONS"]["prepare_threshold"] == 1
    with two_clients(bouncer_port, database) as (a, b), pytest.raises(DatabaseError):
        hot_traffic(a, b)


def test_the_hot_paths_work_with_the_transaction_mode_settings(bouncer_port, monkeypatch):
    database = tuned(monkeypatch, "transaction")
    assert database["OPTIONS"]["prepare_threshold"] is None
    assert database["DISABLE_SERVER_SIDE_CURSORS"] is True
    with two_clients(bouncer_port, database) as (a, b):
        hot_traffic(a, b)


def test_the_pool_mode_settings(monkeypatch):
    assert tuned(monkeypatch, "none")["OPTIONS"]["prepare_threshold"] == 5
    assert tuned(monkeypatch, "session")["OPTIONS"]["prepare_threshold"] == 5
    assert tuned(monkeypatch, "session")["DISABLE_SERVER_SIDE_CURSORS"] is False
    # PgBouncer 1.21+ with max_prepared_statements: the operator may prepare again.
    again = tuned(monkeypatch, "transaction", DB_PREPARE_THRESHOLD="5")
    assert again["OPTIONS"]["prepare_threshold"] == 5
    assert again["DISABLE_SERVER_SIDE_CURSORS"] is True
