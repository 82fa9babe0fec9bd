"""End to end with the real vaccination and testing services: a recorded dose or a
released result becomes a signed certificate through the signal, the task and the worker."""

import datetime

import pytest
from django.utils import timezone

from covidhub.certificates.models import IssuedCertificate
from covidhub.certificates.verification import certificate_verify
from covidhub.core.testing import run_queued_tasks
from covidhub.testing import results
from covidhub.testing.models import Result
from covidhub.testing.tests.conftest import (  # noqa: F401 - fixtures
    collected_tube,
    lab,
    pcr_session,
    sampler,
    site,
    technician,
)
from covidhub.vaccination.models import Vaccine

pytestmark = pytest.mark.django_db


def test_dose_recorded_elsewhere_issues_a_certificate_and_voiding_revokes_it(
    signing_key, district_officer, citizen_person, django_capture_on_commit_callbacks
):
    from covidhub.vaccination.services.day import dose_record_elsewhere, dose_void

    vaccine = Vaccine.objects.get(code="pfizer")
    with django_capture_on_commit_callbacks(execute=True):
        dose = dose_record_elsewhere(
            actor=district_officer,
            person=citizen_person,
            vaccine=vaccine,
            administered_on=timezone.localdate() - datetime.timedelta(days=30),
            place="Bệnh viện Bạch Mai, Hà Nội",
            evidence_note="Giấy xác nhận tiêm số 123",
        )
    with django_capture_on_commit_callbacks(execute=True):
        run_queued_tasks()
    certificate = IssuedCertificate.objects.get(source_type="vaccination.dose")
    assert certificate.person == citizen_person
    entry = certificate.payload["v"][0]
    assert (entry["mp"], entry["dn"], entry["sd"]) == ("EU/1/20/1528", 1, 2)
    assert entry["dt"] == dose.day.isoformat()
    assert certificate_verify(text=certificate.hc1).valid
    # A second delivery of the same signal issues nothing new.
    from covidhub.vaccination.signals import dose_recorded

    with django_capture_on_commit_callbacks(execute=True):
        dose_recorded.send(sender=type(dose), dose=dose, person=citizen_person)
    run_queued_tasks()
    assert IssuedCertificate.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        dose_void(actor=district_officer, dose=dose, reason="recorded for the wrong person")
    with django_capture_on_commit_callbacks(execute=True):
        run_queued_tasks()
    certificate.refresh_from_db()
    assert certificate.revoked_at is not None
    assert certificate_verify(text=certificate.hc1).reason == "revoked"


def test_released_results_issue_test_and_recovery_certificates(
    signing_key,
    make_person,
    collected_tube,  # noqa: F811
    technician,  # noqa: F811
    lab,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    negative = make_person(full_name="Vũ Thị Âm")
    positive = make_person(full_name="Đỗ Văn Dương")
    collected_tube([negative], barcode="NEG00001")
    collected_tube([positive], barcode="POS00001")
    with django_capture_on_commit_callbacks(execute=True):
        results.tube_result_record(actor=technician, lab=lab, barcode="NEG00001", value="negative")
        results.tube_result_record(actor=technician, lab=lab, barcode="POS00001", value="positive")
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            run_queued_tasks()
    test_certificate = IssuedCertificate.objects.get(person=negative)
    assert test_certificate.kind == "t"
    assert test_certificate.payload["t"][0]["tr"] == "260415000"
    assert test_certificate.payload["t"][0]["tt"] == "LP6464-4"
    assert certificate_verify(text=test_certificate.hc1).valid
    recovery = IssuedCertificate.objects.get(person=positive)
    assert recovery.kind == "r"
    result = Result.objects.get(person=positive)
    first = timezone.localdate(result.collected_at)
    assert recovery.payload["r"][0]["fr"] == first.isoformat()
    assert recovery.payload["r"][0]["df"] == (first + datetime.timedelta(days=10)).isoformat()
    # Valid from day 11: the verifier accepts the signature now; the status card is not
    # green before day 11.
    assert certificate_verify(text=recovery.hc1).valid
    from covidhub.certificates.status_rules import person_status

    assert person_status(person=positive).colour == "red"


def test_results_released_in_one_transaction_are_certified_by_one_task(
    signing_key, make_person, django_capture_on_commit_callbacks
):
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    from covidhub.certificates.receivers import on_result_released

    class FakeResult:
        def __init__(self, pk):
            self.pk = pk

    # A rolled-back transaction leaves no stale batch behind.
    with pytest.raises(RuntimeError), transaction.atomic():
        on_result_released(sender=None, result=FakeResult(1))
        raise RuntimeError
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for pk in (2, 3, 4):
            on_result_released(sender=None, result=FakeResult(pk))
    tasks = list(DBTaskResult.objects.filter(task_path__endswith="certificate_issue_for_results"))
    assert len(tasks) == 1
    assert tasks[0].args_kwargs["args"] == [[2, 3, 4]]


def test_batch_issue_skips_live_sources_and_reports_refusals(
    signing_key, make_person, vaccination_facts
):
    from covidhub.audit.models import AuditEvent
    from covidhub.certificates.services import certificates_issue_many

    people = [make_person(full_name="Người " + name) for name in ("An", "Bình", "Chi")]
    facts = [vaccination_facts(person) for person in people]
    bad = vaccination_facts(people[0], medicinal_product="NOPE", source_id="bad")
    created, refused = certificates_issue_many(facts_list=[*facts[:2], bad])
    assert len(created) == 2 and refused == {"bad": "unknown_code"}
    created, refused = certificates_issue_many(facts_list=facts)
    assert len(created) == 1 and created[0].person == people[2]
    assert IssuedCertificate.objects.count() == 3
    assert AuditEvent.objects.filter(action="certificates.certificate.issued").count() == 3
    assert all(certificate_verify(text=c.hc1).valid for c in IssuedCertificate.objects.all())
