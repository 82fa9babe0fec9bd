"""Scoping: another lab's technician and another commune's officer get 404 (and views of
health data are audited); officers' board and daily counts."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from covidhub.audit.models import AuditEvent
from covidhub.core.errors import NotFound
from covidhub.testing import metrics, results
from covidhub.testing.models import CaseReport, Shipment

pytestmark = pytest.mark.django_db


@pytest.fixture
def positive_case(
    make_person: Any,
    collected_tube: Any,
    technician: Any,
    lab: Any,
    django_capture_on_commit_callbacks: Any,
) -> CaseReport:
    person = make_person(full_name="Hoàng Văn Ca")
    tube = collected_tube([person])
    with django_capture_on_commit_callbacks(execute=True):
        results.tube_result_record(
            actor=technician, lab=lab, barcode=tube.barcode, value="positive"
        )
    return CaseReport.objects.get()


def test_another_labs_technician_gets_404_everywhere(
    make_person: Any,
    collected_tube: Any,
    technician: Any,
    other_technician: Any,
    lab: Any,
    login: Any,
) -> None:
    tube = collected_tube([make_person(full_name="Lab Một")], receive=False)
    shipment = Shipment.objects.get()
    client = login(other_technician)
    assert client.get(f"/api/v1/testing/shipments/{shipment.uuid}").status_code == 404
    assert client.get(f"/staff/testing/shipments/{shipment.uuid}/").status_code == 404
    assert (
        client.post(
            f"/api/v1/testing/shipments/{shipment.uuid}/receive",
            {"barcodes": [tube.barcode]},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/v1/testing/labs/{lab.uuid}/results",
            {"barcode": tube.barcode, "value": "negative"},
            content_type="application/json",
        ).status_code
        == 404
    )
    with pytest.raises(NotFound):
        results.tube_result_record(
            actor=other_technician, lab=lab, barcode=tube.barcode, value="negative"
        )
    own = login(technician)
    assert (
        own.post(
            f"/api/v1/testing/shipments/{shipment.uuid}/receive",
            {"barcodes": [tube.barcode]},
            content_type="application/json",
        ).status_code
        == 200
    )
    recorded = own.post(
        f"/api/v1/testing/labs/{lab.uuid}/results",
        {"barcode": tube.barcode, "value": "negative", "ct_value": ""},
        content_type="application/json",
    )
    assert recorded.status_code == 201, recorded.content
    again = own.post(
        f"/api/v1/testing/labs/{lab.uuid}/results",
        {"barcode": tube.barcode, "value": "negative"},
        content_type="application/json",
    )
    assert again.status_code == 409 and again.json()["code"] == "result_already_recorded"
    tube_result_uuid = recorded.json()["uuid"]
    assert (
        client.post(
            f"/api/v1/testing/tube-results/{tube_result_uuid}/amendments",
            {"new_value": "positive", "reason": "x"},
            content_type="application/json",
        ).status_code
        == 404
    )


def test_neighbour_officer_gets_404_and_own_officer_view_is_audited(
    positive_case: CaseReport,
    commune_officer: Any,
    neighbour_officer: Any,
    district_officer: Any,
    login: Any,
) -> None:
    url = f"/api/v1/testing/cases/{positive_case.uuid}"
    assert login(neighbour_officer).get(url).status_code == 404
    assert (
        login(neighbour_officer).get(f"/staff/testing/cases/{positive_case.uuid}/").status_code
        == 404
    )
    assert login(neighbour_officer).get("/api/v1/testing/cases").json()["items"] == []
    response = login(commune_officer).get(url)
    assert response.status_code == 200 and response.json()["person_name"] == "Hoàng Văn Ca"
    assert AuditEvent.objects.filter(
        action="testing.case.viewed", actor=commune_officer, person_uuid=positive_case.person.uuid
    ).exists()
    assert login(district_officer).get("/staff/testing/cases/").status_code == 200
    assert AuditEvent.objects.filter(action="testing.case.listed", actor=district_officer).exists()


def test_case_list_has_no_n_plus_one(
    make_person: Any,
    collected_tube: Any,
    technician: Any,
    lab: Any,
    commune_officer: Any,
    login: Any,
    django_assert_max_num_queries: Any,
) -> None:
    for c in "ABCDE":
        tube = collected_tube([make_person(full_name=f"Ca {c}")])
        results.tube_result_record(
            actor=technician, lab=lab, barcode=tube.barcode, value="positive"
        )
    client = login(commune_officer)
    client.get("/api/v1/testing/cases")
    with django_assert_max_num_queries(12):
        assert len(client.get("/api/v1/testing/cases").json()["items"]) == 5


def test_board_counts_by_site_and_lab_and_flags_late_tubes(
    make_person: Any,
    collected_tube: Any,
    technician: Any,
    lab: Any,
    commune_officer: Any,
    neighbour_officer: Any,
    login: Any,
) -> None:
    from covidhub.testing.models import Tube

    done = collected_tube([make_person(full_name="Xong")])
    results.tube_result_record(actor=technician, lab=lab, barcode=done.barcode, value="negative")
    late = collected_tube([make_person(full_name="Trễ")], receive=False)
    Tube.objects.filter(pk=late.pk).update(shipped_at=timezone.now() - datetime.timedelta(hours=30))
    rows = login(commune_officer).get("/api/v1/testing/board?late_hours=24").json()["items"]
    site_row = next(r for r in rows if r["kind"] == "site")
    lab_row = next(r for r in rows if r["kind"] == "lab")
    assert (site_row["collected"], site_row["resulted"], site_row["late_receipt"]) == (2, 1, 1)
    assert lab_row["received"] == 1
    assert login(neighbour_officer).get("/api/v1/testing/board").json()["items"] == []
    assert login(commune_officer).get("/staff/testing/board/").status_code == 200


def testing_daily_counts_count_people_not_tubes(
    make_person: Any, collected_tube: Any, technician: Any, lab: Any, area_tree: Any
) -> None:
    pool = collected_tube([make_person(full_name=f"Gộp {c}") for c in "ABCDE"])
    single = collected_tube([make_person(full_name="Đơn")])
    invalid = collected_tube([make_person(full_name="Hỏng")])
    results.tube_result_record(actor=technician, lab=lab, barcode=pool.barcode, value="positive")
    results.tube_result_record(actor=technician, lab=lab, barcode=single.barcode, value="positive")
    results.tube_result_record(actor=technician, lab=lab, barcode=invalid.barcode, value="invalid")
    today = timezone.localdate()
    counts = {(c.metric, c.commune_id): c.value for c in metrics.testing_daily_counts(today, today)}
    commune = area_tree["commune"].pk
    assert counts[("tests", commune)] == 6
    assert counts[("positives", commune)] == 1
    assert counts[("tests_pcr", commune)] == 6
    assert ("tests_rapid", commune) not in counts


def test_lab_shipments_are_paginated_and_scoped(
    make_person: Any,
    collected_tube: Any,
    technician: Any,
    other_technician: Any,
    lab: Any,
    login: Any,
) -> None:
    collected_tube([make_person(full_name="Phân Trang")])
    body = login(technician).get(f"/api/v1/testing/labs/{lab.uuid}/shipments").json()
    assert body["count"] == 1 and body["items"][0]["lab_name"] == lab.name
    assert (
        login(other_technician).get(f"/api/v1/testing/labs/{lab.uuid}/shipments").status_code == 404
    )
    assert login(technician).get("/api/v1/openapi.json").status_code == 200
