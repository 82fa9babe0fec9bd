from __future__ import annotations

from django.tasks import task
from django.utils import timezone


@task()
def access_tokens_prune() -> int:
    """Expired client tokens (10 minutes each) are deleted every hour: their checksums
    serve no one, and the audit trail keeps who had a token when."""
    from oauth2_provider.models import AccessToken

    deleted, _counts = AccessToken.objects.filter(expires__lt=timezone.now()).delete()
    return int(deleted)
