"""The audit table cannot be emptied: by the database's triggers (an accident) and, on
PostgreSQL, by its owner being a role the application cannot become (a deliberate act)."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from covidhub.audit.models import AuditEvent
from covidhub.audit.services import audit_record
from covidhub.core.partitions import partitions_maintain


def _raw_statement_refused(sql: str, params: list[Any] | None = None) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError:
        return True
    return False


@pytest.mark.django_db
def test_the_database_refuses_deleting_audit_rows(commune_officer, citizen_person):
    event = audit_record(actor=commune_officer, action="people.person.viewed", obj=citizen_person)
    assert _raw_statement_refused("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    assert _raw_statement_refused("DELETE FROM audit_auditevent")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db
def test_both_sqlite_triggers_survive_the_migrations():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite rebuilds tables to alter them")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name = 'audit_auditevent' ORDER BY name"
        )
        names = [row[0] for row in cursor.fetchall()]
    assert names == ["audit_event_no_delete", "audit_event_no_update"]


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_database_refuses_truncating_audit_rows(commune_officer, citizen_person):
    event = audit_record(actor=commune_officer, action="people.person.viewed", obj=citizen_person)
    assert _raw_statement_refused("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_only_the_test_runners_flush_may_empty_the_audit_table(commune_officer, citizen_person):
    """What ``manage.py flush`` runs, outside the door of covidhub/audit/guard.py, is refused."""
    from django.core.management.color import no_style

    audit_record(actor=commune_officer, action="people.person.viewed", obj=citizen_person)
    statements = connection.ops.sql_flush(no_style(), ["audit_auditevent"])
    with pytest.raises(DatabaseError), transaction.atomic():
        connection.ops.execute_sql_flush(statements)
    assert AuditEvent.objects.exists()
    call_command("flush", interactive=False, verbosity=0)  # the test runner's, allowed
    assert not AuditEvent.objects.exists()


@pytest.fixture
def split_roles() -> Any:
    """An owner role and an application role for this test (cluster-wide names, hence the
    random suffix); the test's transaction rolls their creation back, the finally too."""
    suffix = secrets.token_hex(4)
    owner, app = f"covidhub_audit_owner_{suffix}", f"covidhub_app_{suffix}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {app} NOLOGIN")
        # The application as it often is in production: owner of the public schema.
        cursor.execute(f"ALTER SCHEMA public OWNER TO {app}")
        cursor.execute(f"ALTER TABLE audit_auditevent OWNER TO {app}")
        # Partitioned by month on PostgreSQL: the application made the partitions too.
        cursor.execute(
            "SELECT inhrelid::regclass::text FROM pg_inherits "
            "WHERE inhparent = 'audit_auditevent'::regclass"
        )
        for (part,) in cursor.fetchall():
            cursor.execute(f"ALTER TABLE {part} OWNER TO {app}")
    call_command("audit_lockdown", owner_role=owner, app_role=app, verbosity=0)
    try:
        yield app
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_application_role_may_only_insert_and_read_audit_rows(
    split_roles, commune_officer, citizen_person
):
    event = audit_record(actor=commune_officer, action="people.person.viewed", obj=citizen_person)
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {split_roles}")
    assert _raw_statement_refused("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    assert _raw_statement_refused(
        "UPDATE audit_auditevent SET action = 'x' WHERE id = %s", [event.pk]
    )
    for statement in [
        "TRUNCATE audit_auditevent",
        "ALTER TABLE audit_auditevent DISABLE TRIGGER USER",
        "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update",
        "DROP TRIGGER audit_event_no_truncate ON audit_auditevent",
        "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger "
        "AS $$ BEGIN RETURN NEW; END; $$ LANGUAGE plpgsql",
        "DROP TABLE audit_auditevent",
        "ALTER SCHEMA public OWNER TO CURRENT_USER",
        # A month's partition is no way around it.
        "TRUNCATE audit_auditevent_default",
        "DROP TABLE audit_auditevent_default",
        "ALTER TABLE audit_auditevent DETACH PARTITION audit_auditevent_default",
    ]:
        assert _raw_statement_refused(statement), statement
    with connection.cursor() as cursor:
        cursor.execute("SET covidhub.audit_purge = 'on'")  # the flush's door opens no wider
    assert _raw_statement_refused("TRUNCATE audit_auditevent")
    # Its daily maintenance leaves the audit table alone (an administrator makes months).
    assert "audit_auditevent" not in partitions_maintain()
    # What the application does need still works under the reduced role.
    again = audit_record(actor=commune_officer, action="people.person.viewed", obj=citizen_person)
    assert set(AuditEvent.objects.values_list("pk", flat=True)) >= {event.pk, again.pk}


def test_lockdown_prints_its_sql_and_refuses_odd_role_names(capsys):
    call_command("audit_lockdown", app_role="covidhub", print=True)
    sql = capsys.readouterr().out
    assert "GRANT SELECT, INSERT ON audit_auditevent TO covidhub" in sql
    assert "ALTER TABLE audit_auditevent OWNER TO covidhub_audit_owner" in sql
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("audit_lockdown", app_role="x; DROP TABLE y", print=True)
    with pytest.raises(CommandError):
        call_command("audit_lockdown", app_role="same", owner_role="same", print=True)
