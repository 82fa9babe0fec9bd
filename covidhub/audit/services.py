"""Writing the audit trail, inside the caller's transaction."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from django.db import connections, models, router

from covidhub.audit.models import AuditEvent
from covidhub.core import request_context
from covidhub.core.rawsql import insert_fields, insert_sql, insert_values, statement_once


def audit_event_new(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    person_uuid: uuid.UUID | None = None,
    actor_role: str = "",
    details: dict[str, Any] | None = None,
    object_type: str = "",
    object_id: str = "",
) -> AuditEvent:
    """The unsaved event `audit_record` writes, for a statement that inserts it together
    with the write it describes (`covidhub.core.rawsql.insert_sql`). The object is `obj`,
    or, for a read that holds no instance of it, `object_type` (a model's label) and
    `object_id`."""
    context = request_context.current()
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    if obj is not None:
        object_type = obj._meta.label_lower
        object_id = str(getattr(obj, "uuid", None) or getattr(obj, "pk", ""))
    if person_uuid is None and obj is not None and obj._meta.label_lower == "people.person":
        person_uuid = obj.uuid  # type: ignore[attr-defined]
    return AuditEvent(
        actor=actor_obj,
        actor_role=actor_role,
        action=action,
        object_type=object_type,
        object_id=object_id,
        person_uuid=person_uuid,
        request_id=context.request_id if context else "",
        client_address=context.client_address if context else None,
        details=details or {},
    )


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    person_uuid: uuid.UUID | None = None,
    actor_role: str = "",
    details: dict[str, Any] | None = None,
    object_type: str = "",
    object_id: str = "",
) -> AuditEvent:
    """Append one audit event; call it in the same transaction as the read or write.

    `details` must not carry personal data: codes, ids and field names only. The object
    is `obj`, or `object_type` and `object_id` (`audit_event_new`).
    """
    event = audit_event_new(
        actor=actor,
        action=action,
        obj=obj,
        person_uuid=person_uuid,
        actor_role=actor_role,
        details=details,
        object_type=object_type,
        object_id=object_id,
    )
    # The INSERT is built once per process (every read of health data writes one: the
    # ORM's compilation of it was a large part of a short read's CPU).
    database = connections[router.db_for_write(AuditEvent)]
    values = insert_values(event, database, insert_fields(AuditEvent))
    with database.cursor() as cursor:  # RETURNING: PostgreSQL, and SQLite since 3.35
        cursor.execute(statement_once(database, "audit.event", _insert_returning), values)
        event.pk = cursor.fetchone()[0]
    event._state.adding = False
    event._state.db = database.alias
    return event


def _insert_returning(quote: Any) -> str:
    return f"{insert_sql(AuditEvent, quote)} RETURNING {quote(AuditEvent._meta.pk.column)}"  # type: ignore[union-attr]


def audit_record_many(
    *, actor: Any, action: str, objects: list[models.Model], actor_role: str = ""
) -> None:
    """One audit event per object in one insert (list pages audit every row shown)."""
    if not objects:
        return
    context = request_context.current()
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor=actor,
                actor_role=actor_role,
                action=action,
                object_type=obj._meta.label_lower,
                object_id=str(getattr(obj, "uuid", None) or obj.pk),
                person_uuid=getattr(obj, "uuid", None)
                if obj._meta.label_lower == "people.person"
                else getattr(obj, "person_uuid", None),
                request_id=context.request_id if context else "",
                client_address=context.client_address if context else None,
            )
            for obj in objects
        ]
    )


def audit_record_each(
    *,
    actor: Any,
    action: str,
    object_type: str,
    items: Sequence[tuple[str, uuid.UUID | None]],
    actor_role: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    """One event per (object id, person UUID) in `items`, all by the same actor, action and
    details, written together: by COPY on PostgreSQL (a bulk export audits hundreds of
    thousands of people), else in bulk inserts. Each row holds the values `audit_record`
    would write (the ORM prepares them once, for the first event)."""
    if not items:
        return

    def event(object_id: str, person_uuid: uuid.UUID | None) -> AuditEvent:
        new = audit_event_new(
            actor=actor,
            action=action,
            actor_role=actor_role,
            person_uuid=person_uuid,
            details=details,
        )
        new.object_type, new.object_id = object_type, object_id
        return new

    connection = connections[router.db_for_write(AuditEvent)]
    if connection.vendor != "postgresql":
        AuditEvent.objects.bulk_create([event(*item) for item in items], batch_size=1000)
        return
    template = event(*items[0])
    fields = insert_fields(AuditEvent)
    names = [field.name for field in fields]
    object_index, person_index = names.index("object_id"), names.index("person_uuid")
    person_field = fields[person_index]
    row = insert_values(template, connection, fields)
    # The details as JSON text once, not encoded again for each row.
    details_index = names.index("details")
    row[details_index] = json.dumps(template.details)
    columns = ", ".join(connection.ops.quote_name(str(field.column)) for field in fields)
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as out,
    ):  # type: ignore[attr-defined]
        for object_id, person_uuid in items:
            row[object_index] = object_id
            row[person_index] = person_field.get_db_prep_save(person_uuid, connection)
            out.write_row(row)
