"""Importing an instrument export: every bad row reported; nothing or exactly the good
rows imported; the same file again changes nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from openpyxl import Workbook

from covidhub.core.errors import NotFound
from covidhub.core.spreadsheets import SpreadsheetRefused
from covidhub.testing import imports
from covidhub.testing.errors import ImportDecided
from covidhub.testing.models import ImportBatch, Result, Tube, TubeResult

pytestmark = pytest.mark.django_db


@pytest.fixture
def tubes(make_person: Any, collected_tube: Any) -> list[Tube]:
    a = collected_tube([make_person(full_name="An"), make_person(full_name="Bình")])
    b = collected_tube([make_person(full_name="Chi")])
    c = collected_tube([make_person(full_name="Dũng")])
    return [a, b, c]


def _csv(rows: list[str]) -> bytes:
    return ("\n".join(["Barcode,Result,Ct", *rows]) + "\n").encode()


def test_every_kind_of_bad_row_is_reported_with_its_number(
    tubes: list[Tube],
    technician: Any,
    lab: Any,
    other_lab: Any,
    sampler: Any,
    make_person: Any,
    collected_tube: Any,
) -> None:
    a, b, c = tubes
    foreign = collected_tube([make_person(full_name="Gia")], receive=False)
    Tube.objects.filter(pk=foreign.pk).update(lab=other_lab)
    content = _csv(
        [
            f"{a.barcode},negative,",
            f"{b.barcode},maybe,",
            f"{a.barcode},negative,",
            "NOPE0001,positive,20",
            f"{foreign.barcode},negative,",
            f'{c.barcode},Dương tính,"31,2"',
            f"{b.barcode},negative,99",
        ]
    )
    batch = imports.import_validate(actor=technician, lab=lab, file_name="run.csv", content=content)
    assert [row[0] for row in batch.good_rows] == [2, 7]
    assert [(row[0], row[2]) for row in batch.bad_rows] == [
        (3, "malformed"),
        (4, "duplicate_row"),
        (5, "unknown_tube"),
        (6, "unknown_tube"),  # another lab's tube reads as unknown
        (8, "malformed"),
    ]
    assert not TubeResult.objects.exists()


def test_import_nothing_or_exactly_the_good_rows_and_again_changes_nothing(
    tubes: list[Tube], technician: Any, lab: Any, django_capture_on_commit_callbacks: Any
) -> None:
    a, b, _c = tubes
    content = _csv([f"{a.barcode},negative,", "BAD,,", f"{b.barcode},positive,22.1"])
    first = imports.import_validate(actor=technician, lab=lab, file_name="r.csv", content=content)
    imports.import_commit(actor=technician, batch=first, import_good_rows=False)
    assert not TubeResult.objects.exists()
    with pytest.raises(ImportDecided):
        imports.import_commit(actor=technician, batch=first, import_good_rows=True)
    second = imports.import_validate(actor=technician, lab=lab, file_name="r.csv", content=content)
    with django_capture_on_commit_callbacks(execute=True):
        done = imports.import_commit(actor=technician, batch=second, import_good_rows=True)
    assert done.imported_count == 2
    assert Result.objects.count() == 3
    assert set(Result.objects.values_list("outcome", flat=True)) == {"negative", "positive"}
    again = imports.import_validate(actor=technician, lab=lab, file_name="r.csv", content=content)
    assert again.good_rows == []
    assert {row[2] for row in again.bad_rows} == {"already_recorded", "malformed"}
    imports.import_commit(actor=technician, batch=again, import_good_rows=True)
    assert TubeResult.objects.count() == 2 and Result.objects.count() == 3


def test_xlsx_is_read_like_csv(tubes: list[Tube], technician: Any, lab: Any) -> None:
    import io

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Mã ống", "Kết quả", "CT"])
    sheet.append([tubes[0].barcode, "Âm tính", None])
    sheet.append([tubes[1].barcode, "invalid", 35.5])
    buffer = io.BytesIO()
    workbook.save(buffer)
    batch = imports.import_validate(
        actor=technician, lab=lab, file_name="run.xlsx", content=buffer.getvalue()
    )
    assert [row[2] for row in batch.good_rows] == ["negative", "invalid"]


def test_unreadable_file_and_missing_columns_are_refused(technician: Any, lab: Any) -> None:
    with pytest.raises(SpreadsheetRefused):
        imports.import_validate(actor=technician, lab=lab, file_name="x.csv", content=b"")
    with pytest.raises(SpreadsheetRefused):
        imports.import_validate(actor=technician, lab=lab, file_name="x.csv", content=b"a,b\n1,2\n")
    assert not ImportBatch.objects.exists()


def test_another_labs_technician_cannot_import_or_see_the_import(
    tubes: list[Tube], technician: Any, other_technician: Any, lab: Any, login: Any
) -> None:
    with pytest.raises(NotFound):
        imports.import_validate(
            actor=other_technician, lab=lab, file_name="r.csv", content=_csv(["X,negative,"])
        )
    batch = imports.import_validate(
        actor=technician, lab=lab, file_name="r.csv", content=_csv([f"{tubes[0].barcode},neg,"])
    )
    response = login(other_technician).get(f"/api/v1/testing/imports/{batch.uuid}")
    assert response.status_code == 404
    page = login(other_technician).get(f"/staff/testing/imports/{batch.uuid}/")
    assert page.status_code == 404


def test_import_through_the_api(tubes: list[Tube], technician: Any, lab: Any, login: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = login(technician)
    upload = SimpleUploadedFile("r.csv", _csv([f"{tubes[0].barcode},negative,", "Q,?,"]))
    response = client.post(f"/api/v1/testing/labs/{lab.uuid}/imports", {"file": upload})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["good_count"] == 1
    assert body["bad_rows"][0]["row"] == 3 and body["bad_rows"][0]["reason"] == "malformed"
    committed = client.post(
        f"/api/v1/testing/imports/{body['uuid']}/commit",
        {"import_good_rows": True},
        content_type="application/json",
    )
    assert committed.status_code == 200 and committed.json()["imported_count"] == 1


# chunk=1: the file is an import job stored one tube per transaction (what a 50,000-row
# file does 2,000 at a time, on both databases) and every outcome below must be the same.
@pytest.mark.parametrize("chunk", [2000, 1])
def test_import_releases_every_person_once_with_audit_retests_cases_and_notices(
    make_person: Any,
    collected_tube: Any,
    technician: Any,
    lab: Any,
    commune_officer: Any,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
    chunk: int,
) -> None:
    settings.LAB_IMPORT_CHUNK_ROWS = chunk
    settings.LAB_IMPORT_JOB_ROWS = 0 if chunk == 1 else 2000
    from covidhub.audit.models import AuditEvent
    from covidhub.core.testing import run_queued_tasks
    from covidhub.notifications.models import Message
    from covidhub.testing.codes import appointment_code_display
    from covidhub.testing.models import Appointment, CaseReport
    from covidhub.testing.notify import results_notify_pending

    pool_negative = [
        make_person(full_name=f"Người Âm {name}", phone=f"09870000{n}0")
        for n, name in enumerate(["An", "Bình", "Chi"])
    ]
    pool_positive = [make_person(full_name="Dương Một", phone="0912000001")]
    pool_positive.append(make_person(full_name="Dương Hai"))
    alone_positive = make_person(full_name="Một Mình", email="mot@example.org")
    alone_invalid = make_person(full_name="Hỏng Mẫu")
    tubes = {
        "negative": collected_tube(pool_negative),
        "pool": collected_tube(pool_positive),
        "positive": collected_tube([alone_positive]),
        "invalid": collected_tube([alone_invalid]),
        "untouched": collected_tube([make_person(full_name="Chưa Có")]),
    }
    content = _csv(
        [
            f"{tubes['negative'].barcode},negative,",
            f"{tubes['pool'].barcode},positive,24.5",
            f"{tubes['positive'].barcode},positive,18",
            f"{tubes['invalid'].barcode},invalid,",
        ]
    )
    batch = imports.import_validate(actor=technician, lab=lab, file_name="r.csv", content=content)
    with django_capture_on_commit_callbacks(execute=True):
        done = imports.import_commit(actor=technician, batch=batch, import_good_rows=True)
        job = imports.import_job_of(done)
        assert (job is not None) == (chunk == 1)
        if job is not None:
            assert imports.lab_import_run(job_uuid=job.uuid).rows_done == 4
            done.refresh_from_db()
    assert done.imported_count == 4
    released = list(Result.objects.select_related("person"))
    people = [*pool_negative, *pool_positive, alone_positive, alone_invalid]
    assert sorted(r.person_id for r in released) == sorted(p.pk for p in people)
    outcomes = {r.person_id: r.outcome for r in released}
    assert {outcomes[p.pk] for p in pool_negative} == {"negative"}
    assert {outcomes[p.pk] for p in pool_positive} == {"pool_positive"}
    assert outcomes[alone_positive.pk] == "positive" and outcomes[alone_invalid.pk] == "invalid"
    assert all(r.pooled == (r.person in pool_negative + pool_positive) for r in released)
    assert {(r.commune_id, r.site_id) for r in released} == {
        (alone_positive.commune_id, tubes["pool"].site_id)
    }
    statuses = dict(Tube.objects.values_list("barcode", "status"))
    assert statuses[tubes["untouched"].barcode] == Tube.Status.RECEIVED
    assert [statuses[tubes[k].barcode] for k in ("negative", "pool", "positive", "invalid")] == [
        Tube.Status.RESULTED
    ] * 4
    assert Tube.objects.filter(status=Tube.Status.RESULTED, resulted_at__isnull=True).count() == 0
    cts = TubeResult.objects.values_list("ct_value", flat=True)
    assert sorted(ct for ct in cts if ct is not None) == [Decimal("18"), Decimal("24.5")]
    # An audit event per person's result, naming the person and the result.
    events = AuditEvent.objects.filter(action="testing.result.released")
    assert sorted((e.object_id, e.person_uuid) for e in events) == sorted(
        (str(r.uuid), r.person.uuid) for r in released
    )
    assert {e.actor_id for e in events} == {technician.pk}
    assert AuditEvent.objects.filter(action="testing.import.committed").count() == 1
    retests = Appointment.objects.filter(kind="retest", status="booked")
    assert sorted(a.person_id for a in retests) == sorted(
        p.pk for p in [*pool_positive, alone_invalid]
    )
    assert len({a.code for a in retests}) == 3
    assert [c.person for c in CaseReport.objects.all()] == [alone_positive]
    assert Message.objects.filter(user=commune_officer, channel="inapp").count() == 1
    # The notices: each person told once on each channel they have, after the commit.
    assert Result.objects.filter(notified_version=0).count() == len(people)
    run_queued_tasks()
    assert not Result.objects.filter(notified_version=0).exists()
    sms = Message.objects.filter(channel="sms")
    assert sorted(m.to for m in sms) == sorted(p.phone for p in [*pool_negative, pool_positive[0]])
    assert Message.objects.filter(channel="email", to="mot@example.org").count() == 1
    retest_code = retests.get(person=pool_positive[0]).code
    assert appointment_code_display(retest_code) in sms.get(to=pool_positive[0].phone).body
    assert results_notify_pending() == 0
    before = Message.objects.count()
    Result.objects.update(notified_version=0)  # a retried chunk queues nothing twice
    assert results_notify_pending() == len(people)
    assert Message.objects.count() == before
    # The same file again: every row already recorded, nothing changes.
    again = imports.import_validate(actor=technician, lab=lab, file_name="r.csv", content=content)
    assert again.good_rows == [] and {row[2] for row in again.bad_rows} == {"already_recorded"}
    imports.import_commit(actor=technician, batch=again, import_good_rows=True)
    assert Result.objects.count() == len(people) and events.count() == len(people)


def test_a_tube_recorded_between_check_and_commit_is_left_out(
    tubes: list[Tube], technician: Any, lab: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from covidhub.testing import results

    a, b, _c = tubes
    content = _csv([f"{a.barcode},negative,", f"{b.barcode},negative,"])
    batch = imports.import_validate(actor=technician, lab=lab, file_name="r.csv", content=content)
    assert len(batch.good_rows) == 2
    results.tube_result_record(actor=technician, lab=lab, barcode=b.barcode, value="positive")
    with django_capture_on_commit_callbacks(execute=True):
        done = imports.import_commit(actor=technician, batch=batch, import_good_rows=True)
    assert done.imported_count == 1
    assert TubeResult.objects.get(tube=b).value == "positive"
    assert TubeResult.objects.get(tube=a).import_batch == done
    assert sorted(Result.objects.values_list("outcome", flat=True)) == [
        "negative",
        "negative",
        "positive",
    ]


def test_the_pentest_xlsx_is_refused_at_once_by_the_api_and_the_page(
    technician: Any, lab: Any, login: Any
) -> None:
    """1.6 KB whose <dimension> claims A1:XFD20000 with one far cell took 40 s and 2.7 GB."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from covidhub.core.testing import xlsx_crafted

    content = xlsx_crafted(
        rows=[["barcode", "result"], ["T1", "neg"]],
        dimension="A1:XFD20000",
        far_cells=("XFD20000",),
    )
    client = login(technician)
    response = client.post(
        f"/api/v1/testing/labs/{lab.uuid}/imports",
        {"file": SimpleUploadedFile("r.xlsx", content)},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "file_refused"
    assert "more than 64 columns" in body["message"]
    page = client.post(
        f"/staff/testing/labs/{lab.uuid}/action/",
        {"action": "import", "file": SimpleUploadedFile("r.xlsx", content)},
        follow=True,
    )
    assert page.status_code == 200
    assert "64" in page.content.decode()
    assert not ImportBatch.objects.exists()


def test_another_labs_tubes_are_row_errors_worded_like_unknown_tubes_and_nothing_changes(
    tubes: list[Tube], other_technician: Any, other_lab: Any, login: Any
) -> None:
    """Finding 3 (lab results): a file naming another laboratory's tubes changes none of
    them, and its rows read exactly like barcodes that exist nowhere."""
    content = _csv([f"{t.barcode},positive,20" for t in tubes] + ["NOPE0001,positive,20"])
    batch = imports.import_validate(
        actor=other_technician, lab=other_lab, file_name="r.csv", content=content
    )
    assert batch.good_rows == []
    reasons = {row[2] for row in batch.bad_rows}
    assert reasons == {"unknown_tube"}
    body = login(other_technician).get(f"/api/v1/testing/imports/{batch.uuid}").json()
    assert len({(r["reason"], r.get("message", "")) for r in body["bad_rows"]}) == 1
    imports.import_commit(actor=other_technician, batch=batch, import_good_rows=True)
    assert not TubeResult.objects.exists()
    assert set(Tube.objects.values_list("status", flat=True)) == {Tube.Status.RECEIVED}


def test_a_chunked_commit_is_decided_once_and_leaves_out_a_tube_resulted_meanwhile(
    tubes: list[Tube], technician: Any, lab: Any, settings: Any
) -> None:
    from covidhub.testing import results

    settings.LAB_IMPORT_JOB_ROWS = 0
    settings.LAB_IMPORT_CHUNK_ROWS = 1
    content = _csv([f"{t.barcode},negative," for t in tubes])
    batch = imports.import_validate(actor=technician, lab=lab, file_name="r.csv", content=content)
    results.tube_result_record(
        actor=technician, lab=lab, barcode=tubes[2].barcode, value="positive"
    )
    done = imports.import_commit(actor=technician, batch=batch, import_good_rows=True)
    assert done.status == ImportBatch.Status.COMMITTED and done.imported_count == 0
    job = imports.import_job_of(done)
    assert job is not None
    job = imports.lab_import_run(job_uuid=job.uuid)
    assert (job.status, job.rows_done, job.created_count) == ("done", 3, 2)
    done.refresh_from_db()
    assert done.imported_count == 2
    assert TubeResult.objects.count() == 3  # two imported, one recorded by hand
    with pytest.raises(ImportDecided):
        imports.import_commit(actor=technician, batch=batch, import_good_rows=True)
    assert TubeResult.objects.count() == 3
