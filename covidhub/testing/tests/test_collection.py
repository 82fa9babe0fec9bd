"""Sample collection: pools fill and close, single tubes take one, corrections before the
handover only, walk-ins, identity search, and scoping to the sampler's own site."""

from __future__ import annotations

from typing import Any

import pytest

from covidhub.audit.models import AuditEvent
from covidhub.core.errors import InvalidInput, NotFound
from covidhub.people.personal_qr import personal_qr_text
from covidhub.testing import collection, registration, results
from covidhub.testing.errors import AppointmentUsed, HandedOver, ScanNotRecognised, TubeTaken
from covidhub.testing.models import Appointment, Sample, Shipment, Slot, Tube

pytestmark = pytest.mark.django_db


def test_person_then_tube_for_single_tubes(
    make_person: Any, sampler: Any, pcr_session: Any
) -> None:
    session = pcr_session()
    a, b = make_person(full_name="A Một"), make_person(full_name="B Hai")
    assert collection.scan_handle(
        actor=sampler, session=session, text=personal_qr_text(a)
    ).kind == ("person_waiting")
    assert (
        collection.scan_handle(actor=sampler, session=session, text="T0001").kind == "sample_added"
    )
    assert collection.scan_handle(
        actor=sampler, session=session, text=personal_qr_text(b)
    ).kind == ("person_waiting")
    collection.scan_handle(actor=sampler, session=session, text="T0002")
    assert list(Tube.objects.order_by("barcode").values_list("member_count", "status")) == [
        (1, "closed"),
        (1, "closed"),
    ]


def test_pool_takes_people_until_full_then_waits_for_a_new_tube(
    make_person: Any, sampler: Any, pcr_session: Any
) -> None:
    session = pcr_session(pool_size=2)
    collection.scan_handle(actor=sampler, session=session, text="POOL0009")
    people = [make_person(full_name=f"Người {c}") for c in "ABC"]
    kinds = [
        collection.scan_handle(actor=sampler, session=session, text=personal_qr_text(p)).kind
        for p in people
    ]
    assert kinds == ["sample_added", "sample_added", "person_waiting"]
    collection.scan_handle(actor=sampler, session=session, text="POOL0010")
    assert Tube.objects.get(barcode="POOL0010").member_count == 1


def test_appointment_used_once_and_bad_scans_refused(
    citizen: Any, citizen_person: Any, slot: Slot, sampler: Any, pcr_session: Any
) -> None:
    appointment = registration.appointment_book(actor=citizen, person=citizen_person, slot=slot)
    session = pcr_session(pool_size=5)
    collection.scan_handle(actor=sampler, session=session, text="POOL0001")
    collection.scan_handle(actor=sampler, session=session, text=appointment.qr_text)
    with pytest.raises(AppointmentUsed):
        collection.scan_handle(actor=sampler, session=session, text=appointment.qr_text)
    with pytest.raises(ScanNotRecognised):
        collection.scan_handle(actor=sampler, session=session, text="!!")
    other = pcr_session()
    with pytest.raises(TubeTaken):
        collection.scan_handle(actor=sampler, session=other, text="POOL0001")


def test_corrections_until_handover_with_reason_audited(
    make_person: Any, sampler: Any, pcr_session: Any, lab: Any
) -> None:
    session = pcr_session(pool_size=3)
    collection.scan_handle(actor=sampler, session=session, text="AAA0001")
    wrong = make_person(full_name="Nhầm Người")
    out = collection.person_to_tube(actor=sampler, session=session, person=wrong)
    assert out.sample is not None
    with pytest.raises(InvalidInput):
        collection.sample_remove(actor=sampler, sample=out.sample, reason=" ")
    collection.sample_remove(actor=sampler, sample=out.sample, reason="Wrong person scanned")
    assert Tube.objects.get(barcode="AAA0001").member_count == 0
    event = AuditEvent.objects.get(action="testing.sample.removed")
    assert event.person_uuid == wrong.uuid and event.details["reason"] == "Wrong person scanned"
    right = make_person(full_name="Đúng Người")
    placed = collection.person_to_tube(actor=sampler, session=session, person=right).sample
    collection.scan_handle(actor=sampler, session=session, text="BBB0002")
    assert placed is not None
    collection.sample_move(actor=sampler, sample=placed, barcode="bbb0002", reason="Wrong tube")
    assert Sample.objects.get(pk=placed.pk).tube.barcode == "BBB0002"
    collection.shipment_create(actor=sampler, session=session, lab=lab)
    with pytest.raises(HandedOver):
        collection.sample_remove(actor=sampler, sample=Sample.objects.get(pk=placed.pk), reason="x")


