"""Each kind of record is queued in the transaction that records it, by the capability's
own service: a rollback queues nothing, a commit queues exactly one row per endpoint (and
nothing more at notification time)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from covidhub.certificates.services import (
    certificate_issue_vaccination,
    certificate_revoke,
    signing_key_revoke,
)
from covidhub.declarations.services import case_approve, case_propose
from covidhub.exchange.models import ExchangeRecord
from covidhub.exchange.push import bundle_build
from covidhub.testing import results as lab_results
from covidhub.testing.models import Result, TubeResult
from covidhub.testing.notify import results_notify_pending


class Rollback(Exception):
    pass


def _queued(kind: str) -> list[tuple[str, str, int]]:
    return sorted(
        (r.endpoint, str(r.record_uuid), r.version)
        for r in ExchangeRecord.objects.filter(kind=kind)
    )


@pytest.mark.django_db
def test_a_result_is_queued_by_the_transaction_that_releases_it(
    two_endpoints: list[str],
    make_person: Callable[..., Any],
    collected_tube: Callable[..., Any],
    technician: Any,
    technician2: Any,
    lab: Any,
) -> None:
    person = make_person()
    tube = collected_tube([person])
    with pytest.raises(Rollback), transaction.atomic():
        lab_results.tube_result_record(
            actor=technician, lab=lab, barcode=tube.barcode, value="negative"
        )
        assert ExchangeRecord.objects.count() == 2  # written inside the transaction
        raise Rollback
    assert not Result.objects.exists()
    assert not ExchangeRecord.objects.exists()

    lab_results.tube_result_record(
        actor=technician, lab=lab, barcode=tube.barcode, value="negative"
    )
    result = Result.objects.get()
    assert _queued("result") == [(e, str(result.uuid), 1) for e in two_endpoints]
    # Notifying the person (the task after the commit) queues nothing more.
    assert results_notify_pending() == 1
    assert ExchangeRecord.objects.count() == 2

    # An amendment is the result's next version, queued by the approval's transaction.
    amendment = lab_results.amendment_request(
        actor=technician,
        tube_result=TubeResult.objects.get(),
        new_value="positive",
        new_ct_value="22.5",
        reason="Nhầm mẫu",
    )
    with pytest.raises(Rollback), transaction.atomic():
        lab_results.amendment_decide(actor=technician2, amendment=amendment, approve=True)
        raise Rollback
    assert ExchangeRecord.objects.count() == 2
    lab_results.amendment_decide(actor=technician2, amendment=amendment, approve=True)
    assert _queued("result") == sorted(
        (e, str(result.uuid), v) for e in two_endpoints for v in (1, 2)
    )
    results_notify_pending()
    assert ExchangeRecord.objects.count() == 4


@pytest.mark.django_db
def test_a_pool_queues_each_persons_result(
    two_endpoints: list[str],
    make_person: Callable[..., Any],
    collected_tube: Callable[..., Any],
    technician: Any,
    lab: Any,
) -> None:
    people = [make_person(full_name=f"Người Thứ {n}") for n in ("Một", "Hai", "Ba")]
    tube = collected_tube(people)
    lab_results.tube_result_record(
        actor=technician, lab=lab, barcode=tube.barcode, value="positive"
    )
    uuids = {str(u) for u in Result.objects.values_list("uuid", flat=True)}
    assert len(uuids) == 3
    queued = _queued("result")
    assert len(queued) == 6 and {u for _e, u, _v in queued} == uuids
    days = set(ExchangeRecord.objects.values_list("day", flat=True))
    assert days == {timezone.localdate(tube.collected_at)}


@pytest.mark.django_db
def test_a_case_is_queued_by_its_confirmation(
    two_endpoints: list[str],
    make_person: Callable[..., Any],
    make_staff: Callable[..., Any],
    commune_officer: Any,
    area_tree: dict[str, Any],
) -> None:
    second = make_staff("officer2", "commune_officer", area_tree["commune"])
    person = make_person()
    case = case_propose(
        actor=commune_officer,
        person=person,
        onset_date=timezone.localdate() - datetime.timedelta(days=2),
    )
    assert not ExchangeRecord.objects.exists()  # proposed is not reported
    with pytest.raises(Rollback), transaction.atomic():
        case_approve(actor=second, case=case)
        raise Rollback
    assert not ExchangeRecord.objects.exists()
    case_approve(actor=second, case=case)
    assert _queued("case") == [(e, str(case.uuid), 1) for e in two_endpoints]
    assert set(ExchangeRecord.objects.values_list("commune_path", flat=True)) == {
        person.commune_path
    }


@pytest.mark.django_db
def test_revocations_are_queued_one_by_one_and_a_whole_key_at_once(
    two_endpoints: list[str],
    make_person: Callable[..., Any],
    signing_key: Any,
    vaccination_facts: Callable[..., Any],
    province_admin: Any,
) -> None:
    first, second, third = (make_person(full_name=f"Người {n}") for n in ("A", "B", "C"))
    certificates = [
        certificate_issue_vaccination(facts=vaccination_facts(p)) for p in (first, second, third)
    ]
    assert not ExchangeRecord.objects.exists()  # issuing is not reported
    with pytest.raises(Rollback), transaction.atomic():
        certificate_revoke(certificate=certificates[0], reason="fraud", actor=province_admin)
        raise Rollback
    assert not ExchangeRecord.objects.exists()
    certificate_revoke(certificate=certificates[0], reason="fraud", actor=province_admin)
    assert _queued("revocation") == [(e, str(certificates[0].uuid), 1) for e in two_endpoints]

    # The key's other two certificates, set-based, in the key revocation's transaction.
    assert signing_key_revoke(kid=signing_key.kid, reason="key", actor=province_admin) == 2
    assert _queued("revocation") == sorted(
        (e, str(c.uuid), 1) for e in two_endpoints for c in certificates
    )
    assert set(ExchangeRecord.objects.values_list("day", flat=True)) == {timezone.localdate()}


@pytest.mark.django_db
def test_case_and_revocation_bundles_validate_as_fhir(
    two_endpoints: list[str],
    make_person: Callable[..., Any],
    make_staff: Callable[..., Any],
    commune_officer: Any,
    area_tree: dict[str, Any],
    signing_key: Any,
    vaccination_facts: Callable[..., Any],
    province_admin: Any,
    validate: Callable[[dict[str, Any]], Any],
) -> None:
    person = make_person(id_type="cccd", id_number="030085000123")
    case = case_propose(actor=commune_officer, person=person, onset_date=timezone.localdate())
    case_approve(actor=make_staff("officer2", "commune_officer", area_tree["commune"]), case=case)
    certificate = certificate_issue_vaccination(facts=vaccination_facts(person))
    certificate_revoke(certificate=certificate, reason="dose_voided", actor=province_admin)
    built = bundle_build(list(ExchangeRecord.objects.filter(endpoint="nvp")))
    validate(built.bundle)
    by_type = {e["resource"]["resourceType"]: e for e in built.bundle["entry"]}
    assert set(by_type) == {"Patient", "Condition", "DocumentReference"}
    condition = by_type["Condition"]
    validate(condition["resource"])
    assert condition["request"]["url"].endswith(f"/sid/case|{case.uuid}")
    assert condition["resource"]["verificationStatus"]["coding"][0]["code"] == "confirmed"
    assert condition["resource"]["code"]["coding"][0]["code"] == "840539006"
    assert condition["resource"]["subject"] == {"reference": f"urn:uuid:{person.uuid}"}
    revocation = by_type["DocumentReference"]
    validate(revocation["resource"])
    assert revocation["resource"]["status"] == "entered-in-error"
    assert revocation["resource"]["masterIdentifier"]["value"] == certificate.uvci
    assert revocation["request"]["url"].endswith(f"/sid/certificate|{certificate.uuid}")


@pytest.mark.parametrize("chunked", [False, True])
@pytest.mark.django_db
def test_a_lab_file_queues_every_result_set_based(
    chunked: bool,
    two_endpoints: list[str],
    make_person: Callable[..., Any],
    collected_tube: Callable[..., Any],
    technician: Any,
    lab: Any,
    settings: Any,
) -> None:
    """The instrument file's release, at once (by its batch) or as a job (by chunks of tube
    results): one INSERT … SELECT queues each person's result for each endpoint."""
    from covidhub.testing import imports

    if chunked:
        settings.LAB_IMPORT_JOB_ROWS = 0
        settings.LAB_IMPORT_CHUNK_ROWS = 1
    pool = collected_tube([make_person(full_name="An"), make_person(full_name="Bình")])
    single = collected_tube([make_person(full_name="Chi")])
    content = f"Barcode,Result,Ct\n{pool.barcode},negative,\n{single.barcode},positive,21.5\n"
    batch = imports.import_validate(
        actor=technician, lab=lab, file_name="r.csv", content=content.encode()
    )
    done = imports.import_commit(actor=technician, batch=batch, import_good_rows=True)
    if chunked:
        job = imports.import_job_of(done)
        assert job is not None
        imports.lab_import_run(job_uuid=job.uuid)
    results = list(Result.objects.all())
    assert len(results) == 3
    assert _queued("result") == sorted((e, str(r.uuid), 1) for e in two_endpoints for r in results)
