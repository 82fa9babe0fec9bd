"""Care protocol versions per province: a deployment serving several provinces keeps each
one's rules apart. The versions made before belong to the home province (the first served
one, COVIDHUB_PROVINCES): it was the only one whose officers could change them sensibly."""

from django.conf import settings
from django.db import migrations, models


def to_home_province(apps, schema_editor):
    CareProtocol = apps.get_model("homecare", "CareProtocol")
    CareProtocol.objects.filter(province_code="").update(province_code=settings.PROVINCES[0])


class Migration(migrations.Migration):
    dependencies = [("homecare", "0003_station_list_indexes")]

    operations = [
        migrations.RemoveConstraint(model_name="careprotocol", name="homecare_one_protocol_active"),
        migrations.AddField(
            model_name="careprotocol",
            name="province_code",
            field=models.CharField(default="", max_length=10, verbose_name="province"),
            preserve_default=False,
        ),
        migrations.RunPython(to_home_province, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="careprotocol",
            name="version",
            field=models.PositiveIntegerField(verbose_name="version"),
        ),
        migrations.AddConstraint(
            model_name="careprotocol",
            constraint=models.UniqueConstraint(
                fields=("province_code", "version"), name="homecare_protocol_version_once"
            ),
        ),
        migrations.AddConstraint(
            model_name="careprotocol",
            constraint=models.UniqueConstraint(
                condition=models.Q(("state", "active")),
                fields=("province_code",),
                name="homecare_one_protocol_active",
            ),
        ),
    ]
