"""The OpenAPI document is enough to build an app: a Python client generated from it (by
openapi-python-client, a dev dependency) does the seven citizen tasks of the letter
against a live server — sign in, make a health declaration, register for a test, receive
and look up its result, register for vaccination, follow it, and show the certificate.

The client is generated at test time into a temporary folder (a few seconds), never
committed, so that it is always the client of the document as it is now. The staff side
(the sampler, the laboratory, the vaccinator) is done by the same services their own
endpoints call: what is under test is what a citizen's app sees.
"""

from __future__ import annotations

import datetime
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

PHONE = "0912 345 111"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """`covidhub_client`, generated from /api/v1/openapi.json and imported."""
    import django

    django.setup()
    from covidhub.api.main import api

    folder = tmp_path_factory.mktemp("client")
    document = folder / "openapi.json"
    document.write_text(json.dumps(api.get_openapi_schema(), default=str), encoding="utf-8")
    generator = Path(sys.executable).with_name("openapi-python-client")
    result = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(document),
            "--meta",
            "none",
            "--output-path",
            str(folder / "covidhub_client"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # The generator warns about what it could not turn into code: the document has none.
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module("covidhub_client")
    finally:
        sys.path.remove(str(folder))
        for name in [n for n in sys.modules if n.split(".")[0] == "covidhub_client"]:
            del sys.modules[name]


def _call(generated: Any, module: str, **kwargs: Any) -> Any:
    """`covidhub_client.api.<tag>.<operation>.sync_detailed(**kwargs)`: the answer, with
    its status checked to be a success."""
    tag = module.split("_", 1)[0]
    operation = importlib.import_module(f"covidhub_client.api.{tag}.{module}")
    response = operation.sync_detailed(**kwargs)
    assert 200 <= response.status_code < 300, (module, response.status_code, response.content)
    return response.parsed


def _model(generated: Any, name: str, data: dict[str, Any]) -> Any:
    return getattr(importlib.import_module("covidhub_client.models"), name).from_dict(data)


@pytest.fixture
def province(transactional_db: None, area_tree: dict[str, Any], make_staff: Any) -> Any:
    """A sampling site with a slot and a laboratory; a vaccination site with an open
    session and a lot; their staff; a signing key for certificates."""
    from covidhub.certificates.keystore import signing_key_create_development
    from covidhub.testing.models import Lab, Site, Slot
    from covidhub.vaccination.models import (
        Campaign,
        LotAllocation,
        Session,
        VaccinationSite,
        Vaccine,
        VaccineLot,
    )

    importlib.import_module("covidhub.vaccination.migrations.0002_vaccines").forwards(
        django_apps(), None
    )
    commune, province_area = area_tree["commune"], area_tree["province"]
    site = Site.objects.create(name="Trạm Y tế Cẩm Thượng", commune=commune)
    start = timezone.now() + datetime.timedelta(hours=2)
    slot = Slot.objects.create(
        site=site, starts_at=start, ends_at=start + datetime.timedelta(hours=2), capacity=5
    )
    lab = Lab.objects.create(name="CDC Hải Dương", code="CDC", commune=commune)
    vaccine = Vaccine.objects.get(code="astrazeneca")
    vaccination_site = VaccinationSite.objects.create(name="TYT Cẩm Thượng", commune=commune)
    today = timezone.localdate()
    campaign = Campaign.objects.create(
        name="Đợt tiêm",
        area=province_area,
        area_path=province_area.path,
        vaccine=vaccine,
        priority_groups=[],
        starts_on=today - datetime.timedelta(days=30),
        ends_on=today + datetime.timedelta(days=30),
    )
    campaign.sites.add(vaccination_site)
    session = Session.objects.create(
        campaign=campaign,
        site=vaccination_site,
        date=today,
        starts_at=datetime.time(0, 0),
        ends_at=datetime.time(23, 59),
        capacity=10,
        self_booking=True,
    )
    lot = VaccineLot.objects.create(
        vaccine=vaccine,
        number="LOT0001",
        expiry_date=today + datetime.timedelta(days=120),
        doses_received=100,
        doses_allocated=100,
        store_area=province_area,
        store_path=province_area.path,
        received_on=today,
    )
    LotAllocation.objects.create(lot=lot, site=vaccination_site, doses_allocated=100)
    signing_key_create_development(
        actor=None, now=timezone.now() - datetime.timedelta(days=1), label="test DSC"
    )
    return {
        "district": area_tree["district"],
        "commune": commune,
        "site": site,
        "slot": slot,
        "lab": lab,
        "session": session,
        "lot": lot,
        "vaccination_site": vaccination_site,
        "sampler": make_staff("laymau", "sampler", unit_kind="site", unit_uuid=site.uuid),
        "technician": make_staff("ktv", "lab_technician", unit_kind="lab", unit_uuid=lab.uuid),
        "vaccinator": make_staff(
            "tiemchung",
            "vaccinator",
            unit_kind="vaccination_site",
            unit_uuid=vaccination_site.uuid,
        ),
    }


def django_apps() -> Any:
    from django.apps import apps

    return apps


def _sign_in(generated: Any, base_url: str) -> Any:
    from covidhub.notifications.models import Message
    from covidhub.notifications.sealing import message_text

    anonymous = generated.Client(base_url=base_url, raise_on_unexpected_status=True)
    _call(
        generated,
        "accounts_code_request",
        client=anonymous,
        body=_model(generated, "CodeRequestIn", {"phone": PHONE, "language": "vi"}),
    )
    text = Message.objects.filter(channel="sms").order_by("-id").first()
    assert text is not None
    # The code as the SMS gateway receives it (the stored text has it masked).
    code = re.search(r"\b(\d{6})\b", message_text(text)).group(1)  # type: ignore[union-attr]
    token = _call(
        generated,
        "accounts_code_verify",
        client=anonymous,
        body=_model(
            generated, "CodeVerifyIn", {"phone": PHONE, "code": code, "device_label": "test"}
        ),
    )
    return generated.AuthenticatedClient(
        base_url=base_url, token=token.token, raise_on_unexpected_status=True
    ), anonymous


def _test_result_released(province: dict[str, Any], appointment_uuid: Any) -> None:
    """The sampler takes the sample by the appointment's QR, ships it; the laboratory
    receives the tube and records a negative result (their endpoints' own services)."""
    from covidhub.testing import collection, results
    from covidhub.testing.models import Appointment

    sampler, technician = province["sampler"], province["technician"]
    appointment = Appointment.objects.get(uuid=appointment_uuid)
    session = collection.session_open(
        actor=sampler, site=province["site"], test_type="pcr", pool_size=1
    )
    collection.scan_handle(actor=sampler, session=session, text="TUBE00001")
    collection.scan_handle(actor=sampler, session=session, text=appointment.qr_text)
    shipment = collection.shipment_create(actor=sampler, session=session, lab=province["lab"])
    results.shipment_receive(actor=technician, shipment=shipment, barcodes=["TUBE00001"])
    results.tube_result_record(
        actor=technician, lab=province["lab"], barcode="TUBE00001", value="negative"
    )


def _dose_given(province: dict[str, Any], booking_uuid: Any) -> None:
    """The vaccinator's day: check-in, screening, the injection; then the certificate
    task the dose enqueues, run here."""
    from covidhub.certificates.tasks import certificate_issue_for_dose
    from covidhub.vaccination import services
    from covidhub.vaccination.models import Booking, Dose

    vaccinator = province["vaccinator"]
    booking = Booking.objects.get(uuid=booking_uuid)
    services.checkin_record(actor=vaccinator, site=province["vaccination_site"], text=booking.code)
    services.screening_record(
        actor=vaccinator,
        booking=Booking.objects.get(pk=booking.pk),
        answers={},
        temperature=36.6,
        outcome="vaccinate",
        notes="",
    )
    services.dose_record(
        actor=vaccinator,
        booking=Booking.objects.get(pk=booking.pk),
        lot_uuid=province["lot"].uuid,
        override_reason="",
    )
    certificate_issue_for_dose.call(Dose.objects.get(person=booking.person).pk)


@pytest.mark.django_db(transaction=True)
def test_the_seven_citizen_tasks_through_the_generated_client(
    generated: Any, live_server: Any, province: dict[str, Any]
) -> None:
    client, anonymous = _sign_in(generated, live_server.url)
    commune = province["commune"].code
    me = _call(
        generated,
        "people_self_create",
        client=client,
        body=_model(
            generated,
            "PersonIn",
            {
                "full_name": "Trần Thị Mai",
                "birth": "12/05/1990",
                "sex": "F",
                "commune": commune,
                "phone": PHONE,
                "address_line": "12 Phố Hàng Bè",
            },
        ),
    )
    household = _call(generated, "people_household", client=client)
    assert [p.uuid for p in household.items] == [me.uuid] and household.next_ is None

    # 1. A health declaration, from the answers the platform prefills.
    prefill = _call(generated, "declarations_prefill", client=client, person_uuid=me.uuid)
    declaration = _call(
        generated,
        "declarations_declaration_create",
        client=client,
        body=_model(
            generated,
            "DeclarationIn",
            {
                "person": str(me.uuid),
                "phone": prefill.phone,
                "commune": prefill.commune,
                "address_line": prefill.address_line,
                "travelled": False,
                "symptoms": ["cough"],
                "contact_case": False,
                "contact_outbreak_area": False,
                "contact_symptomatic": False,
                "consent": True,
            },
        ),
    )
    assert declaration.follow_up is True
    assert [
        d.uuid for d in _call(generated, "declarations_declaration_list", client=client).items
    ] == [declaration.uuid]

    # 2. Register for a test: the slots of the household's district, then a booking.
    slots = _call(generated, "testing_slots_list", client=client, area=province["district"].code)
    assert [s.uuid for s in slots.items] == [province["slot"].uuid]
    appointment = _call(
        generated,
        "testing_appointment_book",
        client=client,
        body=_model(
            generated,
            "BookIn",
            {"person_uuid": str(me.uuid), "slot_uuid": str(slots.items[0].uuid)},
        ),
    )
    assert appointment.status.value == "booked"

    # 3. Receive the result: the sample is taken, the laboratory releases it.
    _test_result_released(province, appointment.uuid)
    mine = _call(generated, "testing_my_results", client=client)
    assert [(r.person_uuid, r.outcome.value) for r in mine.items] == [(me.uuid, "negative")]

    # 4. Look up the result without signing in: the appointment code and date of birth.
    found = _call(
        generated,
        "testing_lookup",
        client=anonymous,
        body=_model(generated, "LookupIn", {"code": appointment.code, "birth": "12/05/1990"}),
    )
    assert [r.outcome.value for r in found.results] == ["negative"]

    # 5. Register for vaccination and book a session.
    groups = _call(generated, "vaccination_priority_groups", client=anonymous)
    _call(
        generated,
        "vaccination_me_register",
        client=client,
        body=_model(
            generated,
            "RegistrationIn",
            {"person_uuid": str(me.uuid), "priority_group": groups.items[-1].value},
        ),
    )
    sessions = _call(generated, "vaccination_sessions_open", client=client)
    booking = _call(
        generated,
        "vaccination_me_book",
        client=client,
        body=_model(
            generated,
            "BookingIn",
            {"person_uuid": str(me.uuid), "session": str(sessions.items[0].uuid)},
        ),
    )

    # 6. Follow the vaccination: the booking, then the dose given at the site.
    following = _call(generated, "vaccination_me", client=client).items[0]
    assert following.registered and [b.uuid for b in following.bookings] == [booking.uuid]
    _dose_given(province, booking.uuid)
    following = _call(generated, "vaccination_me", client=client).items[0]
    assert [d.dose_number for d in following.doses] == [1]

    # 7. The certificate: listed with the status card, then with its QR text.
    certificates = _call(generated, "certificates_my_certificates", client=client)
    (card,) = certificates.items
    assert card.person_uuid == me.uuid and card.status.colour.value in ("green", "yellow")
    (certificate,) = card.certificates
    detail = _call(
        generated,
        "certificates_certificate_detail",
        client=client,
        certificate_uuid=certificate.uuid,
    )
    assert detail.kind.value == "v" and detail.hc1.startswith("HC1:")
