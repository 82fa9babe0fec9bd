"""The outbox against a real HTTP national-system double: every dose and result of a day
reaches it exactly once across timeouts, 500s, a killed worker and rejections."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from covidhub.audit.models import AuditEvent
from covidhub.exchange.models import ExchangeRecord
from covidhub.exchange.push import bundle_build, bundle_post, exchange_push
from covidhub.exchange.selectors import exchange_reconciliation
from covidhub.exchange.services import exchange_records_retry
from covidhub.exchange.tests.double import NationalDouble
from covidhub.testing.models import Result
from covidhub.testing.release import results_recorded_announce
from covidhub.vaccination.models import Dose
from covidhub.vaccination.signals import dose_recorded

S = ExchangeRecord.Status


def _day(
    make_person: Callable[..., Any],
    make_records: Callable[..., Any],
    people: int,
    *,
    first: int = 0,
) -> Any:
    """A day's records, announced in their recording transactions as the services do."""
    doses: list[Dose] = []
    results: list[Result] = []
    for n in range(first, first + people):
        person = make_person(id_number=f"0300850{n:05d}", id_type="cccd")
        made = make_records(person, doses=2, results=1)
        with transaction.atomic():
            for dose in made["doses"]:
                dose_recorded.send(sender=Dose, dose=dose, person=person)
        with transaction.atomic():
            results_recorded_announce(
                results=Result.objects.filter(pk__in=[r.pk for r in made["results"]])
            )
        doses += made["doses"]
        results += made["results"]
    return doses, results


def _drain(endpoint: Any, start: datetime.datetime, *, batch: int = 5) -> datetime.datetime:
    now = start
    for _ in range(500):
        if not ExchangeRecord.objects.filter(status__in=(S.PENDING, S.SENDING)).exists():
            return now
        exchange_push(endpoint=endpoint, batch=batch, now=now)
        now += datetime.timedelta(minutes=1)
    raise AssertionError("the outbox never drained")


@pytest.mark.django_db
def test_demo_day_reaches_the_double_exactly_once_across_failures(
    endpoint: Any,
    double: NationalDouble,
    make_person: Callable[..., Any],
    make_records: Callable[..., Any],
    province_admin: Any,
) -> None:
    doses, results = _day(make_person, make_records, people=6)
    assert ExchangeRecord.objects.count() == len(doses) + len(results) == 18
    # A replayed signal queues nothing twice.
    with transaction.atomic():
        dose_recorded.send(sender=Dose, dose=doses[0], person=doses[0].person)
    assert ExchangeRecord.objects.count() == 18

    now = timezone.now()
    double.commands = ["timeout", "error500", "accept"]
    first = exchange_push(endpoint=endpoint, batch=5, now=now)
    assert first["failed"] == 5
    assert ExchangeRecord.objects.filter(status=S.PENDING, attempts=1).count() == 5

    # A worker that sent a batch and was killed before it marked it: the partner has the
    # records, the outbox still shows them as being sent.
    from covidhub.exchange.push import _claim

    claimed = _claim(endpoint, 5, now)
    answer = bundle_post(endpoint, bundle_build(claimed).bundle)
    assert answer.status == 500  # the double's second command
    claimed = _claim(endpoint, 5, now)
    assert bundle_post(endpoint, bundle_build(claimed).bundle).status == 200
    assert ExchangeRecord.objects.filter(status=S.SENDING).count() == 10

    _drain(endpoint, now + datetime.timedelta(hours=1))

    assert double.keys("Immunization") == {str(d.uuid) for d in doses}
    assert double.keys("Observation") == {str(r.uuid) for r in results}
    assert set(double.creates.values()) == {1}  # resends updated, never duplicated
    sent = sum(
        1 for bundle in double.received for e in bundle["entry"] if e["request"]["url"][0] != "P"
    )
    assert sent > 18  # the failures did make it resend
    assert all(t == "Bearer s3cret-token" for t in double.tokens)
    assert all(b["type"] == "transaction" for b in double.received)

    rows = exchange_reconciliation(
        actor=province_admin,
        day_from=timezone.localdate() - datetime.timedelta(days=90),
        day_to=timezone.localdate(),
    )
    assert sum(r.counts.get(S.ACCEPTED, 0) for r in rows) == 18
    assert sum(r.unsent for r in rows) == 0


