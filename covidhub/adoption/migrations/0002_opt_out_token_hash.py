"""Opt-out links: the token is no longer stored, only a keyed hash of it (step 1 of 2: add
the hash and fill it; links already sent in reminders stop working — they only stopped
invitations, and the next reminder carries the new link)."""

from django.db import migrations, models

from covidhub.adoption.models import opt_out_token_for, opt_out_token_hash


def fill(apps, schema_editor):
    RosterMember = apps.get_model("adoption", "RosterMember")
    for member in RosterMember.objects.only("pk", "uuid").iterator(chunk_size=2000):
        RosterMember.objects.filter(pk=member.pk).update(
            opt_out_token_hash=opt_out_token_hash(opt_out_token_for(member.uuid))
        )


class Migration(migrations.Migration):
    dependencies = [("adoption", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="rostermember",
            name="opt_out_token_hash",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
