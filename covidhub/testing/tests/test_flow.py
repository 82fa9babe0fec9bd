"""The whole path through the services: register, collect a pool, hand over, receive,
record, release, notify."""

from __future__ import annotations

from typing import Any

import pytest

from covidhub.core.testing import run_queued_tasks
from covidhub.notifications.models import Message
from covidhub.people.personal_qr import personal_qr_text
from covidhub.testing import collection, registration, results
from covidhub.testing.models import Appointment, CaseReport, Result, Tube
from covidhub.testing.signals import positive_result_released, result_released

pytestmark = pytest.mark.django_db


def test_pool_negative_makes_every_member_negative_and_notifies(
    citizen: Any,
    citizen_person: Any,
    make_person: Any,
    slot: Any,
    sampler: Any,
    technician: Any,
    lab: Any,
    pcr_session: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    child = make_person(managed_by=citizen, relationship="child", full_name="Nguyễn Bé Na")
    walk = make_person(full_name="Lê Văn Khách", phone="0987654321")
    appointment = registration.appointment_book(actor=citizen, person=citizen_person, slot=slot)
    session = pcr_session(pool_size=3)
    collection.scan_handle(actor=sampler, session=session, text="POOL0001")
    out = collection.scan_handle(actor=sampler, session=session, text=appointment.qr_text)
    assert out.kind == "sample_added"
    collection.scan_handle(actor=sampler, session=session, text=personal_qr_text(child))
    out = collection.scan_handle(actor=sampler, session=session, text=personal_qr_text(walk))
    assert out.tube is not None and out.tube.status == Tube.Status.CLOSED
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.COLLECTED
    shipment = collection.shipment_create(actor=sampler, session=session, lab=lab)
    results.shipment_receive(actor=technician, shipment=shipment, barcodes=["pool0001"])
    seen: list[Any] = []
    result_released.connect(lambda **kw: seen.append(kw["person"]), weak=False, dispatch_uid="t")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            results.tube_result_record(
                actor=technician, lab=lab, barcode="POOL0001", value="negative"
            )
        run_queued_tasks()
    finally:
        result_released.disconnect(dispatch_uid="t")
    outcomes = Result.objects.order_by("id")
    assert [r.outcome for r in outcomes] == ["negative"] * 3
    assert {r.person_id for r in outcomes} == {citizen_person.pk, child.pk, walk.pk}
    assert all(r.pooled for r in outcomes)
    assert {p.pk for p in seen} == {citizen_person.pk, child.pk, walk.pk}
    assert Message.objects.filter(channel="inapp", user=citizen).count() == 2
    assert Message.objects.filter(channel="sms", to=walk.phone).count() == 1
    # Running the notifier again tells nobody twice.
    run_queued_tasks()
    from covidhub.testing.notify import results_notify_pending

    assert results_notify_pending() == 0


def test_positive_pool_asks_every_member_for_a_retest(
    make_person: Any,
    collected_tube: Any,
    technician: Any,
    lab: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    people = [make_person(full_name=f"Người Thứ {c}") for c in "ABCD"]
    tube = collected_tube(people)
    with django_capture_on_commit_callbacks(execute=True):
        results.tube_result_record(
            actor=technician, lab=lab, barcode=tube.barcode, value="positive", ct_value="24,5"
        )
    run_queued_tasks()
    outcomes = list(Result.objects.all())
    assert len(outcomes) == 4
    assert {r.outcome for r in outcomes} == {Result.Outcome.POOL_POSITIVE}
    retests = Appointment.objects.filter(kind="retest", status="booked")
    assert {a.person_id for a in retests} == {p.pk for p in people}
    assert not CaseReport.objects.exists()


def test_positive_individual_is_reported_to_the_commune(
    make_person: Any,
    collected_tube: Any,
    technician: Any,
    lab: Any,
    commune_officer: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    person = make_person(full_name="Phạm Thị Dương")
    tube = collected_tube([person])
    traced: list[Any] = []
    positive_result_released.connect(lambda **kw: traced.append(kw), weak=False, dispatch_uid="t")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            results.tube_result_record(actor=technician, lab=lab, barcode=tube.barcode, value="P")
        run_queued_tasks()
    finally:
        positive_result_released.disconnect(dispatch_uid="t")
    result = Result.objects.get()
    assert result.outcome == Result.Outcome.POSITIVE
    assert CaseReport.objects.get().person == person
    assert Message.objects.filter(user=commune_officer, channel="inapp").count() == 1
    assert traced and traced[0]["person"] == person


def test_pool_positive_card_links_the_retest_and_clears_after_it(
    citizen: Any,
    make_person: Any,
    collected_tube: Any,
    technician: Any,
    lab: Any,
    login: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    own = citizen.people.get(relationship="self")
    tube = collected_tube([own, make_person(full_name="Người Hàng Xóm")])
    with django_capture_on_commit_callbacks(execute=True):
        results.tube_result_record(
            actor=technician, lab=lab, barcode=tube.barcode, value="positive"
        )
    run_queued_tasks()
    retest = Appointment.objects.get(kind="retest", person=own)
    client = login(citizen)
    page = client.get("/testing/results/").content.decode()
    assert f"/testing/appointments/{retest.uuid}/" in page  # the retest is one tap away
    second = collected_tube([own])
    with django_capture_on_commit_callbacks(execute=True):
        results.tube_result_record(
            actor=technician, lab=lab, barcode=second.barcode, value="negative"
        )
    run_queued_tasks()
    page = client.get("/testing/results/").content.decode()
    assert "Cần lấy mẫu lại." not in page  # no longer "retest needed"
    assert "Đã xét nghiệm lại ngày" in page
