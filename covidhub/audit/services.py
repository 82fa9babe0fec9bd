"""Writing the audit trail, inside the caller's transaction."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models

from covidhub.audit.models import AuditEvent
from covidhub.core import request_context


def audit_event_new(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    person_uuid: uuid.UUID | None = None,
    actor_role: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """The unsaved event `audit_record` writes, for a statement that inserts it together
    with the write it describes (`covidhub.core.rawsql.insert_sql`)."""
    context = request_context.current()
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    object_type = obj._meta.label_lower if obj is not None else ""
    object_id = str(getattr(obj, "uuid", None) or getattr(obj, "pk", "")) if obj is not None else ""
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
) -> AuditEvent:
    """Append one audit event; call it in the same transaction as the read or write.

    `details` must not carry personal data: codes, ids and field names only.
    """
    event = audit_event_new(
        actor=actor,
        action=action,
        obj=obj,
        person_uuid=person_uuid,
        actor_role=actor_role,
        details=details,
    )
    event.save(force_insert=True)
    return event


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
