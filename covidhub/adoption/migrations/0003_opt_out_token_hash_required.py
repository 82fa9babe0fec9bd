"""Opt-out links, step 2 of 2: the hash is required and unique, the clear token is gone."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("adoption", "0002_opt_out_token_hash")]

    operations = [
        migrations.AlterField(
            model_name="rostermember",
            name="opt_out_token_hash",
            field=models.CharField(editable=False, max_length=64, unique=True),
        ),
        migrations.RemoveField(model_name="rostermember", name="opt_out_token"),
    ]
