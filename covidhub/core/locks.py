"""Named locks held to the end of the transaction, for work that has no row of its own to
lock: a new version built on the newest one (of the value sets, of a province's care
protocol). Locking the newest row does not hold there: the version the first writer adds
is a new row, which a third writer can lock while the second still waits on the old one,
and the second then builds on a version that is no longer the newest.

On PostgreSQL a transaction-level advisory lock (`pg_advisory_xact_lock`, keyed by a
64-bit hash of the name), released at commit or rollback. SQLite runs one writing
transaction at a time: a second writer that read before the first committed is refused
("database is locked"), never handed a stale newest row to build on.
"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connections


def transaction_lock(name: str, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Take the lock `name` until the current transaction ends (waiting for whoever holds
    it). Call it inside `transaction.atomic()`, before reading what the work builds on."""
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("transaction_lock() needs a transaction (transaction.atomic).")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [name])
