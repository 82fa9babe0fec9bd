"""Background jobs of vaccination."""

from __future__ import annotations

from django.tasks import task

from covidhub.vaccination.services.followup import reminders_send


@task()
def reminders_send_task() -> int:
    """Daily: remind people whose next dose falls due within the next days."""
    return reminders_send()


@task()
def registration_import_run_task(job_uuid: str) -> str:
    """Apply a registration list's import job, chunk by chunk; a retry resumes at the
    cursor, so no row is applied twice."""
    from covidhub.vaccination.services.registration import registration_import_run

    return str(registration_import_run(job_uuid=job_uuid).status)
