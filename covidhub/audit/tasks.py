from __future__ import annotations

from django.tasks import task


@task()
def staff_lookups_prune() -> int:
    """Look-ups of past hours are no longer counted: delete them."""
    from covidhub.audit.alerts import staff_lookups_prune as prune

    return prune()
