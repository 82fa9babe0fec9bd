"""Delivery: the citizen's results, lookup by code and date of birth, the PDF and its QR,
and amendments with a second technician's approval."""

from __future__ import annotations

from typing import Any

import pytest

from covidhub.audit.models import AuditEvent
from covidhub.core.errors import RateLimited
from covidhub.core.testing import run_queued_tasks
from covidhub.notifications.models import Message
from covidhub.people.personal_qr import personal_qr_text
from covidhub.testing import collection, registration, results, selectors
from covidhub.testing.codes import appointment_code_display
from covidhub.testing.document import token_read, verification_token
from covidhub.testing.errors import AmendmentSelfApproval
from covidhub.testing.models import Appointment, CaseReport, Result, Tube

pytestmark = pytest.mark.django_db


@pytest.fixture
def released(
    citizen: Any,
    citizen_person: Any,
    slot: Any,
    sampler: Any,
    technician: Any,
    lab: Any,
    pcr_session: Any,
    django_capture_on_commit_callbacks: Any,
) -> Result:
    appointment = registration.appointment_book(actor=citizen, person=citizen_person, slot=slot)
    session = pcr_session()
    collection.scan_handle(
        actor=sampler, session=session, text=appointment_code_display(appointment.code)
    )
    collection.scan_handle(actor=sampler, session=session, text="SOLO0001")
    shipment = collection.shipment_create(actor=sampler, session=session, lab=lab)
    results.shipment_receive(actor=technician, shipment=shipment, barcodes=["SOLO0001"])
    with django_capture_on_commit_callbacks(execute=True):
        results.tube_result_record(actor=technician, lab=lab, barcode="SOLO0001", value="negative")
    run_queued_tasks()
    return Result.objects.get()


def test_lookup_by_code_and_birth_and_same_answer_for_wrong_code_or_birth(
    released: Result, client: Any
) -> None:
    appointment = Appointment.objects.get()
    code = appointment_code_display(appointment.code)
    ok = client.post(
        "/api/v1/testing/lookup",
        {"code": code.lower(), "birth": "15/03/1985"},
        content_type="application/json",
    )
    assert ok.status_code == 200, ok.content
    assert ok.json()["results"][0]["outcome"] == "negative"
    assert "Nguyễn" not in ok.content.decode()
    wrong_birth = client.post(
        "/api/v1/testing/lookup",
        {"code": code, "birth": "16/03/1985"},
        content_type="application/json",
    )
    wrong_code = client.post(
        "/api/v1/testing/lookup",
        {"code": "ZZZZ-ZZZZ", "birth": "15/03/1985"},
        content_type="application/json",
    )
    assert wrong_birth.status_code == wrong_code.status_code == 404
    assert wrong_birth.json() == wrong_code.json()


def test_lookup_is_rate_limited_per_code(released: Result) -> None:
    code = Appointment.objects.get().code
    for n in range(5):
        with pytest.raises(selectors.LookupFailed):
            selectors.result_lookup(code=code, birth="01/01/1990", client_address=f"10.0.0.{n}")
    with pytest.raises(RateLimited):
        selectors.result_lookup(code=code, birth="15/03/1985", client_address="10.0.0.99")


