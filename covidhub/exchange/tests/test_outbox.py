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
from covidhub.testing.signals import result_released
from covidhub.vaccination.models import Dose
from covidhub.vaccination.signals import dose_recorded

S = ExchangeRecord.Status


def _day(make_person: Callable[..., Any], make_records: Callable[..., Any], people: int) -> Any:
    """A day's records, announced in their recording transactions as the services do."""
    doses: list[Dose] = []
    results: list[Result] = []
    for n in range(people):
        person = make_person(id_number=f"0300850{n:05d}", id_type="cccd")
        made = make_records(person, doses=2, results=1)
        with transaction.atomic():
            for dose in made["doses"]:
                dose_recorded.send(sender=Dose, dose=dose, person=person)
        with transaction.atomic():
            for result in made["results"]:
                result_released.send(sender=Result, result=result, person=person)
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
