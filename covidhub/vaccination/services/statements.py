"""The writes of a booking and of an injection as one statement each on PostgreSQL.

Through the ORM a confirmed booking is BEGIN, the booking INSERT, the audit INSERT, the
session's conditional UPDATE and COMMIT: five round trips, and the row lock of a popular
session is held from its UPDATE until the commit, across a return to Python. Here one
statement (data-modifying CTEs) takes the place only if one is left, inserts the booking
only if the place was taken and the audit row only with the booking. A statement is
atomic, so none of the three exists without the others, and outside a transaction the
session's row lock is held only while PostgreSQL runs it. A second active booking for the
dose (the partial unique index) fails the whole statement. The capacity check is the same
conditional UPDATE as the ORM path's: concurrent statements wait for the row and re-check.

The end of an injection is likewise one statement for the dose, the person's rewritten
summary and the audit row, inside the injection's transaction; then the dose taken from
the site's stock, whose row every vaccinator of the site locks, as the last statement
with the COMMIT (`core.rawsql.execute_committing`): the row's lock is held only while
PostgreSQL runs the two. The stock's CHECK constraint refuses an overdrawn allocation,
which fails that statement (the COMMIT does not run) and so rolls everything back. The
dose's primary key is drawn beforehand (`dose_id_send`, with the injection's first
reads), so nothing waits for a RETURNING: the dose's statement, the certificate queue's
row and the stock's statement with the COMMIT are sent together (`core.rawsql.pipelined`)
and answered in one round trip.

As with `bulk_create`, no model signals are sent (nothing subscribes to these models').
SQLite keeps the ORM paths (`booking.booking_create`, `day.dose_record`); the suite runs
on both, and tests compare the rows that the two paths write.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models, transaction

from covidhub.accounts.scoping import actor_scope, primary_role
from covidhub.audit.models import AuditEvent
from covidhub.audit.services import audit_event_new
from covidhub.core.rawsql import (
    execute_committing,
    insert_fields,
    insert_returning_pk,
    insert_sql,
    insert_values,
    statement_once,
)
from covidhub.vaccination.models import (
    Booking,
    Dose,
    LotAllocation,
    PersonVaccination,
    Session,
)

# What `status_refresh` rewrites of the summary (all but the person and the reminder).
SUMMARY_FIELDS = (
    "commune",
    "birth_year",
    "priority_group",
    "doses",
    "primary_vaccine",
    "primary_doses",
    "primary_complete",
    "boosters",
    "last_dose_on",
    "next_earliest_on",
    "next_due_on",
    "updated_at",
)


def single_statement_supported() -> bool:
    """Whether the default database takes data-modifying CTEs (PostgreSQL does)."""
    return bool(connections[DEFAULT_DB_ALIAS].vendor == "postgresql")


def audit_event(
    actor: Any,
    action: str,
    obj: models.Model,
    *,
    person_uuid: Any,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """The unsaved audit row that `common.audit(actor, action, obj, ...)` writes for an
    authenticated actor; a test compares the two."""
    return audit_event_new(
        actor=actor,
        actor_role=primary_role(actor_scope(actor)),
        action=action,
        obj=obj,
        person_uuid=person_uuid,
        details=details,
    )


def _booking_statement(quote: Callable[[str], str]) -> str:
    return (
        f"WITH place AS ("  # noqa: S608 - names from model metadata, values as parameters
        f"UPDATE {quote(Session._meta.db_table)} SET booked_count = booked_count + 1 "
        f"WHERE id = %s AND booked_count < capacity RETURNING id"
        f"), booking AS ({insert_sql(Booking, quote, 'place')} RETURNING id"
        f"), audit AS ({insert_sql(AuditEvent, quote, 'booking')}"
        f") SELECT id FROM booking"
    )


def booking_store_with_place(*, booking: Booking, event: AuditEvent) -> bool:
    """Take a place in `booking.session` and insert `booking` and `event`, in one
    statement; False (nothing written) when the session is full. A second active booking
    for the person's dose raises IntegrityError (nothing written either).

    On success `booking` is a saved instance (primary key set).
    """
    # The wrapper itself, not the `connection` proxy: each field's preparation reads it.
    database = connections[DEFAULT_DB_ALIAS]
    values = [
        booking.session_id,
        *insert_values(booking, database, insert_fields(Booking)),
        *insert_values(event, database, insert_fields(AuditEvent)),
    ]
    # Inside a caller's transaction a failed statement would abort it: a savepoint then
    # keeps the failure to this statement, as the ORM path's atomic block does.
    block = transaction.atomic() if database.in_atomic_block else contextlib.nullcontext()
    statement = statement_once(database, "vaccination.booking", _booking_statement)
    with block:
        return insert_returning_pk(booking, database, statement, values)


@cache
def _summary_fields() -> tuple[models.Field[Any, Any], ...]:
    fields = []
    for name in SUMMARY_FIELDS:
        field = PersonVaccination._meta.get_field(name)
        assert isinstance(field, models.Field)
        fields.append(field)
    return tuple(fields)


def _dose_id_statement(quote: Callable[[str], str]) -> str:
    table = quote(Dose._meta.db_table).replace("'", "''")
    return f"SELECT nextval(pg_get_serial_sequence('{table}', 'id'))"


def dose_id_send(cursor: Any) -> None:
    """Draw the next dose's primary key (its sequence's next value) on `cursor`: sent with
    the injection's reads, it lets the dose's INSERT and what refers to it (the
    certificate's queue row) travel together without waiting for a RETURNING."""
    database = connections[DEFAULT_DB_ALIAS]
    cursor.execute(statement_once(database, "vaccination.dose_id", _dose_id_statement), [])


def _dose_statement(quote: Callable[[str], str]) -> str:
    summary = ", ".join(f"{quote(str(field.column))} = %s" for field in _summary_fields())
    return (
        f"WITH dose AS ({insert_sql(Dose, quote, pk=True)} RETURNING id"  # noqa: S608 - names from model metadata, values as parameters
        f"), audit AS ({insert_sql(AuditEvent, quote, 'dose')}"
        f"), summary AS (UPDATE {quote(PersonVaccination._meta.db_table)} SET {summary} "
        f"WHERE id = %s"
        f") SELECT id FROM dose"
    )


def dose_store(*, dose: Dose, event: AuditEvent, status: PersonVaccination) -> None:
    """In the caller's transaction, one statement: insert `dose` (its primary key drawn
    with `dose_id_send`) and `event`, and rewrite the locked summary `status` (as
    `status_refresh` saves it). A dose number already recorded raises IntegrityError,
    when the statement runs: in `rawsql.pipelined`, at the block's end. Nothing is read
    back, so the statement can be queued with the ones after it."""
    database = connections[DEFAULT_DB_ALIAS]
    if not database.in_atomic_block:
        raise RuntimeError("dose_store runs inside the injection's transaction")
    if dose.pk is None:
        raise RuntimeError("dose_store needs the dose's primary key (dose_id_send)")
    values = [
        dose.pk,
        *insert_values(dose, database, insert_fields(Dose)),
        *insert_values(event, database, insert_fields(AuditEvent)),
        *insert_values(status, database, _summary_fields()),
        status.pk,
    ]
    with database.cursor() as cursor:
        cursor.execute(statement_once(database, "vaccination.dose", _dose_statement), values)
    dose._state.adding = False
    dose._state.db = database.alias


def _stock_statement(quote: Callable[[str], str]) -> str:
    # No condition: the table's CHECK constraint (allocation_not_overdrawn) refuses the
    # dose that is not there, failing the statement and whatever travels after it.
    return (
        f"UPDATE {quote(LotAllocation._meta.db_table)} "  # noqa: S608 - names from model metadata
        f"SET doses_used = doses_used + 1 WHERE id = %s"
    )


def stock_take_and_commit(*, allocation: LotAllocation) -> None:
    """Take one dose from `allocation` as the last statement of the injection's
    transaction, with its COMMIT (`execute_committing`); an exhausted allocation raises
    IntegrityError on the `allocation_not_overdrawn` constraint."""
    database = connections[DEFAULT_DB_ALIAS]
    execute_committing(
        statement_once(database, "vaccination.stock", _stock_statement), [allocation.pk]
    )
