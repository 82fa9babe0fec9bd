"""A self-check as one statement on PostgreSQL: the busiest write of home care (a morning
wave is every person under care within an hour or two).

Through the ORM a check was a look-up of the client key, a savepoint around the INSERT, the
order's UPDATE (last check-in) and the audit row's INSERT: six round trips, each statement
compiled anew. Here one statement (data-modifying CTEs, built once per process) inserts the
check unless its client key is already recorded for the order (`ON CONFLICT DO NOTHING` on
the unique constraint: a replay, or the same key arriving at the same moment on another
connection, records nothing), and only with that new row moves the order's last check-in
forward and writes the audit row. Alone it is its own transaction: a check without a
warning sign needs no other. SQLite keeps the ORM path (`_check_store_orm`); the suite runs
on both, and a test compares the rows the two paths write.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction

from covidhub.audit.models import AuditEvent
from covidhub.core.rawsql import (
    insert_fields,
    insert_returning_pk,
    insert_sql,
    insert_values,
    statement_once,
)
from covidhub.homecare.models import CareOrder, SelfCheck


def single_statement_supported() -> bool:
    """Whether the default database takes data-modifying CTEs (PostgreSQL does)."""
    return bool(connections[DEFAULT_DB_ALIAS].vendor == "postgresql")


def _check_statement(quote: Callable[[str], str]) -> str:
    order = quote(CareOrder._meta.db_table)
    last = quote("last_check_at")
    return (
        f"WITH new_check AS ({insert_sql(SelfCheck, quote)} "  # noqa: S608 - names from model metadata, values as parameters
        f"ON CONFLICT ({quote('order_id')}, {quote('client_key')}) DO NOTHING RETURNING id), "
        f"touched AS (UPDATE {order} SET {last} = %s WHERE id = %s "
        f"AND ({last} IS NULL OR {last} <= %s) AND EXISTS (SELECT 1 FROM new_check)), "
        f"audit AS ({insert_sql(AuditEvent, quote, 'new_check')}) "
        "SELECT id FROM new_check"
    )


def check_store(*, check: SelfCheck, event: AuditEvent) -> bool:
    """Insert `check` (unsaved, its order's id set), move its order's last check-in forward
    to the check's time and write `event` (the audit row), or write nothing if the order
    already has a check with the same client key. Returns whether the check was written
    (then it is a saved instance). On PostgreSQL one statement, which may run outside a
    transaction (it is then its own); elsewhere the ORM's writes, in the caller's
    transaction."""
    database = connections[DEFAULT_DB_ALIAS]
    if database.vendor != "postgresql":
        return _check_store_orm(check=check, event=event)
    adapt = database.ops.adapt_datetimefield_value
    measured = adapt(check.measured_at)
    values = [
        *insert_values(check, database, insert_fields(SelfCheck)),
        measured,
        check.order_id,
        measured,
        *insert_values(event, database, insert_fields(AuditEvent)),
    ]
    statement = statement_once(database, "homecare.check", _check_statement)
    return insert_returning_pk(check, database, statement, values)


def _check_store_orm(*, check: SelfCheck, event: AuditEvent) -> bool:
    database = connections[DEFAULT_DB_ALIAS]
    if not database.in_atomic_block:
        raise RuntimeError("check_store runs inside the check's transaction here")
    if SelfCheck.objects.filter(order_id=check.order_id, client_key=check.client_key).exists():
        return False
    try:
        with transaction.atomic():
            check.save(force_insert=True)
    except IntegrityError:
        # The same key arrived at the same moment on another connection.
        return False
    CareOrder.objects.filter(pk=check.order_id).exclude(last_check_at__gt=check.measured_at).update(
        last_check_at=check.measured_at
    )
    event.save(force_insert=True)
    return True


def stored_check(order_id: int, client_key: str) -> Any:
    """The check an order already has under `client_key` (a replay's answer)."""
    return SelfCheck.objects.get(order_id=order_id, client_key=client_key)