def test_lookup_page_offers_the_pdf(released: Result, client: Any) -> None:
    appointment = Appointment.objects.get()
    page = client.post("/testing/lookup/", {"code": appointment.code, "birth": "15/03/1985"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "/testing/lookup/pdf/" in text
    link = text.split('href="/testing/lookup/pdf/')[1].split('"')[0]
    pdf = client.get(f"/testing/lookup/pdf/{link}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client.get("/testing/lookup/pdf/forged/").status_code == 404


@pytest.mark.parametrize(
    ("code", "birth"),
    [("WRONG-CODE", "15/03/1985"), (None, "1985"), (None, "01/01/1990")],
)
def test_failed_lookup_answers_on_the_same_form_keeping_what_was_typed(
    released: Result, client: Any, code: str | None, birth: str
) -> None:
    code = code or Appointment.objects.get().code
    page = client.post("/testing/lookup/", {"code": code, "birth": birth})
    assert page.status_code == 200  # not the bare "page does not exist"
    text = page.content.decode()
    assert str(selectors.LookupFailed.default_message) in text
    assert f'value="{code}"' in text and f'value="{birth}"' in text
    assert "/testing/lookup/pdf/" not in text


def test_citizen_sees_household_results_and_downloads_the_document(
    released: Result, citizen: Any, login: Any, make_citizen: Any
) -> None:
    client = login(citizen)
    assert "Âm tính" in client.get("/testing/results/").content.decode() or "Negative" in (
        client.get("/testing/results/").content.decode()
    )
    pdf = client.get(f"/testing/results/{released.uuid}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    api = client.get("/api/v1/testing/results")
    assert api.status_code == 200 and api.json()["items"][0]["outcome"] == "negative"
    stranger = login(make_citizen("+84912999999", full_name="Người Lạ"))
    assert stranger.get(f"/testing/results/{released.uuid}/pdf/").status_code == 404
    assert stranger.get("/api/v1/testing/results").json()["items"] == []


def _api_time(value: Any) -> str:
    from ninja.responses import NinjaJSONEncoder

    return str(NinjaJSONEncoder().default(value))


def test_results_api_rows_show_the_result_as_the_models_do(
    released: Result, citizen: Any, login: Any
) -> None:
    Result.objects.filter(pk=released.pk).update(version=2)
    result = Result.objects.select_related("person", "site").get()
    assert login(citizen).get("/api/v1/testing/results").json()["items"] == [
        {
            "uuid": str(result.uuid),
            "person_uuid": str(result.person.uuid),
            "person_name": result.person.full_name,
            "outcome": result.outcome,
            "outcome_label": str(result.get_outcome_display()),
            "test_type": result.test_type,
            "pooled": result.pooled,
            "collected_at": _api_time(result.collected_at),
            "released_at": _api_time(result.released_at),
            "amended": True,
            "site_name": result.site.name,
        }
    ]


def test_lookup_api_shows_the_result_as_the_models_do(released: Result, client: Any) -> None:
    appointment = Appointment.objects.get()
    body = client.post(
        "/api/v1/testing/lookup",
        {"code": appointment.code, "birth": "1985"},
        content_type="application/json",
    )
    assert body.status_code == 404  # the full date of birth is known: the year is not enough
    body = client.post(
        "/api/v1/testing/lookup",
        {"code": appointment.code, "birth": "1985-03-15"},
        content_type="application/json",
    ).json()
    assert body == {
        "masked_name": "N***** V** T**",
        "appointment_status": "collected",
        "results": [
            {
                "uuid": str(released.uuid),
                "outcome": "negative",
                "outcome_label": str(released.get_outcome_display()),
                "test_type": released.test_type,
                "collected_at": _api_time(released.collected_at),
                "released_at": _api_time(released.released_at),
                "amended": False,
            }
        ],
    }


def test_lookup_of_an_appointment_without_result_yet(
    citizen: Any, citizen_person: Any, slot: Any, client: Any
) -> None:
    appointment = registration.appointment_book(actor=citizen, person=citizen_person, slot=slot)
    found = selectors.result_lookup(
        code=appointment.code, birth="15/03/1985", client_address="10.0.0.1"
    )
    assert (found.person_name, found.appointment_status, found.results) == (
        citizen_person.full_name,
        "booked",
        [],
    )
    with pytest.raises(selectors.LookupFailed):
        selectors.result_lookup(code="ZZZZ-ZZZZ", birth="15/03/1985", client_address="10.0.0.1")


def test_verification_shows_only_validity_type_date_and_masked_name(
    released: Result, client: Any
) -> None:
    token = verification_token(released)
    page = client.get(f"/testing/verify/{token}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "N***** V** T**" in text and "Nguyễn Văn Thử" not in text
    api = client.get(f"/api/v1/testing/verify/{token}").json()
    assert api["valid"] is True and api["outcome"] == "negative"
    forged = client.get(f"/api/v1/testing/verify/{token[:-2]}xx").json()
    assert forged == {
        "valid": False,
        "status": "not_genuine",
        "outcome": "",
        "test_type": "",
        "collected_on": None,
        "masked_name": "",
    }
    assert token_read("garbage") is None


def test_the_result_check_page_is_never_stored(released: Result, client: Any) -> None:
    # Anonymous, yet it shows a test outcome and a masked name: no browser or proxy keeps it
    # (pen-test retest of finding 11: the page had no Cache-Control at all).
    page = client.get(f"/testing/verify/{verification_token(released)}/")
    assert page.status_code == 200 and "N***** V** T**" in page.content.decode()
    assert page["Cache-Control"] == "no-store, private"


def test_amendment_needs_a_second_technician_and_tells_the_person(
    released: Result,
    technician: Any,
    technician2: Any,
    citizen: Any,
    django_capture_on_commit_callbacks: Any,
    client: Any,
) -> None:
    tube_result = released.tube_result
    old_token = verification_token(released)
    amendment = results.amendment_request(
        actor=technician,
        tube_result=tube_result,
        new_value="positive",
        new_ct_value="",
        reason="Sample swap found on re-run",
    )
    with pytest.raises(AmendmentSelfApproval):
        results.amendment_decide(actor=technician, amendment=amendment, approve=True)
    with django_capture_on_commit_callbacks(execute=True):
        results.amendment_decide(actor=technician2, amendment=amendment, approve=True)
    run_queued_tasks()
    released.refresh_from_db()
    assert released.outcome == "positive" and released.version == 2
    assert CaseReport.objects.filter(result=released, withdrawn_at__isnull=True).exists()
    # The result's notice and its correction; home care's own notice of the order that the
    # positive result opened is told apart by its key (covidhub.homecare).
    messages = Message.objects.filter(user=citizen, channel="inapp").order_by("created_at")
    corrections = messages.exclude(dedupe_key__startswith="homecare:")
    assert corrections.count() == 2
    assert messages.filter(dedupe_key__startswith="homecare:order:").count() == 1
    assert AuditEvent.objects.filter(action="testing.result.amended").count() == 1
    # The old document's QR now says it was superseded.
    assert client.get(f"/api/v1/testing/verify/{old_token}").json()["status"] == "superseded"


def test_rapid_result_on_the_spot(
    make_person: Any, sampler: Any, pcr_session: Any, django_capture_on_commit_callbacks: Any
) -> None:
    session = pcr_session(test_type="rapid", pool_size=5)
    assert session.pool_size == 1
    person = make_person(full_name="Trần Nhanh")
    collection.scan_handle(actor=sampler, session=session, text=personal_qr_text(person))
    out = collection.scan_handle(actor=sampler, session=session, text="RAPID001")
    assert out.kind == "sample_added"
    tube = Tube.objects.get(barcode="RAPID001")
    with django_capture_on_commit_callbacks(execute=True):
        results.rapid_result_record(actor=sampler, tube=tube, value="negative")
    assert Result.objects.get().test_type == "rapid"
