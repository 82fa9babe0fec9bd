"""Secrets at rest: seal every TOTP key stored in clear, and drop every session (their
rows were named by the session key itself; the new stores name them by its hash, so the
old rows could never be found again but would still hold live keys)."""

from django.db import migrations

from covidhub.accounts.totp_keys import PREFIX, totp_key_open, totp_key_seal


def seal_totp_keys(apps, schema_editor):
    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    for device in TOTPDevice.objects.exclude(key__startswith=PREFIX).only("pk", "key"):
        TOTPDevice.objects.filter(pk=device.pk).update(key=totp_key_seal(device.key))


def open_totp_keys(apps, schema_editor):
    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    for device in TOTPDevice.objects.filter(key__startswith=PREFIX).only("pk", "key"):
        opened = totp_key_open(device.key)
        if opened is not None:
            TOTPDevice.objects.filter(pk=device.pk).update(key=opened)


def drop_sessions(apps, schema_editor):
    apps.get_model("sessions", "Session").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_admin_devices_and_superuser"),
        ("otp_totp", "0003_add_timestamps"),
        ("sessions", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(seal_totp_keys, open_totp_keys),
        migrations.RunPython(drop_sessions, migrations.RunPython.noop),
    ]
