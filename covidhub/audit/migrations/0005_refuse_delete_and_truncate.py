"""The database refuses to delete audit rows on SQLite too, and to empty the table on
PostgreSQL.

SQLite had only the UPDATE trigger; DELETE is refused now as well. PostgreSQL refuses
TRUNCATE, which a row trigger does not see. Both make one exception: the test runner's
flush between transactional tests (SQLite deletes, PostgreSQL truncates), which it asks
for through ``covidhub.audit.guard.audit_purge_allowed`` — a SQL function registered on
each SQLite connection, a session setting on PostgreSQL. Nothing in the application asks
for it. These triggers stop an accident (``manage.py flush``, a stray statement); the
owner role of ``manage.py audit_lockdown`` stops a deliberate attempt, since the table's
owner could drop any trigger.

A later migration that makes SQLite rebuild this table (altering a column) drops both
triggers and must put them back, as 0003 and 0004 do for the UPDATE trigger;
``test_both_sqlite_triggers_survive_the_migrations`` checks it.
"""

from django.db import migrations

SQLITE_FORWARD = (
    "CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON audit_auditevent "
    "WHEN covidhub_audit_purge_allowed() IS NOT 1 "
    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;"
)
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS audit_event_no_delete;"

PG_FORWARD = """
CREATE OR REPLACE FUNCTION audit_event_no_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('covidhub.audit_purge', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit events are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_no_truncate();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_event_no_truncate();
"""


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_actor_without_constraint")]
    operations = [migrations.RunPython(forward, backward)]
