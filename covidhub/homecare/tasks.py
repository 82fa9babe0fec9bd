"""Background work of home care."""

from __future__ import annotations

from django.tasks import task

from covidhub.homecare.services.reminders import missed_checks_remind


@task()
def homecare_missed_checks_remind() -> int:
    """Every quarter of an hour: remind the people who missed the last check slot."""
    return missed_checks_remind()
