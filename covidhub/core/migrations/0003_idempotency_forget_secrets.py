"""Stored answers that carried a bearer token (POST /api/v1/auth/token) are emptied: the
idempotency layer no longer keeps such answers (covidhub.core.idempotency.carries_secret)."""

from typing import Any

from django.db import migrations

SECRET_PATHS = ["POST /api/v1/auth/token"]


def forget(apps: Any, schema_editor: Any) -> None:
    record = apps.get_model("core", "IdempotencyRecord")
    record.objects.filter(method_path__in=SECRET_PATHS, status_code__isnull=False).update(
        response_body=b"", content_type="secret-not-stored"
    )


class Migration(migrations.Migration):
    dependencies = [("core", "0002_bench_probe")]

    operations = [migrations.RunPython(forget, migrations.RunPython.noop)]
