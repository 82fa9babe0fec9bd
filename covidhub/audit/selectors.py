from __future__ import annotations

import uuid

from django.db.models import QuerySet

from covidhub.audit.models import AuditEvent


def audit_list_for_person(*, person_uuid: uuid.UUID) -> QuerySet[AuditEvent]:
    """The trail a citizen sees of their own record: staff reads and writes only."""
    return (
        AuditEvent.objects.filter(person_uuid=person_uuid, actor__kind="staff")
        .select_related("actor")
        .order_by("-at", "-id")
    )


def audit_list_for_people(*, person_uuids: list[uuid.UUID]) -> QuerySet[AuditEvent]:
    """The same trail for several people (a household), newest first."""
    return (
        AuditEvent.objects.filter(person_uuid__in=person_uuids, actor__kind="staff")
        .select_related("actor")
        .order_by("-at", "-id")
    )
