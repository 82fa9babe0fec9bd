"""Reactions to other capabilities' events: the certificates app subscribes, they never
import it (imports run downward). Each receiver only enqueues a task on commit, so the
sender's transaction is never slowed or failed by signing, and a retried task issues
nothing twice (one live certificate per source record is a database constraint).

- `covidhub.vaccination.signals.dose_recorded` / `dose_corrected` (sender, dose, person),
  sent inside the dose's transaction: the dose is queued in `PendingIssue` in that
  transaction (an outbox), and one task drains the queue in batches (`pending_drain`): a
  vaccination certificate per dose; a voided dose's certificate is revoked, a corrected
  one re-issued. At hundreds of injections a second a task per dose cost the worker more
  than signing did, and the request an insert and a commit of its own.
- `covidhub.testing.signals.result_released` (sender, result, person): a test certificate
  for a negative RT-PCR, a recovery certificate for a positive test (valid day 11-180);
  an amended result (a new `version`) revokes what the old version produced.
- `covidhub.people.services.person_identity_changed` (sender, person, actor): re-issue.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import connections, transaction
from django.utils import timezone

from covidhub.certificates.facts import Facts, VaccinationFacts
from covidhub.core.rawsql import insert_fields, insert_sql, insert_values, statement_once
from covidhub.people.models import Person

logger = logging.getLogger(__name__)

DOSE_SOURCE = "vaccination.dose"
RESULT_SOURCE = "testing.result"


def on_person_identity_changed(
    sender: Any, person: Person, actor: Any = None, correction: Any = None, **kwargs: Any
) -> None:
    """A name or date of birth was corrected: re-issue what carries them.

    Only an approved correction request re-issues (the old certificates are revoked, the
    new ones carry the corrected identity). A person with certificates cannot have their
    identity edited otherwise (`covidhub.people.locks`); should a change arrive without
    one anyway, nothing is signed in the new identity and the event is logged.
    """
    from covidhub.certificates.models import IssuedCertificate
    from covidhub.certificates.tasks import certificates_reissue_for_person

    if not IssuedCertificate.objects.filter(person=person, revoked_at__isnull=True).exists():
        return
    if correction is None or correction.status != "approved":
        logger.error("identity of person %s changed without an approved correction", person.uuid)
        return
    person_id, reason = person.pk, f"identity_corrected:{correction.uuid}"
    transaction.on_commit(lambda: certificates_reissue_for_person.enqueue(person_id, reason))


def person_has_records(person: Person) -> bool:
    """A dose, a released test result or a certificate: what locks the person's identity
    (`covidhub.people.locks`). Certificates reads vaccination and testing; they never
    read it, so the one probe lives here."""
    from covidhub.certificates.models import IssuedCertificate

    if IssuedCertificate.objects.filter(person=person).exists():
        return True
    try:
        from covidhub.testing.models import Result
        from covidhub.vaccination.models import Dose
    except ImportError:  # pragma: no cover - both ship with the platform
        return True
    return (
        Dose.objects.filter(person=person).exists() or Result.objects.filter(person=person).exists()
    )


PENDING_KICK = "certificates.pending"


def _pending_insert(quote: Callable[[str], str]) -> str:
    from covidhub.certificates.models import PendingIssue

    return insert_sql(PendingIssue, quote)


def pending_add(*, source_type: str, source_pk: int) -> None:
    """Queue a source record's certificate in the caller's transaction (one plain INSERT:
    this runs in every injection), and kick the drain once that commits."""
    from covidhub.certificates.models import PendingIssue

    database = connections[PendingIssue.objects.db]
    row = PendingIssue(source_type=source_type, source_pk=source_pk, queued_at=timezone.now())
    with database.cursor() as cursor:
        cursor.execute(
            statement_once(database, "certificates.pending", _pending_insert),
            insert_values(row, database, insert_fields(PendingIssue)),
        )
    transaction.on_commit(_pending_kick, using=database.alias)


def _pending_kick() -> None:
    from covidhub.certificates.tasks import certificates_issue_pending
    from covidhub.core.enqueue import kick

    kick(certificates_issue_pending, key=PENDING_KICK)


def on_dose_event(sender: Any, dose: Any, person: Any = None, **kwargs: Any) -> None:
    pending_add(source_type=DOSE_SOURCE, source_pk=dose.pk)


def pending_drain(*, batch: int = 200) -> dict[str, int]:
    """Act on every queued source record, `batch` at a time, each batch in a transaction
    with the removal of its rows (several workers skip each other's rows). Without a key
    that may sign, the rows stay queued for the next run and nothing fails."""
    from covidhub.certificates.errors import KeyRefused, NoSigningKey
    from covidhub.certificates.models import PendingIssue
    from covidhub.core.enqueue import kick_taken

    kick_taken(PENDING_KICK)
    counts: Counter[str] = Counter()
    while True:
        try:
            with transaction.atomic():
                rows = list(
                    PendingIssue.objects.select_for_update(skip_locked=True)
                    .order_by("id")
                    .values_list("id", "source_type", "source_pk")[:batch]
                )
                if not rows:
                    break
                PendingIssue.objects.filter(pk__in=[row[0] for row in rows]).delete()
                dose_ids = sorted({pk for _id, kind, pk in rows if kind == DOSE_SOURCE})
                for _id, kind, pk in rows:
                    if kind != DOSE_SOURCE:
                        logger.error("pending certificate of unknown source %s:%s", kind, pk)
                        counts["unknown_source"] += 1
                counts.update(doses_certificates_issue(dose_ids=dose_ids))
        except (NoSigningKey, KeyRefused) as error:
            # A configuration problem, not the records': they wait for a usable key.
            logger.error("certificates waiting: %s", error.code)
            counts[f"waiting:{error.code}"] += 1
            break
    return dict(counts)


def _dose_facts(dose: Any) -> VaccinationFacts:
    from covidhub.vaccination.models import Dose

    vaccine = dose.vaccine
    if dose.series == Dose.Series.PRIMARY:
        dose_number, total = dose.dose_number, vaccine.primary_doses
    else:
        # Boosters continue the count (EU guidance: a booster after two doses is 3/3).
        dose_number, total = dose.sequence, max(dose.sequence, vaccine.primary_doses)
    return VaccinationFacts(
        person=dose.person,
        source_type=DOSE_SOURCE,
        source_id=str(dose.uuid),
        medicinal_product=vaccine.product_code,
        manufacturer=vaccine.manufacturer_code,
        prophylaxis=vaccine.prophylaxis_code,
        dose_number=dose_number,
        total_doses=total,
        vaccination_date=dose.day,
        country=(dose.elsewhere_country or "VN") if dose.given_elsewhere else "VN",
    )


def doses_certificates_issue(*, dose_ids: list[int]) -> dict[str, int]:
    """Bring the certificates of these doses up to date, the new ones issued together
    (`certificates_issue_many`): a valid dose without a live certificate gets one, a
    changed dose (vaccine, dose number, series total, date) a new one in place of the
    old, a voided dose's is revoked. Running it again changes nothing."""
    from covidhub.certificates.models import IssuedCertificate
    from covidhub.certificates.services import certificate_revoke, certificates_issue_many
    from covidhub.vaccination.models import Dose

    counts: Counter[str] = Counter()
    doses = list(
        Dose.objects.select_related("vaccine", "person").filter(pk__in=dose_ids).order_by("id")
    )
    counts["missing"] = len(set(dose_ids)) - len(doses)
    live = {
        certificate.source_id: certificate
        for certificate in IssuedCertificate.objects.filter(
            source_type=DOSE_SOURCE,
            source_id__in=[str(dose.uuid) for dose in doses],
            revoked_at__isnull=True,
        )
    }
    to_issue: list[Facts] = []
    for dose in doses:
        current = live.get(str(dose.uuid))
        if dose.status != Dose.Status.VALID:
            if current is not None:
                certificate_revoke(certificate=current, reason="dose_voided", actor=None)
                counts["revoked"] += 1
            continue
        facts = _dose_facts(dose)
        if current is not None:
            entry = current.payload["v"][0]
            unchanged = (
                entry["mp"] == facts.medicinal_product
                and entry["dn"] == facts.dose_number
                and entry["sd"] == facts.total_doses
                and entry["dt"] == facts.vaccination_date.isoformat()
            )
            if unchanged:
                counts["unchanged"] += 1
                continue
            certificate_revoke(certificate=current, reason="dose_corrected", actor=None)
            counts["revoked"] += 1
        to_issue.append(facts)
    created, refused = certificates_issue_many(facts_list=to_issue)
    counts["issued"] += len(created)
    for source_id, code in refused.items():
        # Bad vaccine codes are an administrator's fix, not a retry: log and go on.
        logger.warning("dose %s: no certificate (%s)", source_id, code)
        counts[f"not_issuable:{code}"] += 1
    return {key: value for key, value in counts.items() if value}


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
    from covidhub.people.locks import register_records_probe
    from covidhub.people.services import person_identity_changed

    register_records_probe("certificates", person_has_records)

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
