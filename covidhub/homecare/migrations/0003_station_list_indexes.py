"""Indexes of the station's list: a commune's open orders in the list's order (the longest
silent first, never checked in first, then the higher risk and the earlier start), so that
a page is a short index scan instead of a sort of every person under care; and a
station's open alerts by deadline.

The orders' index is written by hand: PostgreSQL puts NULLs last in an ascending index
unless told NULLS FIRST, which SQLite refuses in an index (it puts them first anyway).
"""

from django.db import migrations, models

COLUMNS = "commune_path, last_check_at{nulls}, risk DESC, start_date, id"


def silence_index(apps, schema_editor):
    nulls = " ASC NULLS FIRST" if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(
        "CREATE INDEX homecare_order_silence ON homecare_careorder "
        f"({COLUMNS.format(nulls=nulls)}) WHERE status = 'open'"
    )


def silence_index_drop(apps, schema_editor):
    schema_editor.execute("DROP INDEX homecare_order_silence")


class Migration(migrations.Migration):
    dependencies = [
        ("homecare", "0002_duty_versions"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="carealert",
            index=models.Index(
                condition=models.Q(("status", "open")),
                fields=["commune_path", "due_at", "id"],
                name="homecare_alert_due",
            ),
        ),
        migrations.RunPython(silence_index, silence_index_drop),
    ]
