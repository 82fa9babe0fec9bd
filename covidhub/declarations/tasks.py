from __future__ import annotations

from django.tasks import task

from covidhub.declarations import services


@task()
def declarations_retention() -> dict[str, int]:
    """Daily: delete check-ins and declarations past the retention period (counts kept)."""
    return services.retention_run()
