from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from covidhub.audit.models import AppendOnlyError, AuditEvent
from covidhub.audit.services import audit_record
from covidhub.core import request_context

pytestmark = pytest.mark.django_db


def test_audit_rows_carry_request_id_and_address(commune_officer, citizen_person):
    token = request_context.bind(
        request_context.RequestContext(request_id="abc123def", client_address="203.0.113.5")
    )
    try:
        event = audit_record(
            actor=commune_officer, action="people.person.viewed", obj=citizen_person
        )
    finally:
        request_context.reset(token)
    assert event.request_id == "abc123def" and event.client_address == "203.0.113.5"
    assert event.person_uuid == citizen_person.uuid and event.object_type == "people.person"


def test_the_application_cannot_change_or_delete_audit_rows(commune_officer, citizen_person):
    event = audit_record(actor=commune_officer, action="people.person.viewed", obj=citizen_person)
    event.action = "nothing.happened"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


def test_the_database_refuses_updates_to_audit_rows(commune_officer, citizen_person):
    event = audit_record(actor=commune_officer, action="people.person.viewed", obj=citizen_person)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET action = 'x' WHERE id = %s", [event.pk])
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).action == "people.person.viewed"


def test_request_id_is_echoed(client):
    response = client.get("/", HTTP_X_REQUEST_ID="req-12345678")
    assert response["X-Request-ID"] == "req-12345678"
    assert len(client.get("/")["X-Request-ID"]) == 32
