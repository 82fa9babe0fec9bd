"""Background work of the testing capability."""

from __future__ import annotations

from django.db.models import F
from django.tasks import task

from covidhub.testing.models import Result
from covidhub.testing.notify import results_notify_pending
from covidhub.testing.release import NOTIFY_CHUNK


@task()
def results_notify() -> int:
    """Notify one chunk of pending results; re-queue itself while more are pending."""
    done = results_notify_pending(limit=NOTIFY_CHUNK)
    if done == NOTIFY_CHUNK:
        results_notify.enqueue()
    return done


@task()
def results_notify_sweep() -> int:
    """Periodic safety net: a notify task lost with a killed worker is queued again."""
    if Result.objects.filter(notified_version__lt=F("version")).exists():
        results_notify.enqueue()
        return 1
    return 0


@task()
def lab_import_run_task(job_uuid: str) -> str:
    """Apply a large result file's import job, chunk by chunk; a retry resumes at the
    cursor, so no tube is stored (nor anyone notified) twice."""
    from covidhub.testing.imports import lab_import_run

    return str(lab_import_run(job_uuid=job_uuid).status)
