from __future__ import annotations

import datetime

from django.tasks import task
from django.utils import timezone


@task()
def phone_code_prune() -> int:
    """Sign-in codes are kept a day (for the hourly limits), then deleted."""
    from covidhub.accounts.models import PhoneCode

    deleted, _counts = PhoneCode.objects.filter(
        created_at__lt=timezone.now() - datetime.timedelta(days=1)
    ).delete()
    return deleted
