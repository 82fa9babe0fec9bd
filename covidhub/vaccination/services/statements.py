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

The end of an injection (the dose, the person's rewritten summary, the audit row and the
dose taken from the site's stock) is likewise one statement inside the injection's
transaction instead of four; the caller raises, and so rolls everything back, when the
stock had no dose left or the lot has expired.

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
from django.db.backends.base.base import BaseDatabaseWrapper

from covidhub.accounts.scoping import actor_scope, primary_role
from covidhub.audit.models import AuditEvent
from covidhub.core import request_context
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
    context = request_context.current()
    return AuditEvent(
        actor=actor,
        actor_role=primary_role(actor_scope(actor)),
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(getattr(obj, "uuid", None) or obj.pk),
        person_uuid=person_uuid,
        request_id=context.request_id if context else "",
        client_address=context.client_address if context else None,
        details=details or {},
    )


@cache
def _fields(model: type[models.Model]) -> tuple[models.Field[Any, Any], ...]:
    """The fields an INSERT of `model` writes: all but the primary key."""
    return tuple(field for field in model._meta.concrete_fields if not field.primary_key)


def _values(
    obj: models.Model, database: BaseDatabaseWrapper, fields: tuple[models.Field[Any, Any], ...]
) -> list[Any]:
    # What the ORM's compilers do per field: pre_save fills auto_now(_add).
    adding = obj._state.adding
    return [field.get_db_prep_save(field.pre_save(obj, adding), database) for field in fields]


def _insert(model: type[models.Model], quote: Callable[[str], str], source: str = "") -> str:
    """INSERT of one row of `model` from parameters; `source`: only for each row of it."""
    fields = _fields(model)
    columns = ", ".join(quote(str(field.column)) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    # In INSERT ... SELECT, PostgreSQL types the untyped literals by the target columns,
    # as in VALUES.
    rows = f"SELECT {placeholders} FROM {source}" if source else f"VALUES ({placeholders})"  # noqa: S608 - names from model metadata
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) {rows}"


_statements: dict[tuple[str, str], str] = {}


def _statement(database: BaseDatabaseWrapper, name: str, build: Callable[..., str]) -> str:
    """A statement built once per process (it depends only on the models)."""
    key = (database.vendor, name)
    statement = _statements.get(key)
    if statement is None:
        statement = _statements[key] = build(database.ops.quote_name)
    return statement


def _booking_statement(quote: Callable[[str], str]) -> str:
    return (
        f"WITH place AS ("  # noqa: S608 - names from model metadata, values as parameters
        f"UPDATE {quote(Session._meta.db_table)} SET booked_count = booked_count + 1 "
        f"WHERE id = %s AND booked_count < capacity RETURNING id"
        f"), booking AS ({_insert(Booking, quote, 'place')} RETURNING id"
        f"), audit AS ({_insert(AuditEvent, quote, 'booking')}"
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
        *_values(booking, database, _fields(Booking)),
        *_values(event, database, _fields(AuditEvent)),
    ]
    # Inside a caller's transaction a failed statement would abort it: a savepoint then
    # keeps the failure to this statement, as the ORM path's atomic block does.
    block = transaction.atomic() if database.in_atomic_block else contextlib.nullcontext()
    with block, database.cursor() as cursor:
        cursor.execute(_statement(database, "booking", _booking_statement), values)
        row = cursor.fetchone()
    if row is None:
        return False
    booking.pk = row[0]
    booking._state.adding = False
    booking._state.db = database.alias
    return True


@cache
def _summary_fields() -> tuple[models.Field[Any, Any], ...]:
    fields = []
    for name in SUMMARY_FIELDS:
        field = PersonVaccination._meta.get_field(name)
        assert isinstance(field, models.Field)
        fields.append(field)
    return tuple(fields)


def _dose_statement(quote: Callable[[str], str]) -> str:
    summary = ", ".join(f"{quote(str(field.column))} = %s" for field in _summary_fields())
    return (
        f"WITH dose AS ({_insert(Dose, quote)} RETURNING id"  # noqa: S608 - names from model metadata, values as parameters
        f"), audit AS ({_insert(AuditEvent, quote, 'dose')}"
        f"), summary AS (UPDATE {quote(PersonVaccination._meta.db_table)} SET {summary} "
        f"WHERE id = %s"
        f"), stock AS (UPDATE {quote(LotAllocation._meta.db_table)} "
        f"SET doses_used = doses_used + 1 "
        f"WHERE id = %s AND doses_used < doses_allocated - doses_wasted RETURNING id"
        f") SELECT (SELECT id FROM dose), (SELECT count(*) FROM stock)"
    )


def dose_store_with_stock(
    *,
    dose: Dose,
    event: AuditEvent,
    status: PersonVaccination,
    allocation: LotAllocation,
) -> bool:
    """In the caller's transaction, one statement: insert `dose` and `event`, rewrite the
    locked summary `status` (as `status_refresh` saves it) and take one dose from
    `allocation`. Returns whether the allocation had a dose left; when it had not, the
    caller raises (rolling the rest back). A dose number already recorded raises
    IntegrityError.

    `dose` is then a saved instance (primary key set).
    """
    database = connections[DEFAULT_DB_ALIAS]
    if not database.in_atomic_block:
        raise RuntimeError("dose_store_with_stock runs inside the injection's transaction")
    values = [
        *_values(dose, database, _fields(Dose)),
        *_values(event, database, _fields(AuditEvent)),
        *_values(status, database, _summary_fields()),
        status.pk,
        allocation.pk,
    ]
    with database.cursor() as cursor:
        cursor.execute(_statement(database, "dose", _dose_statement), values)
        dose_id, taken = cursor.fetchone()  # type: ignore[misc]
    dose.pk = dose_id
    dose._state.adding = False
    dose._state.db = database.alias
    return bool(taken)
