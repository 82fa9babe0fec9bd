"""Database aliases added for one test: a second real database standing in for a standby,
a second connection to the test database, or a real standby (tests/standby.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from django.db import connections
from django.db.utils import load_backend


@contextlib.contextmanager
def database_alias(alias: str, settings_dict: dict[str, Any]) -> Iterator[Any]:
    """`connections[alias]` for the block (in this thread), configured as DATABASES[alias]
    would be. Not added to DATABASES: the test case allows connections made this way."""
    configured = connections.configure_settings(
        {"default": connections.settings["default"], alias: settings_dict}
    )[alias]
    backend = load_backend(configured["ENGINE"])
    connection = backend.DatabaseWrapper(configured, alias)
    connections[alias] = connection
    try:
        yield connection
    finally:
        with contextlib.suppress(Exception):
            connection.close()
        with contextlib.suppress(AttributeError, KeyError):
            del connections[alias]


def like_default(**changes: Any) -> dict[str, Any]:
    """The test database's settings, with `changes`."""
    settings_dict = {
        key: value
        for key, value in connections["default"].settings_dict.items()
        if key not in ("TEST",)
    }
    settings_dict["TEST"] = {"MIRROR": "default"}
    settings_dict.update(changes)
    return settings_dict


@contextlib.contextmanager
def separate_database(tmp_path: Any) -> Iterator[dict[str, Any]]:
    """Settings of a second, empty database of the test database's engine: a file beside
    the test on SQLite, `<test database>_replica` on PostgreSQL (dropped afterwards)."""
    default = connections["default"]
    if default.vendor == "sqlite":
        yield like_default(NAME=str(tmp_path / "replica.sqlite3"))
        return
    name = f"{default.settings_dict['NAME']}_replica"
    with default._nodb_cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield like_default(NAME=name)
    finally:
        with default._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