def test_walk_in_and_find_by_identity(sampler: Any, pcr_session: Any, area_tree: Any) -> None:
    session = pcr_session()
    with pytest.raises(InvalidInput):
        collection.walk_in_register(actor=sampler, session=session, raw={"full_name": ""})
    out = collection.walk_in_register(
        actor=sampler,
        session=session,
        raw={
            "full_name": "Khách Vãng Lai",
            "birth": "1970",
            "sex": "F",
            "commune": area_tree["commune"].code,
            "id_type": "cccd",
            "id_number": "030170000123",
        },
    )
    assert out.kind == "person_waiting"
    found = collection.person_find_by_identity(
        actor=sampler, session=session, id_number="030170000123"
    )
    assert found is not None and found.full_name == "Khách Vãng Lai"
    assert AuditEvent.objects.filter(action="testing.person.found_by_identity").exists()


def test_handover_and_receipt_report_missing_and_unexpected(
    make_person: Any, sampler: Any, technician: Any, pcr_session: Any, lab: Any
) -> None:
    from covidhub.notifications.models import Message

    session = pcr_session()
    for n in range(3):
        collection.scan_handle(actor=sampler, session=session, text=f"TB{n:04d}")
        collection.person_to_tube(
            actor=sampler, session=session, person=make_person(full_name=f"Người {'ABC'[n]}")
        )
    shipment = collection.shipment_create(actor=sampler, session=session, lab=lab)
    results.shipment_receive(
        actor=technician, shipment=shipment, barcodes=["TB0000", "TB0001", "XX9999"]
    )
    shipment = Shipment.objects.get()
    assert shipment.missing_barcodes == ["TB0002"] and shipment.unexpected_barcodes == ["XX9999"]
    assert Tube.objects.get(barcode="TB0002").status == "missing"
    assert (
        Message.objects.filter(user=sampler).exists()
        and Message.objects.filter(user=technician).exists()
    )
    results.tube_receive(actor=technician, lab=lab, barcode="TB0002")
    assert Tube.objects.get(barcode="TB0002").status == "received"


def test_scan_through_the_api_and_another_sites_sampler_gets_404(
    make_person: Any, sampler: Any, far_sampler: Any, pcr_session: Any, login: Any
) -> None:
    session = pcr_session(pool_size=3)
    client = login(sampler)
    url = f"/api/v1/testing/sessions/{session.uuid}/scan"
    assert (
        client.post(url, {"value": "API00001"}, content_type="application/json").json()["kind"]
        == "tube_opened"
    )
    person = make_person(full_name="Qua API")
    body = client.post(
        url, {"value": personal_qr_text(person)}, content_type="application/json"
    ).json()
    assert body["kind"] == "sample_added" and body["tube"]["member_count"] == 1
    assert (
        login(far_sampler)
        .post(url, {"value": "X0000001"}, content_type="application/json")
        .status_code
        == 404
    )
    assert login(far_sampler).get(f"/staff/testing/sessions/{session.uuid}/").status_code == 404
    page = client.get(f"/staff/testing/sessions/{session.uuid}/")
    assert page.status_code == 200 and "Qua API" in page.content.decode()
    found = client.post(
        f"/api/v1/testing/sessions/{session.uuid}/find",
        {"id_number": "000000000"},
        content_type="application/json",
    )
    assert found.status_code == 404


