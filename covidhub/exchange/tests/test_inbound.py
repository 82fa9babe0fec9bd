"""Doses given elsewhere imported as FHIR Immunizations: matched by identity number within
the importer's area, a row-by-row report in the spreadsheet imports' words, nothing
changed by a bad row, nothing created twice, audited; the page, its progress page and the
API for machine clients."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone, translation

from covidhub.audit.models import AuditEvent
from covidhub.core.errors import InvalidInput, NotFound
from covidhub.exchange import inbound
from covidhub.exchange.models import ExchangeRecord, InboundDose
from covidhub.fhir import codes
from covidhub.vaccination.models import Dose

SOURCE = "https://tiemchungcovid19.gov.vn/sid/immunization"
A_CCCD, B_CCCD, FAR_CCCD = "030085000101", "030085000102", "030085000103"


def _patient(ref: str, cccd: str) -> dict[str, Any]:
    return {
        "fullUrl": f"urn:uuid:{ref}",
        "resource": {
            "resourceType": "Patient",
            "identifier": [{"system": codes.SID_CCCD, "value": cccd}],
        },
    }


def _immunization(
    number: str, patient: str, *, day: datetime.date, code: tuple[str, str] | None = None
) -> dict[str, Any]:
    system, value = code or (codes.CVX, "208")
    return {
        "resource": {
            "resourceType": "Immunization",
            "identifier": [{"system": SOURCE, "value": number}],
            "status": "completed",
            "vaccineCode": {"coding": [{"system": system, "code": value}]},
            "patient": {"reference": f"urn:uuid:{patient}"},
            "occurrenceDateTime": f"{day.isoformat()}T09:30:00+07:00",
            "performer": [{"actor": {"display": "TYT xã Đại Đồng, Bắc Ninh"}}],
        }
    }


def _file(entries: list[dict[str, Any]]) -> bytes:
    return json.dumps(
        {"resourceType": "Bundle", "type": "collection", "entry": entries}, ensure_ascii=False
    ).encode()


@pytest.fixture
def people(make_person: Callable[..., Any], area_tree: dict[str, Any]) -> dict[str, Any]:
    return {
        "a": make_person(id_type="cccd", id_number=A_CCCD, full_name="Lê Văn Ân"),
        "b": make_person(id_type="cccd", id_number=B_CCCD, full_name="Lê Thị Bé"),
        "far": make_person(
            id_type="cccd", id_number=FAR_CCCD, commune=area_tree["neighbour_commune"]
        ),
    }


@pytest.fixture
def demo_file(vaccines: dict[str, Any]) -> bytes:
    today = timezone.localdate()
    first, second = today - datetime.timedelta(days=60), today - datetime.timedelta(days=30)
    pfizer = (codes.CS_DCC_PRODUCT, vaccines["pfizer"].product_code)
    return _file(
        [
            _patient("p-a", A_CCCD),
            _patient("p-b", B_CCCD),
            _patient("p-x", "030085000199"),  # nobody holds this number
            _patient("p-far", FAR_CCCD),
            _immunization("NVP-1", "p-a", day=first),  # 5: good (CVX)
            _immunization("NVP-2", "p-a", day=second, code=pfizer),  # 6: good (DCC product)
            {"resource": {"resourceType": "Observation", "status": "final"}},  # 7
            _immunization("NVP-4", "p-b", day=first, code=(codes.CVX, "999")),  # 8
            _immunization("NVP-5", "p-x", day=first),  # 9: no such person
            _immunization(  # 10: a day not yet come
                "NVP-6", "p-b", day=today + datetime.timedelta(days=3)
            ),
            _immunization("NVP-7", "p-far", day=first),  # 11: outside the area
            _immunization("NVP-8", "p-a", day=first),  # 12: the same dose as row 5
            _immunization("NVP-1", "p-b", day=first),  # 13: row 5's identifier again
        ]
    )


@pytest.mark.django_db
def test_a_bundle_is_imported_row_by_row_and_a_second_time_changes_nothing(
    endpoint: Any, people: dict[str, Any], demo_file: bytes, commune_officer: Any
) -> None:
    with translation.override("en"):
        job = inbound.immunizations_import(
            actor=commune_officer, filename="bac-ninh.json", content=demo_file, source_name="NVP"
        )
        report = inbound.inbound_report(job).as_dict()
    assert job.finished and report["applied"]
    assert (report["rows"], report["imported"], report["already"]) == (9, 2, 0)
    errors = {e["row"]: (e["field"], e["message"]) for e in report["errors"]}
    not_found = "No person with this identity number in your area."
    assert errors == {
        7: ("resourceType", "Only Immunization resources are imported (this row is Observation)."),
        8: ("vaccineCode", f"Unknown vaccine code: {codes.CVX}|999."),
        9: ("patient", not_found),
        10: ("occurrenceDateTime", "The date is in the future."),
        11: ("patient", not_found),  # the same words as a number nobody holds
        12: ("occurrenceDateTime", "A dose of this vaccine on this date is already recorded."),
        13: ("identifier", "The same Immunization is already in row 5."),
    }
    doses = Dose.objects.filter(person=people["a"]).order_by("sequence")
    assert [(d.dose_number, d.given_elsewhere) for d in doses] == [(1, True), (2, True)]
    assert doses[0].elsewhere_place == "TYT xã Đại Đồng, Bắc Ninh"
    assert not Dose.objects.exclude(person=people["a"]).exists()  # bad rows changed nothing
    assert set(InboundDose.objects.values_list("value", flat=True)) == {"NVP-1", "NVP-2"}
    # Audited: each dose (by vaccination's service and by the import), and the job.
    assert AuditEvent.objects.filter(action="vaccination.dose.recorded_elsewhere").count() == 2
    imported = AuditEvent.objects.filter(action="exchange.inbound.dose_imported")
    assert {e.person_uuid for e in imported} == {people["a"].uuid}
    assert AuditEvent.objects.filter(action="exchange.inbound.imported", actor=commune_officer)
    # Doses that came from the national side are not sent back to it.
    assert not ExchangeRecord.objects.exists()

    again = inbound.immunizations_import(
        actor=commune_officer, filename="bac-ninh.json", content=demo_file
    )
    second = inbound.inbound_report(again).as_dict()
    assert (second["imported"], second["already"]) == (0, 2)
    assert Dose.objects.count() == 2 and InboundDose.objects.count() == 2


@pytest.mark.django_db
def test_messages_are_translated(
    people: dict[str, Any], demo_file: bytes, commune_officer: Any
) -> None:
    with translation.override("vi"):
        job = inbound.immunizations_import(
            actor=commune_officer, filename="bac-ninh.json", content=demo_file
        )
    messages = {e["row"]: e["message"] for e in job.errors}
    assert messages[9] == "Không có người nào trong địa bàn của bạn mang số giấy tờ này."
    assert messages[10] == "Ngày này ở trong tương lai."


@pytest.mark.django_db
def test_ndjson_lines_bad_json_and_who_may_import(
    people: dict[str, Any], vaccines: dict[str, Any], commune_officer: Any, worker_user: Any
) -> None:
    day = timezone.localdate() - datetime.timedelta(days=10)
    good = {
        **_immunization("NVP-9", "x", day=day)["resource"],
        "patient": {"identifier": {"system": codes.SID_CCCD, "value": B_CCCD}},
    }
    lines = [json.dumps(good), "{not json", json.dumps({**good, "status": "not-done"})]
    with translation.override("en"):
        job = inbound.immunizations_import(
            actor=commune_officer, filename="export.ndjson", content="\n".join(lines).encode()
        )
        assert [(e["row"], e["field"]) for e in job.errors] == [(2, "resource"), (3, "status")]
        assert job.created_count == 1
        with pytest.raises(InvalidInput, match="not valid JSON"):
            inbound.immunizations_import(
                actor=commune_officer, filename="b.json", content=b'{"resourceType": "Bun'
            )
        with pytest.raises(InvalidInput, match="not a FHIR Bundle"):
            inbound.immunizations_import(
                actor=commune_officer, filename="b.json", content=b'{"resourceType": "Patient"}'
            )
    with pytest.raises(NotFound):  # a staff member without an officer's role
        inbound.immunizations_import(
            actor=worker_user, filename="e.ndjson", content=lines[0].encode()
        )


@pytest.mark.django_db
def test_the_page_its_progress_page_and_their_scope(
    people: dict[str, Any],
    demo_file: bytes,
    commune_officer: Any,
    neighbour_officer: Any,
    login: Callable[[Any], Client],
    settings: Any,
) -> None:
    client = login(commune_officer)
    assert client.get("/staff/exchange/import/").status_code == 200
    answer = client.post(
        "/staff/exchange/import/",
        {"file": SimpleUploadedFile("bac-ninh.json", demo_file), "source_name": "NVP"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert answer.status_code == 200
    text = answer.content.decode()
    assert "9 doses read: 2 imported, 0 already imported before, 7 with errors." in text
    assert "The same Immunization is already in row 5." in text

    # A long file goes to the worker, with a progress page that only its importer sees.
    settings.IMPORT_INLINE_ROWS = 0
    answer = client.post(
        "/staff/exchange/import/",
        {"file": SimpleUploadedFile("bac-ninh.json", demo_file)},
    )
    assert answer.status_code == 302
    page = answer["Location"]
    assert client.get(page).status_code == 200
    assert login(neighbour_officer).get(page).status_code == 404
    job_uuid = page.rstrip("/").rsplit("/", 1)[-1]
    inbound.immunizations_import_run(job_uuid=job_uuid)
    done = client.get(page, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "9 doses read: 0 imported, 2 already imported before, 7 with errors." in done
    assert Dose.objects.count() == 2


@pytest.mark.django_db
def test_a_machine_client_imports_with_the_vaccination_write_scope(
    people: dict[str, Any], demo_file: bytes, province_admin: Any, area_tree: dict[str, Any]
) -> None:
    from covidhub.clients import services as clients
    from covidhub.clients.tests.conftest import basic

    def api(access: dict[str, str]) -> Client:
        credentials = clients.client_register(
            actor=province_admin,
            name="Hệ thống " + " ".join(f"{k} {v}" for k, v in access.items()),
            kind="national",
            access=access,
            area=area_tree["commune"],
        )
        token = Client().post(
            "/oauth/token/",
            {"grant_type": "client_credentials"},
            HTTP_AUTHORIZATION=basic(credentials.client_id, credentials.client_secret),
        )
        assert token.status_code == 200, token.content
        return Client(HTTP_AUTHORIZATION=f"Bearer {token.json()['access_token']}")

    url = "/api/v1/exchange/inbound/immunizations"
    refused = api({"vaccination": "read"}).post(
        url, {"file": SimpleUploadedFile("f.json", demo_file)}
    )
    assert refused.status_code == 403
    assert not Dose.objects.exists()
    writer = api({"vaccination": "write"})
    answer = writer.post(url, {"file": SimpleUploadedFile("f.json", demo_file)})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["rows"], body["imported"], body["status"]) == (9, 2, "done")
    assert {e["row"] for e in body["errors"]} == {7, 8, 9, 10, 11, 12, 13}
    assert writer.get(f"/api/v1/exchange/inbound/jobs/{body['job']}").json()["imported"] == 2
    # The client's account is the actor of every audit row.
    assert AuditEvent.objects.filter(action="exchange.inbound.dose_imported").count() == 2
