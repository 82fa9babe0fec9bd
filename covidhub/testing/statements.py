"""A swab into a tube as one statement on PostgreSQL: the busiest write of a testing round.

Through the ORM, a person scanned into the open tube is the sample's INSERT, the tube's
UPDATE (its count, and its closing when this swab fills it), the appointment's UPDATE
(collected) and the audit row's INSERT: four round trips. Here one statement
(data-modifying CTEs) writes them together, in the scan's transaction, after the tube (and
the appointment, if any) were locked and checked. The sample's unique constraints fail
the whole statement (a person already in the tube, an appointment already used), as
they fail the ORM's INSERT. SQLite keeps the ORM path (`collection._sample_add`); the
suite runs on both, and a test compares the rows the two paths write.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

from covidhub.audit.models import AuditEvent
from covidhub.core.rawsql import insert_fields, insert_sql, insert_values, statement_once
from covidhub.testing.models import Appointment, Sample, Tube


def single_statement_supported() -> bool:
    """Whether the default database takes data-modifying CTEs (PostgreSQL does)."""
    return bool(connections[DEFAULT_DB_ALIAS].vendor == "postgresql")


def _sample_statement(quote: Callable[[str], str], *, appointment: bool) -> str:
    tube = quote(Tube._meta.db_table)
    parts = [
        f"WITH sample AS ({insert_sql(Sample, quote)} RETURNING id)",
        f"tube AS (UPDATE {tube} SET member_count = member_count + 1, "  # noqa: S608 - names from model metadata, values as parameters
        f"status = %s, closed_at = %s WHERE id = %s)",
    ]
    if appointment:
        parts.append(
            f"appointment AS (UPDATE {quote(Appointment._meta.db_table)} "  # noqa: S608 - names from model metadata, values as parameters
            f"SET status = %s, updated_at = %s WHERE id = %s)"
        )
    parts.append(f"audit AS ({insert_sql(AuditEvent, quote, 'sample')})")
    return ", ".join(parts) + " SELECT id FROM sample"  # noqa: S608 - names from model metadata


def _with_appointment(quote: Callable[[str], str]) -> str:
    return _sample_statement(quote, appointment=True)


def _without_appointment(quote: Callable[[str], str]) -> str:
    return _sample_statement(quote, appointment=False)


def sample_store(
    *,
    sample: Sample,
    tube: Tube,
    event: AuditEvent,
    appointment_collected_at: Any = None,
) -> None:
    """Insert `sample` and `event`, count the swab in the locked `tube` (whose `status`
    and `closed_at` the caller has set) and, with `appointment_collected_at`, mark the
    sample's appointment collected; in the caller's transaction, one statement. A broken
    unique constraint raises IntegrityError and writes nothing. `sample` is then a saved
    instance (primary key set)."""
    database = connections[DEFAULT_DB_ALIAS]
    if not database.in_atomic_block:
        raise RuntimeError("sample_store runs inside the scan's transaction")
    adapt = database.ops.adapt_datetimefield_value
    values = [
        *insert_values(sample, database, insert_fields(Sample)),
        tube.status,
        adapt(tube.closed_at),
        tube.pk,
    ]
    if sample.appointment_id is not None:
        values += [
            Appointment.Status.COLLECTED.value,
            adapt(appointment_collected_at),
            sample.appointment_id,
        ]
        statement = statement_once(database, "testing.sample+appointment", _with_appointment)
    else:
        statement = statement_once(database, "testing.sample", _without_appointment)
    values += insert_values(event, database, insert_fields(AuditEvent))
    with database.cursor() as cursor:
        cursor.execute(statement, values)
        (sample_id,) = cursor.fetchone()  # type: ignore[misc]
    sample.pk = sample_id
    sample._state.adding = False
    sample._state.db = database.alias
