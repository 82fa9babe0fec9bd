"""Background work of the certificates capability, run by the task worker."""

from __future__ import annotations

from django.tasks import task

from covidhub.people.models import Person


@task()
def certificates_reissue_for_person(person_id: int, reason: str) -> int:
    """Re-issue a person's certificates after their name or date of birth changed."""
    from covidhub.certificates.services import certificates_reissue_for_person as reissue

    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        return 0
    return len(reissue(person=person, reason=reason))


@task()
def certificates_reissue_for_key(kid: str, reason: str) -> int:
    """New certificates for everyone whose certificate a revoked key signed."""
    from covidhub.certificates.services import certificates_reissue_for_key as reissue

    return reissue(kid=kid, reason=reason)


@task()
def certificates_issue_pending() -> dict[str, int]:
    """Issue, re-issue or revoke the certificates queued by recorded and corrected doses
    (kicked after their commit, and every minute by the scheduler)."""
    from covidhub.certificates.receivers import pending_drain

    return pending_drain()


@task()
def certificate_issue_for_dose(dose_id: int) -> dict[str, int]:
    """The certificate of one dose: what releases before the outbox queued (kept so that
    such tasks still run after an upgrade)."""
    from covidhub.certificates.receivers import doses_certificates_issue

    return doses_certificates_issue(dose_ids=[dose_id])


@task()
def certificate_issue_for_results(result_ids: list[int]) -> dict[str, int]:
    """Issue the test and recovery certificates of a chunk of released results."""
    from covidhub.certificates.receivers import results_certificates_issue

    return results_certificates_issue(result_ids=result_ids)


@task()
def certificates_trust_sync() -> dict[str, int | None]:
    """The trust-list sync (DSCs and value sets from the hub), when a hub is configured."""
    from django.conf import settings

    from covidhub.certificates.trust_sync import certificates_trust_sync as sync

    if not settings.CERTIFICATES_TRUST_SYNC_URL:
        return {"skipped": 1}
    report = sync()
    return {"added": report.certificates_added, "value_sets_version": report.value_sets_version}
