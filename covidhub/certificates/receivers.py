"""Reactions to other capabilities' events: the certificates app subscribes, they never
import it (imports run downward). Each receiver only enqueues a task on commit, so the
sender's transaction is never slowed or failed by signing, and a retried task issues
nothing twice (one live certificate per source record is a database constraint).

- `covidhub.vaccination.signals.dose_recorded` / `dose_corrected` (sender, dose, person):
  a vaccination certificate per dose; a voided dose's certificate is revoked, a corrected
  one re-issued.
- `covidhub.testing.signals.result_released` (sender, result, person): a test certificate
  for a negative RT-PCR, a recovery certificate for a positive test (valid day 11-180);
  an amended result (a new `version`) revokes what the old version produced.
- `covidhub.people.services.person_identity_changed` (sender, person, actor): re-issue.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from covidhub.certificates.facts import Facts
from covidhub.people.models import Person

logger = logging.getLogger(__name__)

DOSE_SOURCE = "vaccination.dose"
RESULT_SOURCE = "testing.result"


def on_person_identity_changed(
    sender: Any, person: Person, actor: Any = None, **kwargs: Any
) -> None:
    """A name or date of birth was corrected: re-issue what carries them."""
    from covidhub.certificates.models import IssuedCertificate
    from covidhub.certificates.tasks import certificates_reissue_for_person

    if not IssuedCertificate.objects.filter(person=person, revoked_at__isnull=True).exists():
        return
    person_id = person.pk
    transaction.on_commit(
        lambda: certificates_reissue_for_person.enqueue(person_id, "identity_corrected")
    )


def on_dose_event(sender: Any, dose: Any, person: Any = None, **kwargs: Any) -> None:
    from covidhub.certificates.tasks import certificate_issue_for_dose

    dose_id = dose.pk
    transaction.on_commit(lambda: certificate_issue_for_dose.enqueue(dose_id))


class _ResultBatch:
    """The results released in one transaction, certified by one task after it commits.

    Testing releases results in chunks of hundreds in a transaction; one task per chunk
    issues them with one insert instead of a transaction per certificate.
    """

    def __init__(self) -> None:
        self.result_ids: list[int] = []

    def flush(self) -> None:
        from covidhub.certificates.tasks import certificate_issue_for_results

        if self.result_ids:
            certificate_issue_for_results.enqueue(self.result_ids)


def _result_batch() -> _ResultBatch:
    connection = transaction.get_connection()
    batch: _ResultBatch | None = getattr(connection, "_certificates_result_batch", None)
    # The batch is live while its flush is still registered; after a commit (or a
    # rollback, which discards the callback with the results) a new one starts.
    if batch is not None and any(entry[1] == batch.flush for entry in connection.run_on_commit):
        return batch
    batch = _ResultBatch()
    connection._certificates_result_batch = batch  # type: ignore[attr-defined]
    if connection.in_atomic_block:
        transaction.on_commit(batch.flush)
    return batch


def on_result_released(sender: Any, result: Any, person: Any = None, **kwargs: Any) -> None:
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        from covidhub.certificates.tasks import certificate_issue_for_results

        certificate_issue_for_results.enqueue([result.pk])
        return
    _result_batch().result_ids.append(result.pk)


def _revoke_live(*, source_type: str, prefix: str, keep: str | None, reason: str) -> int:
    from covidhub.certificates.models import IssuedCertificate
    from covidhub.certificates.services import certificate_revoke

    count = 0
    live = IssuedCertificate.objects.filter(
        source_type=source_type, source_id__startswith=prefix, revoked_at__isnull=True
    )
    for certificate in live:
        if certificate.source_id != keep:
            certificate_revoke(certificate=certificate, reason=reason, actor=None)
            count += 1
    return count


def dose_certificate_issue(*, dose_id: int) -> str:
    """Issue, re-issue or revoke the certificate of one dose; returns what happened."""
    from covidhub.certificates.errors import NotIssuable
    from covidhub.certificates.facts import VaccinationFacts
    from covidhub.certificates.models import IssuedCertificate
    from covidhub.certificates.services import certificate_issue_vaccination
    from covidhub.vaccination.models import Dose

    dose = Dose.objects.select_related("vaccine", "person").filter(pk=dose_id).first()
    if dose is None:
        return "missing"
    source_id = str(dose.uuid)
    if dose.status != Dose.Status.VALID:
        revoked = _revoke_live(
            source_type=DOSE_SOURCE, prefix=source_id, keep=None, reason="dose_voided"
        )
        return f"revoked:{revoked}"
    vaccine = dose.vaccine
    if dose.series == Dose.Series.PRIMARY:
        dose_number, total = dose.dose_number, vaccine.primary_doses
    else:
        # Boosters continue the count (EU guidance: a booster after two doses is 3/3).
        dose_number, total = dose.sequence, max(dose.sequence, vaccine.primary_doses)
    facts = VaccinationFacts(
        person=dose.person,
        source_type=DOSE_SOURCE,
        source_id=source_id,
        medicinal_product=vaccine.product_code,
        manufacturer=vaccine.manufacturer_code,
        prophylaxis=vaccine.prophylaxis_code,
        dose_number=dose_number,
        total_doses=total,
        vaccination_date=dose.day,
        country=(dose.elsewhere_country or "VN") if dose.given_elsewhere else "VN",
    )
    live = IssuedCertificate.objects.filter(
        source_type=DOSE_SOURCE, source_id=source_id, revoked_at__isnull=True
    ).first()
    if live is not None:
        entry = live.payload["v"][0]
        unchanged = (
            entry["mp"] == facts.medicinal_product
            and entry["dn"] == dose_number
            and entry["sd"] == total
            and entry["dt"] == facts.vaccination_date.isoformat()
        )
        if unchanged:
            return "unchanged"
        _revoke_live(source_type=DOSE_SOURCE, prefix=source_id, keep=None, reason="dose_corrected")
    try:
        certificate = certificate_issue_vaccination(facts=facts)
    except NotIssuable as error:
        # Bad vaccine codes are an administrator's fix, not a retry: log and stop.
        logger.warning("dose %s: no certificate (%s)", dose.uuid, error.code)
        return f"not_issuable:{error.code}"
    return f"issued:{certificate.uuid}"


def _result_facts(result: Any) -> Facts | str:
    """The facts to certify for a released result, or why there are none."""
    from covidhub.certificates.dcc import TEST_TYPE_NAAT
    from covidhub.certificates.facts import RecoveryFacts, TestFacts
    from covidhub.testing.models import Result

    source_id = f"{result.uuid}:v{result.version}"
    if result.outcome == Result.Outcome.POSITIVE:
        first_positive = timezone.localdate(result.collected_at)
        if timezone.localdate() > first_positive + timedelta(days=179):
            return "recovery_period_over"
        return RecoveryFacts(
            person=result.person,
            source_type=RESULT_SOURCE,
            source_id=source_id,
            first_positive_on=first_positive,
        )
    if result.outcome == Result.Outcome.NEGATIVE and result.test_type == "pcr":
        return TestFacts(
            person=result.person,
            source_type=RESULT_SOURCE,
            source_id=source_id,
            test_type=TEST_TYPE_NAAT,
            positive=False,
            sample_collected_at=result.collected_at,
        )
    # Pool positive and invalid results certify nothing; a rapid antigen test needs the
    # EU device code (ma), which testing does not record.
    return f"no_certificate:{result.outcome}:{result.test_type}"


def results_certificates_issue(*, result_ids: list[int]) -> dict[str, int]:
    """The certificates of a chunk of released results, issued in one transaction.

    An amended result (version > 1) first has what its older versions produced revoked.
    """
    from covidhub.certificates.services import certificates_issue_many
    from covidhub.testing.models import Result

    results = list(Result.objects.select_related("person").filter(pk__in=result_ids).order_by("id"))
    counts: dict[str, int] = {}
    facts_list: list[Facts] = []
    for result in results:
        if result.version > 1:
            _revoke_live(
                source_type=RESULT_SOURCE,
                prefix=f"{result.uuid}:",
                keep=f"{result.uuid}:v{result.version}",
                reason="result_amended",
            )
        facts = _result_facts(result)
        if isinstance(facts, str):
            counts[facts] = counts.get(facts, 0) + 1
        else:
            facts_list.append(facts)
    created, refused = certificates_issue_many(facts_list=facts_list)
    counts["issued"] = len(created)
    for source_id, code in refused.items():
        logger.warning("result %s: no certificate (%s)", source_id, code)
        counts[f"not_issuable:{code}"] = counts.get(f"not_issuable:{code}", 0) + 1
    return counts


def connect() -> None:
    from covidhub.people.services import person_identity_changed

    person_identity_changed.connect(
        on_person_identity_changed, dispatch_uid="certificates.identity_changed"
    )
    try:
        from covidhub.testing import signals as testing_signals
        from covidhub.vaccination import signals as vaccination_signals
    except ImportError:  # pragma: no cover - both ship with the platform
        return
    vaccination_signals.dose_recorded.connect(on_dose_event, dispatch_uid="certificates.dose")
    vaccination_signals.dose_corrected.connect(
        on_dose_event, dispatch_uid="certificates.dose_corrected"
    )
    testing_signals.result_released.connect(on_result_released, dispatch_uid="certificates.result")