def test_slot_capacity_cancel_and_move(
    citizen: Any, make_person: Any, slot: Slot, site: Any
) -> None:
    import datetime

    from covidhub.testing.errors import AlreadyRegistered, SlotFull

    people = [
        make_person(managed_by=citizen, relationship="child", full_name=f"Con {c}") for c in "ABCD"
    ]
    booked = [registration.appointment_book(actor=citizen, person=p, slot=slot) for p in people[:3]]
    with pytest.raises(SlotFull):
        registration.appointment_book(actor=citizen, person=people[3], slot=slot)
    with pytest.raises(AlreadyRegistered):
        registration.appointment_book(actor=citizen, person=people[0], slot=slot)
    registration.appointment_cancel(actor=citizen, appointment=booked[0])
    registration.appointment_book(actor=citizen, person=people[3], slot=slot)
    other = Slot.objects.create(
        site=site,
        starts_at=slot.starts_at + datetime.timedelta(days=1),
        ends_at=slot.ends_at + datetime.timedelta(days=1),
        capacity=1,
    )
    registration.appointment_move(actor=citizen, appointment=booked[1], slot=other)
    slot.refresh_from_db()
    other.refresh_from_db()
    assert (slot.booked, other.booked) == (2, 1)
    assert Appointment.objects.get(pk=booked[1].pk).slot == other


def test_round_registration_only_in_its_area(
    citizen: Any,
    citizen_person: Any,
    make_person: Any,
    commune_officer: Any,
    site: Any,
    area_tree: Any,
) -> None:
    import datetime

    from django.utils import timezone

    from covidhub.testing.errors import NotEligible

    today = timezone.localdate()
    testing_round = registration.round_create(
        actor=commune_officer,
        name="Đợt 1",
        area=area_tree["commune"],
        sites=[site],
        starts_on=today,
        ends_on=today + datetime.timedelta(days=2),
        test_type="pcr",
        pool_size=10,
    )
    registration.appointment_book(actor=citizen, person=citizen_person, testing_round=testing_round)
    far = make_person(
        managed_by=citizen,
        relationship="parent",
        commune=area_tree["far_commune"],
        full_name="Ông Xa",
    )
    with pytest.raises(NotEligible):
        registration.appointment_book(actor=citizen, person=far, testing_round=testing_round)
    with pytest.raises(NotFound):
        registration.round_create(
            actor=commune_officer,
            name="X",
            area=area_tree["far_commune"],
            sites=[site],
            starts_on=today,
            ends_on=today,
            test_type="pcr",
            pool_size=5,
        )


def test_a_tube_dropped_at_the_same_moment_is_a_conflict_not_an_error(
    make_person: Any, sampler: Any, pcr_session: Any
) -> None:
    from covidhub.testing.errors import TubeNotOpen

    session = pcr_session(pool_size=3)
    collection.scan_handle(actor=sampler, session=session, text="GONE0001")
    tube = Tube.objects.get(barcode="GONE0001")
    collection.scan_handle(actor=sampler, session=session, text="NEXT0001")  # drops it, empty
    with pytest.raises(TubeNotOpen):
        collection.sample_collect(
            actor=sampler, session=session, tube=tube, person=make_person(full_name="Chậm")
        )


def _statements(queries: list[dict[str, str]]) -> list[str]:
    """The capture as "SELECT table" lines (the accounts' own reads left out)."""
    import re

    out = []
    for query in queries:
        sql = query["sql"]
        verb = sql.split(" ", 1)[0]
        table = re.match(r'SELECT "(\w+)"\.', sql) or re.search(
            r'(?:FROM|INTO|UPDATE) "(\w+)"', sql
        )
        if verb in ("SAVEPOINT", "RELEASE"):
            out.append(verb)
        elif table and not table[1].startswith("accounts_"):
            out.append(f"{verb} {table[1]}")
    return out