@pytest.mark.django_db
def test_a_drain_keeps_one_connection_and_survives_the_partner_closing_it(
    endpoint: Any,
    double: NationalDouble,
    settings: Any,
    make_person: Callable[..., Any],
    make_records: Callable[..., Any],
) -> None:
    """Every batch of a drain goes over one kept connection; when the partner closes it
    between two batches (an idle timeout), the next Bundle is sent once more on a new
    connection, not counted as a failure, and nothing is created twice."""
    from covidhub.exchange.tasks import exchange_drain

    doses, results = _day(make_person, make_records, people=3)
    settings.EXCHANGE_BATCH = 3
    totals = exchange_drain()
    assert totals["accepted"] == 9 and totals["failed"] == 0
    assert len(double.received) == 3 and double.connections == 1

    more_doses, more_results = _day(make_person, make_records, people=2, first=3)
    double.commands = ["accept", "drop"]  # the second Bundle finds the connection closed
    connections = double.connections
    totals = exchange_drain()
    assert totals == {"accepted": 6, "rejected": 0, "failed": 0, "returned": 0}
    assert double.connections == connections + 2  # the drain's own, then one anew
    assert len(double.received) == 3 + 3  # the dropped Bundle, then it again
    assert set(double.creates.values()) == {1}
    assert double.keys("Immunization") == {str(d.uuid) for d in doses + more_doses}
    assert double.keys("Observation") == {str(r.uuid) for r in results + more_results}
    assert not ExchangeRecord.objects.exclude(status=S.ACCEPTED).exists()


@pytest.mark.django_db
def test_bundle_entries_validate_as_fhir(
    endpoint: Any,
    make_person: Callable[..., Any],
    make_records: Callable[..., Any],
    validate: Callable[[dict[str, Any]], Any],
) -> None:
    _day(make_person, make_records, people=2)
    built = bundle_build(list(ExchangeRecord.objects.all()))
    validate(built.bundle)
    urls = [e["request"]["url"] for e in built.bundle["entry"]]
    assert len(urls) == len(set(urls)) == 2 + 6  # each Patient once, then each record
    assert all(
        e["request"]["method"] == "PUT" and "?identifier=" in u
        for e, u in zip(built.bundle["entry"], urls, strict=True)
    )


@pytest.mark.django_db
def test_a_rejection_keeps_the_partners_reason_and_the_rest_is_sent(
    endpoint: Any,
    double: NationalDouble,
    make_person: Callable[..., Any],
    make_records: Callable[..., Any],
    province_admin: Any,
) -> None:
    _day(make_person, make_records, people=1)
    double.commands = ["reject:1"]  # entry 0 is the Patient, entry 1 the first dose
    now = timezone.now()
    counts = exchange_push(endpoint=endpoint, batch=10, now=now)
    assert counts == {"accepted": 0, "rejected": 1, "failed": 0, "returned": 2}
    rejected = ExchangeRecord.objects.get(status=S.REJECTED)
    assert rejected.reason == "Mã lô vắc xin không có trong danh mục"
    _drain(endpoint, now)
    assert ExchangeRecord.objects.filter(status=S.ACCEPTED).count() == 2
    assert str(rejected.record_uuid) not in double.keys("Immunization")
    rows = exchange_reconciliation(
        actor=province_admin,
        day_from=timezone.localdate() - datetime.timedelta(days=90),
        day_to=timezone.localdate(),
    )
    assert sum(r.counts.get(S.REJECTED, 0) for r in rows) == 1
    assert sum(r.unsent for r in rows) == 1


@pytest.mark.django_db
def test_dead_letters_after_max_attempts_and_an_audited_retry(
    endpoint: Any,
    double: NationalDouble,
    make_person: Callable[..., Any],
    make_records: Callable[..., Any],
    province_admin: Any,
    neighbour_officer: Any,
) -> None:
    _day(make_person, make_records, people=1)
    double.commands = ["error500"] * 4
    now = timezone.now()
    for attempt in range(4):
        exchange_push(endpoint=endpoint, batch=10, now=now)
        # Exponential: 10 s, 20 s, 40 s after the 1st, 2nd, 3rd failure.
        row = ExchangeRecord.objects.first()
        assert row is not None
        if attempt < 3:
            assert row.next_attempt_at - now == datetime.timedelta(seconds=10 * 2**attempt)
        now = row.next_attempt_at
    assert ExchangeRecord.objects.filter(status=S.DEAD).count() == 3
    assert exchange_push(endpoint=endpoint, now=now + datetime.timedelta(days=1))["accepted"] == 0

    assert exchange_records_retry(actor=neighbour_officer) == 0  # not theirs to retry
    assert exchange_records_retry(actor=province_admin, endpoint="nvp") == 3
    assert AuditEvent.objects.filter(
        action="exchange.dead_letters.retried", actor=province_admin
    ).exists()
    _drain(endpoint, now)
    assert ExchangeRecord.objects.filter(status=S.ACCEPTED).count() == 3
    assert set(double.creates.values()) == {1}


