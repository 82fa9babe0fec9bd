"""Background jobs of vaccination."""

from __future__ import annotations

from django.tasks import task

from covidhub.vaccination.services.followup import reminders_send


@task()
def reminders_send_task() -> int:
    """Daily: remind people whose next dose falls due within the next days."""
    return reminders_send()