def test_a_scan_takes_few_queries(make_person: Any, sampler: Any, pcr_session: Any) -> None:
    """The hot path of a testing round: a tube, then people's QR codes into it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from covidhub.testing import selectors

    session = pcr_session(pool_size=5)
    collection.scan_handle(actor=sampler, session=session, text="COST0001")
    texts = [personal_qr_text(make_person(full_name=f"Người {c}")) for c in "AB"]

    def scan(text: str) -> list[str]:
        actor = type(sampler).objects.get(pk=sampler.pk)  # a new request: nothing known
        with CaptureQueriesContext(connection) as captured:
            found = selectors.session_get_for_actor(
                actor=actor, session_uuid=session.uuid, related=False
            )
            collection.scan_handle(actor=actor, session=found, text=text)
        return _statements(captured.captured_queries)

    # The site is checked with the session; the open tube is read and locked at once,
    # with whether the person is already in it; on PostgreSQL the sample, the tube's
    # count and the audit row are one statement (`testing.statements`).
    writes = (
        ["WITH testing_sample"]
        if connection.vendor == "postgresql"
        else ["INSERT testing_sample", "UPDATE testing_tube", "INSERT audit_auditevent"]
    )
    assert scan(texts[0]) == [
        "SELECT testing_samplingsession",
        "SAVEPOINT",  # the test's transaction around the scan's
        "SELECT people_person",
        "SELECT testing_appointment",
        # The scanning account's hourly budget of people (covidhub.audit.alerts).
        "SELECT audit_stafflookup",
        "INSERT audit_stafflookup",
        "SELECT testing_tube",  # with "is the person already in it?"
        *writes,
        "RELEASE",
    ]
    # A new tube: no savepoint of its own inside the scan.
    assert scan("COST0002") == [
        "SELECT testing_samplingsession",
        "SAVEPOINT",
        "SELECT testing_tube",
        "SELECT testing_tube",
        "UPDATE testing_tube",
        "INSERT testing_tube",
        "INSERT audit_auditevent",
        "SELECT testing_samplingsession",
        "RELEASE",
    ]


def test_the_sample_statement_writes_what_the_orm_path_writes(
    citizen: Any,
    citizen_person: Any,
    slot: Slot,
    make_person: Any,
    sampler: Any,
    pcr_session: Any,
    monkeypatch: Any,
) -> None:
    """On PostgreSQL one statement writes the sample, the tube's count (and closing) and
    the appointment's and audit rows; the ORM path writes the same (on SQLite both sides
    of the comparison are the ORM path)."""
    appointment = registration.appointment_book(actor=citizen, person=citizen_person, slot=slot)
    session = pcr_session(pool_size=2)
    collection.scan_handle(actor=sampler, session=session, text="SAME0001")
    fast = collection.scan_handle(actor=sampler, session=session, text=appointment.qr_text)
    other_session = pcr_session(pool_size=2)
    collection.scan_handle(actor=sampler, session=other_session, text="SAME0002")
    monkeypatch.setattr(collection, "single_statement_supported", lambda: False)
    orm = collection.person_to_tube(
        actor=sampler, session=other_session, person=make_person(full_name="Phạm Văn Tư")
    )
    assert fast.sample is not None and orm.sample is not None
    assert fast.sample.pk is not None and not fast.sample._state.adding
    rows = {s.pk: s for s in Sample.objects.all()}
    for field in ("status", "collected_by_id", "removed_reason"):
        assert getattr(rows[fast.sample.pk], field) == getattr(rows[orm.sample.pk], field)
    assert rows[fast.sample.pk].appointment_id == appointment.pk
    assert rows[fast.sample.pk].collected_at is not None
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.COLLECTED
    tubes = {t.barcode: t for t in Tube.objects.all()}
    assert (tubes["SAME0001"].member_count, tubes["SAME0001"].status) == (1, "open")
    assert (tubes["SAME0002"].member_count, tubes["SAME0002"].status) == (1, "open")
    events = {e.object_id: e for e in AuditEvent.objects.filter(action="testing.sample.collected")}
    fast_event, orm_event = events[str(fast.sample.uuid)], events[str(orm.sample.uuid)]
    for field in ("actor_id", "actor_role", "object_type", "request_id"):
        assert getattr(fast_event, field) == getattr(orm_event, field), field
    assert fast_event.person_uuid == citizen_person.uuid
    assert fast_event.details == {"tube": str(tubes["SAME0001"].uuid)}
    assert orm_event.details == {"tube": str(tubes["SAME0002"].uuid)}
    # The swab that fills a pool closes its tube, on both paths.
    monkeypatch.undo()
    collection.person_to_tube(
        actor=sampler, session=session, person=make_person(full_name="Lê Thị Năm")
    )
    monkeypatch.setattr(collection, "single_statement_supported", lambda: False)
    collection.person_to_tube(
        actor=sampler, session=other_session, person=make_person(full_name="Đào Văn Sáu")
    )
    for barcode in ("SAME0001", "SAME0002"):
        tube = Tube.objects.get(barcode=barcode)
        assert (tube.member_count, tube.status) == (2, "closed") and tube.closed_at is not None
    # A person already in the tube is refused on both paths and nothing is written.
    before = (Sample.objects.count(), AuditEvent.objects.count())
    third = pcr_session(pool_size=3)
    collection.scan_handle(actor=sampler, session=third, text="SAME0003")
    person = make_person(full_name="Hồ Thị Bảy")
    collection.person_to_tube(actor=sampler, session=third, person=person)
    from django.db import transaction

    from covidhub.testing.errors import AlreadyInTube

    for single in (True, False):
        monkeypatch.setattr(collection, "single_statement_supported", lambda s=single: s)
        tube = Tube.objects.get(barcode="SAME0003")
        # The refusal ends the scan's transaction: a savepoint stands in for the request's.
        with pytest.raises(AlreadyInTube), transaction.atomic():
            collection.sample_collect(actor=sampler, session=third, tube=tube, person=person)
    assert Sample.objects.count() == before[0] + 1
    assert Tube.objects.get(barcode="SAME0003").member_count == 1


def _walk_in(number: str, name: str, birth: str, commune: Any) -> dict[str, Any]:
    return {
        "full_name": name,
        "birth": birth,
        "sex": "F",
        "commune": commune.code,
        "id_type": "cccd",
        "id_number": number,
    }


def test_a_walk_in_with_a_held_number_does_not_say_it_is_registered(
    make_person: Any, sampler: Any, pcr_session: Any, area_tree: Any, login: Any
) -> None:
    """Issue 16: a walk-in with a CCCD held elsewhere answered `identity_taken` ("already
    registered"), confirming the number exists. Now: the holder named right is that person,
    placed unchanged; anyone else gets the import's neutral wording, and nothing changes."""
    from covidhub.people.models import Person

    holder = make_person(
        full_name="Trần Thị Giữ Số",
        birth="02/02/1990",
        sex="F",
        commune=area_tree["neighbour_commune"],
        id_type="cccd",
        id_number="030190000456",
    )
    session = pcr_session()
    url = f"/api/v1/testing/sessions/{session.uuid}/walk-ins"
    client = login(sampler)
    people = Person.objects.count()
    other = _walk_in("030190000456", "Người Khác", "1990", area_tree["commune"])
    response = client.post(url, other, content_type="application/json")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "identity_unusable"
    text = response.content.decode()
    assert "registered" not in text and "Trần" not in text and "neighbour" not in text
    assert Person.objects.count() == people
    assert AuditEvent.objects.filter(action="testing.walk_in.identity_refused").exists()
    # The same words as for a number whose holder's birth differs: no more is told.
    wrong_birth = _walk_in("030190000456", "Trần Thị Giữ Số", "01/01/1990", area_tree["commune"])
    again = client.post(url, wrong_birth, content_type="application/json")
    assert again.status_code == 422 and again.json()["message"] == body["message"]
    # The holder, named right, came without booking: placed, their record unchanged.
    same = _walk_in("030190000456", "Tran Thi Giu So", "02/02/1990", area_tree["commune"])
    placed = client.post(url, same, content_type="application/json")
    assert placed.status_code == 201
    assert Person.objects.count() == people
    holder.refresh_from_db()
    assert holder.full_name == "Trần Thị Giữ Số"
    assert holder.commune_id == area_tree["neighbour_commune"].pk
    assert AuditEvent.objects.filter(
        action="testing.walk_in.matched", person_uuid=holder.uuid
    ).exists()
