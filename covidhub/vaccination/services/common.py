"""Small pieces every vaccination service uses: the audit row and the actor's role."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models

from covidhub.accounts.scoping import actor_scope, primary_role
from covidhub.audit.services import audit_record


def audit(
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    *,
    person_uuid: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """One audit row in the caller's transaction (no personal data in `details`)."""
    if not getattr(actor, "is_authenticated", False):
        return
    audit_record(
        actor=actor,
        actor_role=primary_role(actor_scope(actor)),
        action=action,
        obj=obj,
        person_uuid=person_uuid,
        details=details or {},
    )