@pytest.mark.django_db
def test_nothing_is_queued_without_an_endpoint(
    settings: Any, make_person: Callable[..., Any], make_records: Callable[..., Any]
) -> None:
    settings.EXCHANGE_ENDPOINTS = []
    _day(make_person, make_records, people=1)
    assert not ExchangeRecord.objects.exists()


@pytest.mark.django_db
def test_every_kind_of_a_demo_day_reaches_the_double_exactly_once(
    endpoint: Any,
    double: NationalDouble,
    make_person: Callable[..., Any],
    make_records: Callable[..., Any],
    make_staff: Callable[..., Any],
    collected_tube: Callable[..., Any],
    technician: Any,
    lab: Any,
    commune_officer: Any,
    area_tree: dict[str, Any],
    signing_key: Any,
    vaccination_facts: Callable[..., Any],
    province_admin: Any,
    validate: Callable[[dict[str, Any]], Any],
) -> None:
    """Doses, results, case reports and revocations, each recorded by its service, sent
    through timeouts, 500s and a rejection that the administrator retries once the cause
    is fixed: the double holds each record once and reconciliation shows 0 lost."""
    from covidhub.certificates.services import certificate_issue_vaccination, certificate_revoke
    from covidhub.declarations.services import case_approve, case_propose
    from covidhub.testing.results import tube_result_record

    second_officer = make_staff("officer2", "commune_officer", area_tree["commune"])
    people = [make_person(id_number=f"0300850{n:05d}", id_type="cccd") for n in range(5)]
    doses = []
    for person in people:
        made = make_records(person, doses=2, results=0)
        with transaction.atomic():
            for dose in made["doses"]:
                dose_recorded.send(sender=Dose, dose=dose, person=person)
        doses += made["doses"]
    for group, value in (
        (people[:2], "positive"),  # a positive pool: two pool-positive results
        ([people[2]], "positive"),
        ([people[3]], "negative"),
        ([people[4]], "negative"),
    ):
        tube = collected_tube(group)
        tube_result_record(actor=technician, lab=lab, barcode=tube.barcode, value=value)
    cases = []
    for person in people[2:4]:
        case = case_propose(actor=commune_officer, person=person, onset_date=timezone.localdate())
        cases.append(case_approve(actor=second_officer, case=case))
    certificates = [certificate_issue_vaccination(facts=vaccination_facts(p)) for p in people[:3]]
    for certificate in certificates[:2]:
        certificate_revoke(certificate=certificate, reason="dose_voided", actor=province_admin)
    results = list(Result.objects.all())
    expected = {
        "Immunization": {str(d.uuid) for d in doses},
        "Observation": {str(r.uuid) for r in results},
        "Condition": {str(c.uuid) for c in cases},
        "DocumentReference": {str(c.uuid) for c in certificates[:2]},
    }
    total = sum(len(v) for v in expected.values())
    assert total == 10 + 5 + 2 + 2
    assert ExchangeRecord.objects.count() == total  # one endpoint: one row per record

    double.commands = ["timeout", "error500", "reject:1", "accept", "error500", "timeout"]
    now = _drain(endpoint, timezone.now(), batch=4)
    rejected = ExchangeRecord.objects.get(status=S.REJECTED)
    assert rejected.reason == "Mã lô vắc xin không có trong danh mục"
    rows = exchange_reconciliation(
        actor=province_admin,
        day_from=timezone.localdate() - datetime.timedelta(days=90),
        day_to=timezone.localdate(),
    )
    assert sum(r.unsent for r in rows) == 1  # the rejection is visible, not lost

    # The partner fixed its catalogue; the administrator sends the rejected one again.
    assert exchange_records_retry(actor=province_admin, rejected=True) == 1
    _drain(endpoint, now)

    for rtype, keys in expected.items():
        assert double.keys(rtype) == keys, rtype
    assert set(double.creates.values()) == {1}  # resends updated, never duplicated
    for bundle in double.received:
        validate(bundle)
    rows = exchange_reconciliation(
        actor=province_admin,
        day_from=timezone.localdate() - datetime.timedelta(days=90),
        day_to=timezone.localdate(),
    )
    assert sum(r.counts.get(S.ACCEPTED, 0) for r in rows) == total
    assert sum(r.unsent for r in rows) == 0
    assert {r.kind for r in rows} == {"dose", "result", "case", "revocation"}
