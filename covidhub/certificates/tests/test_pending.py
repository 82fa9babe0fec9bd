"""Certificates of doses through the outbox: queued in the dose's transaction, issued in
batches by one kicked task, safe to repeat, and waiting (not failing) without a key."""

import datetime
from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from covidhub.certificates import receivers
from covidhub.certificates.models import IssuedCertificate, PendingIssue
from covidhub.core.testing import run_queued_tasks
from covidhub.vaccination.models import Dose, Vaccine

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache() -> Any:
    cache.clear()
    yield
    cache.clear()


def _record(officer: Any, person: Any, *, days_ago: int, vaccine: str = "pfizer") -> Dose:
    from covidhub.vaccination.services.day import dose_record_elsewhere

    return dose_record_elsewhere(
        actor=officer,
        person=person,
        vaccine=Vaccine.objects.get(code=vaccine),
        administered_on=timezone.localdate() - datetime.timedelta(days=days_ago),
        place="Bệnh viện Bạch Mai, Hà Nội",
        evidence_note="Giấy xác nhận tiêm",
    )


def _drain_tasks() -> int:
    return DBTaskResult.objects.filter(
        task_path="covidhub.certificates.tasks.certificates_issue_pending", status="READY"
    ).count()


def test_doses_are_queued_in_their_transaction_and_issued_by_one_task(
    signing_key, district_officer, make_person, django_capture_on_commit_callbacks
):
    people = [make_person(full_name=f"Người Thứ {n}") for n in ("Nhất", "Hai", "Ba")]
    with django_capture_on_commit_callbacks(execute=True):
        doses = [_record(district_officer, p, days_ago=40) for p in people]
        doses.append(_record(district_officer, people[0], days_ago=10))
    assert sorted(PendingIssue.objects.values_list("source_pk", flat=True)) == sorted(
        d.pk for d in doses
    )
    # Four commits kicked the drain: one task is queued.
    assert _drain_tasks() == 1
    with django_capture_on_commit_callbacks(execute=True):
        run_queued_tasks()
    assert not PendingIssue.objects.exists()
    issued = IssuedCertificate.objects.filter(source_type=receivers.DOSE_SOURCE)
    assert sorted(issued.values_list("source_id", flat=True)) == sorted(str(d.uuid) for d in doses)
    second = issued.get(source_id=str(doses[-1].uuid)).payload["v"][0]
    assert (second["dn"], second["sd"]) == (2, 2)


def test_a_rolled_back_dose_queues_nothing(signing_key, district_officer, citizen_person):
    with pytest.raises(RuntimeError), transaction.atomic():
        _record(district_officer, citizen_person, days_ago=30)
        assert PendingIssue.objects.count() == 1
        raise RuntimeError("the request failed after the dose")
    assert not PendingIssue.objects.exists()
    assert not Dose.objects.exists()


def test_a_dose_queued_twice_gets_one_certificate(signing_key, district_officer, citizen_person):
    dose = _record(district_officer, citizen_person, days_ago=30)
    receivers.pending_add(source_type=receivers.DOSE_SOURCE, source_pk=dose.pk)
    assert PendingIssue.objects.count() == 2
    assert receivers.pending_drain() == {"issued": 1}
    assert receivers.pending_drain() == {}
    receivers.pending_add(source_type=receivers.DOSE_SOURCE, source_pk=dose.pk)
    assert receivers.pending_drain() == {"unchanged": 1}
    assert IssuedCertificate.objects.count() == 1


def test_a_changed_dose_gets_a_new_certificate_in_place_of_the_old(
    signing_key, district_officer, citizen_person
):
    dose = _record(district_officer, citizen_person, days_ago=30)
    receivers.pending_drain()
    old = IssuedCertificate.objects.get()
    Dose.objects.filter(pk=dose.pk).update(day=dose.day - datetime.timedelta(days=1))
    receivers.pending_add(source_type=receivers.DOSE_SOURCE, source_pk=dose.pk)
    assert receivers.pending_drain() == {"revoked": 1, "issued": 1}
    old.refresh_from_db()
    assert old.revoked_at is not None and old.revocation_reason == "dose_corrected"
    live = IssuedCertificate.objects.get(revoked_at__isnull=True)
    assert live.payload["v"][0]["dt"] == (dose.day - datetime.timedelta(days=1)).isoformat()


def test_without_a_key_the_queue_waits_and_nothing_fails(district_officer, citizen_person):
    dose = _record(district_officer, citizen_person, days_ago=30)
    assert receivers.pending_drain() == {"waiting:no_signing_key": 1}
    assert PendingIssue.objects.filter(source_pk=dose.pk).exists()
    assert not IssuedCertificate.objects.exists()
    # The key arrives: the next run (the scheduler's, every minute) issues it.
    from covidhub.certificates.keystore import signing_key_create_development

    signing_key_create_development(actor=None, now=timezone.now() - datetime.timedelta(days=1))
    assert receivers.pending_drain() == {"issued": 1}
    assert not PendingIssue.objects.exists()


def test_a_missing_dose_and_an_unknown_source_are_dropped(signing_key, caplog):
    receivers.pending_add(source_type=receivers.DOSE_SOURCE, source_pk=987654)
    receivers.pending_add(source_type="elsewhere.thing", source_pk=1)
    assert receivers.pending_drain() == {"missing": 1, "unknown_source": 1}
    assert not PendingIssue.objects.exists()
    assert "unknown source" in caplog.text


def test_the_scheduler_drains_the_queue_every_minute() -> None:
    from covidhub.certificates.tasks import certificates_issue_pending
    from covidhub.core import schedule

    job = next(j for j in schedule.jobs() if j.name == "certificates.issue_pending")
    assert job.every_seconds == 60 and job.task is certificates_issue_pending
