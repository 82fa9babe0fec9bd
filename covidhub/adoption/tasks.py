from __future__ import annotations

import datetime

from django.tasks import task
from django.utils import timezone


@task()
def roster_members_match() -> int:
    """New accounts and profiles appear all day: link roster members to them hourly."""
    from covidhub.adoption.services import roster_members_match as match

    return match()


@task()
def roster_upload_run_task(job_uuid: str) -> str:
    """Apply a long roster's plan, chunk by chunk; a retry resumes at the cursor."""
    from covidhub.adoption.services import roster_upload_run

    return str(roster_upload_run(job_uuid=job_uuid).status)


@task()
def adoption_snapshot_take() -> int:
    """Today's figures per agency (run hourly; the day's row is replaced until midnight)."""
    from covidhub.adoption.services import adoption_snapshot_take as take

    return take()


@task()
def roster_upload_prune() -> int:
    """Checked files nobody decided on within a day are discarded with their rows."""
    from covidhub.adoption.models import RosterUpload

    return RosterUpload.objects.filter(
        status=RosterUpload.Status.PENDING,
        created_at__lt=timezone.now() - datetime.timedelta(days=1),
    ).update(status=RosterUpload.Status.DISCARDED, rows=[])
