"""PostgreSQL: the audit trail partitioned by month (covidhub.core.partitions), so that an
old month can be detached and archived whole (covidhub.audit.archive), whose digests
`AuditArchive` keeps. The append-only triggers are put back on the partitioned table.
SQLite keeps a plain table."""

from django.db import migrations, models

from covidhub.core.partitions import table_partition, table_unpartition


def forward(apps, schema_editor):
    table_partition(schema_editor, "audit_auditevent")


def backward(apps, schema_editor):
    table_unpartition(schema_editor, "audit_auditevent")


class Migration(migrations.Migration):
    dependencies = [("audit", "0006_security_alerts_and_staff_lookups")]

    operations = [
        migrations.CreateModel(
            name="AuditArchive",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("partition", models.CharField(max_length=63, unique=True)),
                ("period_start", models.DateField()),
                ("period_end", models.DateField()),
                ("rows", models.PositiveBigIntegerField()),
                ("csv_sha256", models.CharField(max_length=64)),
                ("previous_sha256", models.CharField(blank=True, max_length=64)),
                ("manifest_sha256", models.CharField(max_length=64)),
                ("archived_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={"ordering": ["id"]},
        ),
        migrations.RunPython(forward, backward),
    ]
