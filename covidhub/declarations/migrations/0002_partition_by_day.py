"""PostgreSQL: check-ins and declarations partitioned by day (covidhub.core.partitions),
so that retention drops a day's partition instead of deleting its rows. The follow-up's
link to its declaration loses its database constraint first: nothing may hold a foreign
key to a partitioned table. SQLite keeps plain tables."""

from django.db import migrations, models

from covidhub.core.partitions import table_partition, table_unpartition

TABLES = ("declarations_checkin", "declarations_declaration")


def forward(apps, schema_editor):
    for table in TABLES:
        table_partition(schema_editor, table)


def backward(apps, schema_editor):
    for table in TABLES:
        table_unpartition(schema_editor, table)


class Migration(migrations.Migration):
    dependencies = [("declarations", "0001_initial")]

    operations = [
        migrations.AlterField(
            model_name="followup",
            name="declaration",
            field=models.OneToOneField(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=models.deletion.SET_NULL,
                related_name="followup",
                to="declarations.declaration",
            ),
        ),
        migrations.RunPython(forward, backward),
    ]
