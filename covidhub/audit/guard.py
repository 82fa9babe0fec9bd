"""The one door through which audit rows may be removed: the test runner's flush.

The database refuses DELETE (SQLite) and TRUNCATE (PostgreSQL) of ``audit_auditevent``
(migration 0005) unless the connection asks for a purge: on SQLite through the SQL
function ``covidhub_audit_purge_allowed()`` registered here on every connection, on
PostgreSQL through the session setting ``covidhub.audit_purge``. Only the root
``conftest.py`` opens this door, around the flush that empties the database between
transactional tests. It is no protection against the table's owner, who could drop the
triggers: that is what the separate owner role (``manage.py audit_lockdown``) is for.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import connections
from django.db.backends.signals import connection_created

_purge_allowed: ContextVar[bool] = ContextVar("audit_purge_allowed", default=False)


def _sqlite_purge_allowed() -> int:
    return 1 if _purge_allowed.get() else 0


def sqlite_function_register(*, sender: Any, connection: Any, **kwargs: Any) -> None:
    """Give each SQLite connection the function the DELETE trigger asks."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "covidhub_audit_purge_allowed", 0, _sqlite_purge_allowed
        )


def signals_connect() -> None:
    connection_created.connect(sqlite_function_register, dispatch_uid="audit_purge_function")
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None:
            sqlite_function_register(sender=None, connection=connection)


@contextmanager
def audit_purge_allowed(*, using: str = "default") -> Iterator[None]:
    """Let this connection empty the audit table (the test runner's flush only)."""
    connection = connections[using]
    token = _purge_allowed.set(True)
    try:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET covidhub.audit_purge = 'on'")
        yield
    finally:
        _purge_allowed.reset(token)
        if connection.vendor == "postgresql" and connection.connection is not None:
            with connection.cursor() as cursor:
                cursor.execute("RESET covidhub.audit_purge")
