"""The action column keeps one index for exact matches (no pattern index: nothing searches
actions by prefix, and every imported result writes an audit row).

SQLite rebuilds the table to alter a column, which drops its triggers: the append-only
trigger of 0002 is put back afterwards (and after the reverse rebuild).
"""

from django.conf import settings
from django.db import migrations, models

SQLITE_TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_auditevent "
    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;"
)


def sqlite_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_append_only_triggers"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, sqlite_trigger),
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(max_length=80, verbose_name="action"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["action"], name="audit_action"),
        ),
        migrations.RunPython(sqlite_trigger, migrations.RunPython.noop),
    ]
