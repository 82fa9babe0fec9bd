"""The world the access matrix probes: actors of every role and, for each placement
relative to them, one object of every kind that a route takes by id.

Placements (relative to the actors, who all work in Phường Cẩm Thượng or hold its units):
- ``own``: in the actors' commune, owned by the signed-in citizen, at their units;
- ``other_citizen``: same commune and units, owned by another citizen;
- ``neighbour``: the neighbouring commune of the same district, its own units;
- ``far``: a commune of another district, its own units;
- ``other_province``: a commune of a second served province (Hà Nội), its own units.

The deployment serves both provinces (settings.PROVINCES); a province's roles reach their
own province only, the national officer's reach both.

Every person gets a name and CCCD of their own, so that a response can be searched for
the bytes that identify them.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from django.utils import timezone

PLACEMENTS = ("own", "other_citizen", "neighbour", "far", "other_province")

# How far each actor reaches: the placements whose objects they may legitimately see.
REACH: dict[str, tuple[str, ...]] = {
    "citizen": ("own",),
    "commune": ("own", "other_citizen"),
    "district": ("own", "other_citizen", "neighbour"),
    "province": ("own", "other_citizen", "neighbour", "far"),
    "national": PLACEMENTS,
}

# Each role the matrix signs in as, and its reach.
ROLES: dict[str, str] = {
    "citizen": "citizen",
    "sampler": "commune",
    "lab_technician": "commune",
    "vaccinator": "commune",
    "site_manager": "commune",
    "agency_head": "commune",
    "commune_officer": "commune",
    "district_officer": "district",
    "province_officer": "province",
    "portal_editor": "province",
    "administrator": "province",
    "national_officer": "national",
}

_PEOPLE = {
    "own": ("Trần Thị Riêng Tư", "030185000101", "+84912000101"),
    "other_citizen": ("Lê Văn Người Khác", "030085000102", "+84912000102"),
    "neighbour": ("Phạm Thị Hàng Xóm", "030185000103", "+84912000103"),
    "far": ("Đỗ Văn Huyện Xa", "030085000104", "+84912000104"),
    "other_province": ("Vũ Thị Tỉnh Khác", "001185000105", "+84912000105"),
}
_COMMUNE = {
    "own": "commune",
    "other_citizen": "commune",
    "neighbour": "neighbour_commune",
    "far": "far_commune",
    "other_province": "other_province_commune",
}


@dataclass
class Target:
    """What a route is called with, and the bytes that must not leak when it is refused."""

    kwargs: dict[str, str]
    secrets: list[str] = field(default_factory=list)
    # Request body fields naming a second object built beside the first (same placement),
    # so that a served role gets past that object's look-up too: no `loose` entry needed.
    body: dict[str, Any] = field(default_factory=dict)


@dataclass
class Units:
    site: Any
    lab: Any
    vsite: Any
    agency: Any


@dataclass
class World:
    tree: dict[str, Any]
    citizen: Any
    actors: dict[str, Any]
    owners: dict[str, Any]
    people: dict[str, Any]
    units: dict[str, Units]
    cache: dict[tuple[str, str], Target] = field(default_factory=dict)

    def commune(self, placement: str) -> Any:
        return self.tree[_COMMUNE[placement]]

    def secrets(self, placement: str) -> list[str]:
        name, id_number, phone = _PEOPLE[placement]
        return [name, id_number, phone]


def world_build(*, tree: dict[str, Any], make_staff: Callable[..., Any]) -> World:
    from covidhub.accounts.models import User
    from covidhub.adoption.services import agency_create
    from covidhub.people.services import person_create
    from covidhub.people.validation import person_input_clean
    from covidhub.testing.models import Lab, Site
    from covidhub.vaccination.models import UNIT_KIND, VaccinationSite

    owners: dict[str, Any] = {}
    people: dict[str, Any] = {}
    for n, placement in enumerate(PLACEMENTS):
        name, id_number, phone = _PEOPLE[placement]
        owner = User(username=f"citizen-{placement}", phone=phone, kind=User.Kind.CITIZEN)
        owner.set_unusable_password()
        owner.save()
        owners[placement] = owner
        people[placement] = person_create(
            actor=None,
            data=person_input_clean(
                {
                    "full_name": name,
                    "birth": "15/03/1985",
                    "sex": "F" if n % 2 == 0 else "M",
                    "commune": tree[_COMMUNE[placement]],
                    "id_type": "cccd",
                    "id_number": id_number,
                    "phone": phone,
                }
            ),
            managed_by=owner,
            relationship="self",
        )
    units: dict[str, Units] = {}
    for key in ("commune", "neighbour_commune", "far_commune", "other_province_commune"):
        area = tree[key]
        units[key] = Units(
            site=Site.objects.create(name=f"Điểm lấy mẫu {area.code}", commune=area),
            lab=Lab.objects.create(
                name=f"Phòng xét nghiệm {area.code}", code=area.code, commune=area
            ),
            vsite=VaccinationSite.objects.create(name=f"Điểm tiêm {area.code}", commune=area),
            agency=agency_create(
                actor=None, name=f"UBND {area.code}", kind="commune_committee", area=area
            ),
        )
    own = units["commune"]
    actors = {
        "citizen": owners["own"],
        "sampler": make_staff("m-sampler", "sampler", unit_kind="site", unit_uuid=own.site.uuid),
        "lab_technician": make_staff(
            "m-lab", "lab_technician", unit_kind="lab", unit_uuid=own.lab.uuid
        ),
        "vaccinator": make_staff(
            "m-vaccinator", "vaccinator", unit_kind=UNIT_KIND, unit_uuid=own.vsite.uuid
        ),
        "site_manager": make_staff(
            "m-manager", "site_manager", unit_kind=UNIT_KIND, unit_uuid=own.vsite.uuid
        ),
        "agency_head": make_staff(
            "m-head", "agency_head", unit_kind="agency", unit_uuid=own.agency.uuid
        ),
        "commune_officer": make_staff("m-commune", "commune_officer", tree["commune"]),
        "district_officer": make_staff("m-district", "district_officer", tree["district"]),
        "province_officer": make_staff("m-province", "province_officer", tree["province"]),
        "portal_editor": make_staff("m-editor", "portal_editor", tree["province"]),
        "administrator": make_staff("m-admin", "administrator", tree["province"]),
        "national_officer": make_staff("m-national", "national_officer"),
    }
    return World(
        tree=tree,
        citizen=owners["own"],
        actors=actors,
        owners=owners,
        people=people,
        units={p: units[_COMMUNE[p]] for p in PLACEMENTS},
    )


def target(world: World, kind: str, placement: str) -> Target:
    """The object of `kind` at `placement`, built once per world."""
    key = (kind, placement)
    if key not in world.cache:
        world.cache[key] = BUILDERS[kind](world, placement)
    return world.cache[key]


# --- builders, one per kind of object a route takes ------------------------------------


def _person(world: World, placement: str) -> Target:
    return Target({"person_uuid": str(world.people[placement].uuid)}, world.secrets(placement))


def _message(world: World, placement: str) -> Target:
    from covidhub.notifications.models import Message

    message = Message.objects.create(
        channel=Message.Channel.INAPP,
        user=world.owners[placement],
        body=f"Kết quả của {_PEOPLE[placement][0]}",
    )
    return Target({"message_uuid": str(message.uuid)}, world.secrets(placement))


def _venue_obj(world: World, placement: str) -> Any:
    from covidhub.declarations.services import venue_register
    from covidhub.declarations.validation import venue_input_clean

    return venue_register(
        actor=world.owners[placement],
        data=venue_input_clean(
            {
                "name": f"Quán {_PEOPLE[placement][0]}",
                "kind": "market",
                "address_line": "Phố Chợ",
                "commune": world.commune(placement),
                "contact_name": _PEOPLE[placement][0],
                "contact_phone": _PEOPLE[placement][2],
            }
        ),
    )


def _venue(world: World, placement: str) -> Target:
    venue = _venue_obj(world, placement)
    return Target({"venue_uuid": str(venue.uuid)}, world.secrets(placement))


def _venue_staff(world: World, placement: str) -> Target:
    venue = _venue_obj(world, placement)
    return Target(
        {"venue_uuid": str(venue.uuid), "user_uuid": str(world.owners[placement].uuid)},
        world.secrets(placement),
    )


def _checkin(world: World, placement: str) -> Target:
    from covidhub.declarations.models import CheckIn

    venue = _venue_obj(world, placement)
    now = timezone.now()
    checkin = CheckIn.objects.create(
        venue=venue,
        person=world.people[placement],
        checked_in_at=now,
        method="qr",
        day=timezone.localdate(),
    )
    return Target({"checkin_uuid": str(checkin.uuid)}, world.secrets(placement))


def _followup(world: World, placement: str) -> Target:
    from covidhub.declarations.models import FollowUp

    person = world.people[placement]
    followup = FollowUp.objects.create(
        person=person, commune=person.commune, commune_path=person.commune_path, urgency=2
    )
    return Target({"followup_uuid": str(followup.uuid)}, world.secrets(placement))


def _declaration_case(world: World, placement: str) -> Target:
    from covidhub.declarations.models import Case

    person = world.people[placement]
    case = Case.objects.create(
        person=person,
        commune_path=person.commune_path,
        onset_date=timezone.localdate(),
        window_minutes=30,
        source="manual",
    )
    return Target({"case_uuid": str(case.uuid)}, world.secrets(placement))


def _appointment(world: World, placement: str) -> Target:
    from covidhub.testing.models import Appointment, Slot

    start = timezone.now() + datetime.timedelta(hours=2)
    slot = Slot.objects.create(
        site=world.units[placement].site,
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=1),
        capacity=5,
        booked=1,
    )
    appointment = Appointment.objects.create(
        code=f"A{uuid.uuid4().hex[:8].upper()}",
        person=world.people[placement],
        kind="slot",
        slot=slot,
        created_by=world.owners[placement],
    )
    return Target({"appointment_uuid": str(appointment.uuid)}, world.secrets(placement))


@dataclass
class _Chain:
    session: Any
    tube: Any
    sample: Any
    shipment: Any
    tube_result: Any
    result: Any
    amendment: Any
    batch: Any


def _testing_chain(world: World, placement: str) -> _Chain:
    """Session → tube → sample → shipment → lab result → released result, at the
    placement's site and lab, by staff of that placement's units."""
    key = ("_chain", placement)
    if key in world.cache:
        return world.cache[key]  # type: ignore[return-value]
    from covidhub.testing import collection, imports, results
    from covidhub.testing.models import Result, Sample

    units = world.units[placement]
    suffix = placement.replace("_", "")[:8]
    sampler = _unit_staff(world, placement, "sampler", "site", units.site.uuid)
    tech = _unit_staff(world, placement, "lab_technician", "lab", units.lab.uuid)
    session = collection.session_open(actor=sampler, site=units.site, test_type="pcr", pool_size=1)
    barcode = f"MX{suffix.upper()}01"
    collection.scan_handle(actor=sampler, session=session, text=barcode)
    collection.person_to_tube(actor=sampler, session=session, person=world.people[placement])
    sample = Sample.objects.filter(person=world.people[placement]).latest("id")
    shipment = collection.shipment_create(actor=sampler, session=session, lab=units.lab)
    results.shipment_receive(actor=tech, shipment=shipment, barcodes=[barcode])
    tube_result = results.tube_result_record(
        actor=tech, lab=units.lab, barcode=barcode, value="negative"
    )
    amendment = results.amendment_request(
        actor=tech,
        tube_result=tube_result,
        new_value="positive",
        new_ct_value=None,
        reason="Nhầm ống",
    )
    result = Result.objects.filter(person=world.people[placement]).latest("id")
    batch = imports.import_validate(
        actor=tech,
        lab=units.lab,
        file_name="ket-qua.csv",
        content=f"barcode,result\n{barcode},negative\n".encode(),
    )
    sample.refresh_from_db()
    chain = _Chain(session, sample.tube, sample, shipment, tube_result, result, amendment, batch)
    world.cache[key] = chain  # type: ignore[assignment]
    return chain


def _unit_staff(world: World, placement: str, role: str, kind: str, unit: Any) -> Any:
    """The actor of that unit for `own`; a colleague of the other placement otherwise."""
    from covidhub.accounts.models import User
    from covidhub.accounts.services import role_assign

    # A colleague, never the actor: an amendment needs a second technician to decide it.
    username = f"x-{role}-{unit}"
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, kind=User.Kind.STAFF)
        user.set_unusable_password()
        user.save()
        role_assign(user=user, role=role, area=None, unit_kind=kind, unit_uuid=unit)
    return user


def _chain_target(attr: str, kwarg: str) -> Callable[[World, str], Target]:
    def build(world: World, placement: str) -> Target:
        obj = getattr(_testing_chain(world, placement), attr)
        return Target({kwarg: str(obj.uuid)}, world.secrets(placement))

    return build


def _testing_case(world: World, placement: str) -> Target:
    from covidhub.testing.models import CaseReport

    chain = _testing_chain(world, placement)
    person = world.people[placement]
    case = CaseReport.objects.create(
        result=chain.result, person=person, commune=person.commune, commune_path=person.commune_path
    )
    return Target({"case_uuid": str(case.uuid)}, world.secrets(placement))


def _unit(attr: str, kwarg: str) -> Callable[[World, str], Target]:
    def build(world: World, placement: str) -> Target:
        if attr == "lab":
            _testing_chain(world, placement)  # tubes at the lab, for the lab's routes
        return Target({kwarg: str(getattr(world.units[placement], attr).uuid)}, [])

    return build


def _vaccines() -> dict[str, Any]:
    import importlib

    from django.apps import apps

    from covidhub.vaccination.models import Vaccine

    if not Vaccine.objects.exists():
        importlib.import_module("covidhub.vaccination.migrations.0002_vaccines").forwards(
            apps, None
        )
    return {v.code: v for v in Vaccine.objects.all()}


def _vsession(world: World, placement: str) -> Any:
    key = ("_vsession", placement)
    if key in world.cache:
        return world.cache[key]
    from covidhub.vaccination.models import Campaign, Session

    today = timezone.localdate()
    area = world.commune(placement)
    campaign = Campaign.objects.create(
        name=f"Đợt tiêm {placement}",
        area=area,
        area_path=area.path,
        vaccine=_vaccines()["astrazeneca"],
        starts_on=today - datetime.timedelta(days=30),
        ends_on=today + datetime.timedelta(days=30),
    )
    vsite = world.units[placement].vsite
    campaign.sites.add(vsite)
    session = Session.objects.create(
        campaign=campaign,
        site=vsite,
        date=today,
        starts_at=datetime.time(0, 0),
        ends_at=datetime.time(23, 59),
        capacity=10,
    )
    world.cache[key] = session  # type: ignore[assignment]
    return session


def _campaign(world: World, placement: str) -> Target:
    return Target({"campaign_uuid": str(_vsession(world, placement).campaign.uuid)}, [])


def _vaccination_session(world: World, placement: str) -> Target:
    return Target({"session_uuid": str(_vsession(world, placement).uuid)}, [])


def _booking(world: World, placement: str) -> Target:
    from covidhub.vaccination.models import Booking

    booking = Booking.objects.create(
        session=_vsession(world, placement),
        person=world.people[placement],
        dose_number=1,
        status="confirmed",
    )
    return Target({"booking_uuid": str(booking.uuid)}, world.secrets(placement))


def _lot(world: World, placement: str) -> Target:
    from covidhub.vaccination.models import LotAllocation, VaccineLot

    area = world.commune(placement)
    lot = VaccineLot.objects.create(
        vaccine=_vaccines()["astrazeneca"],
        number=f"LOT-{placement}",
        expiry_date=timezone.localdate() + datetime.timedelta(days=90),
        doses_received=100,
        doses_allocated=10,
        store_area=area,
        store_path=area.path,
        received_on=timezone.localdate(),
    )
    LotAllocation.objects.create(lot=lot, site=world.units[placement].vsite, doses_allocated=10)
    return Target({"lot_uuid": str(lot.uuid)}, [])


def _dose(world: World, placement: str) -> Target:
    from covidhub.vaccination.models import Dose

    person = world.people[placement]
    now = timezone.now()
    dose = Dose.objects.create(
        person=person,
        vaccine=_vaccines()["astrazeneca"],
        series=1,
        dose_number=1,
        sequence=1,
        administered_at=now,
        day=timezone.localdate(),
        commune=person.commune,
        commune_path=person.commune_path,
        given_elsewhere=True,
    )
    return Target({"dose_uuid": str(dose.uuid)}, world.secrets(placement))


def _certificate(world: World, placement: str) -> Target:
    from covidhub.certificates.facts import VaccinationFacts
    from covidhub.certificates.keystore import signing_key_create_development
    from covidhub.certificates.models import SigningKey
    from covidhub.certificates.services import certificate_issue

    if not SigningKey.objects.exists():
        signing_key_create_development(
            actor=None, now=timezone.now() - datetime.timedelta(days=1), label="matrix"
        )
    from covidhub.certificates.healthcard_keys import healthcard_key_rotate
    from covidhub.certificates.models import HealthCardKey

    if not HealthCardKey.objects.exists():  # the SMART Health Card of the certificate
        healthcard_key_rotate(actor=None)
    person = world.people[placement]
    certificate = certificate_issue(
        facts=VaccinationFacts(
            person=person,
            source_type="vaccination.dose",
            source_id=f"{person.uuid}:1",
            medicinal_product="EU/1/20/1528",
            manufacturer="ORG-100030215",
            prophylaxis="1119349007",
            dose_number=1,
            total_doses=2,
            vaccination_date=datetime.date(2021, 9, 1),
        )
    )
    return Target({"certificate_uuid": str(certificate.uuid)}, world.secrets(placement))


def _roster(world: World, placement: str) -> Target:
    from covidhub.adoption.services import roster_upload_create

    agency = world.units[placement].agency
    head = _unit_staff(world, placement, "agency_head", "agency", agency.uuid)
    name, id_number, phone = _PEOPLE[placement]
    content = (
        "STT,Họ và tên,Ngày sinh,Số CCCD,Số điện thoại,Chức vụ,Đơn vị\n"
        f"1,{name},15/03/1985,{id_number},0{phone[3:]},Chuyên viên,Văn phòng\n"
    ).encode()
    upload = roster_upload_create(actor=head, agency=agency, data=content, file_name="ds.csv")
    return Target({"upload_uuid": str(upload.uuid)}, [name, id_number])


def _correction(world: World, placement: str) -> Target:
    from covidhub.people.corrections import correction_request_create
    from covidhub.people.validation import person_input_clean

    person = world.people[placement]
    name, id_number, phone = _PEOPLE[placement]
    request = correction_request_create(
        actor=world.owners[placement],
        person=person,
        data=person_input_clean(
            {
                "full_name": f"{name} Mới",
                "birth": "15/03/1985",
                "sex": person.sex,
                "commune": person.commune,
                "id_type": "cccd",
                "id_number": id_number,
                "phone": phone,
            }
        ),
        reason="Sai chính tả",
    )
    return Target({"request_uuid": str(request.uuid)}, world.secrets(placement))


def _import_job(world: World, placement: str, kind: str = "vaccination.registration") -> Target:
    """A registration list's background job: the officer's own (``own``), a colleague's
    otherwise."""
    from covidhub.accounts.models import User
    from covidhub.core.models import ImportJob

    if placement == "own":
        actor = world.actors["commune_officer"]
    else:
        actor = User.objects.create(username=f"x-officer-{placement}", kind=User.Kind.STAFF)
    job = ImportJob.objects.create(kind=kind, actor=actor, rows_total=0)
    return Target({"job_uuid": str(job.uuid)}, [])


def _inbound_import_job(world: World, placement: str) -> Target:
    """An import of doses from a FHIR file (covidhub.exchange.inbound), the same way."""
    return _import_job(world, placement, kind="exchange.immunizations")


def _lab_import_job(world: World, placement: str) -> Target:
    """A large lab result file's job, on the placement's lab's batch: the technician's own
    (``own``), a colleague's otherwise."""
    from covidhub.accounts.models import User
    from covidhub.core.models import ImportJob

    chain = _testing_chain(world, placement)
    if placement == "own":
        actor = world.actors["lab_technician"]
    else:
        actor = User.objects.create(username=f"x-tech-{placement}", kind=User.Kind.STAFF)
    job = ImportJob.objects.create(
        kind="testing.lab_results", actor=actor, scope=str(chain.batch.uuid), rows_total=0
    )
    return Target({"job_uuid": str(job.uuid)}, [])


def _with_second(kind: str, body: Callable[[World, str], dict[str, Any]]) -> Callable[..., Target]:
    """The object of `kind`, with body fields naming a second object of the same placement
    (for the routes whose look-up also goes through that second object)."""

    def build(world: World, placement: str) -> Target:
        first = target(world, kind, placement)
        return replace(first, body={**first.body, **body(world, placement)})

    return build


def _campaign_site_body(world: World, placement: str) -> dict[str, Any]:
    return {
        "site": str(world.units[placement].vsite.uuid),
        "date": timezone.localdate().isoformat(),
        "starts_at": "08:00",
        "ends_at": "11:00",
        "capacity": 10,
    }


def _lot_site_body(world: World, placement: str) -> dict[str, Any]:
    return {"site": str(world.units[placement].vsite.uuid), "doses": 1}


def _session_person_body(world: World, placement: str) -> dict[str, Any]:
    return {"person_uuid": str(world.people[placement].uuid)}


def _lab_body(world: World, placement: str) -> dict[str, Any]:
    return {"lab_uuid": str(world.units[placement].lab.uuid)}


def _booking_code_body(world: World, placement: str) -> dict[str, Any]:
    from covidhub.vaccination.models import Booking

    booking_uuid = target(world, "booking", placement).kwargs["booking_uuid"]
    return {"code": Booking.objects.get(uuid=booking_uuid).code}


def _wastage_body(world: World, placement: str) -> dict[str, Any]:
    return {
        "lot": target(world, "lot", placement).kwargs["lot_uuid"],
        "doses": 1,
        "reason": "broken",
    }


BUILDERS: dict[str, Callable[[World, str], Target]] = {
    "vaccination_site_with_booking": _with_second("vaccination_site", _booking_code_body),
    "vaccination_site_with_lot": _with_second("vaccination_site", _wastage_body),
    "sampling_session_with_person": _with_second("sampling_session", _session_person_body),
    "sampling_session_with_lab": _with_second("sampling_session", _lab_body),
    "campaign_with_site": _with_second("campaign", _campaign_site_body),
    "lot_with_site": _with_second("lot", _lot_site_body),
    "vaccination_session_with_person": _with_second("vaccination_session", _session_person_body),
    "import_job": _import_job,
    "inbound_import_job": _inbound_import_job,
    "lab_import_job": _lab_import_job,
    "correction": _correction,
    "person": _person,
    "message": _message,
    "venue": _venue,
    "venue_staff": _venue_staff,
    "checkin": _checkin,
    "followup": _followup,
    "declaration_case": _declaration_case,
    "appointment": _appointment,
    "result": _chain_target("result", "result_uuid"),
    "sampling_session": _chain_target("session", "session_uuid"),
    "tube": _chain_target("tube", "tube_uuid"),
    "sample": _chain_target("sample", "sample_uuid"),
    "shipment": _chain_target("shipment", "shipment_uuid"),
    "import": _chain_target("batch", "import_uuid"),
    "tube_result": _chain_target("tube_result", "tube_result_uuid"),
    "amendment": _chain_target("amendment", "amendment_uuid"),
    "testing_case": _testing_case,
    "testing_site": _unit("site", "site_uuid"),
    "lab": _unit("lab", "lab_uuid"),
    "vaccination_site": _unit("vsite", "site_uuid"),
    "agency": _unit("agency", "agency_uuid"),
    "campaign": _campaign,
    "vaccination_session": _vaccination_session,
    "booking": _booking,
    "lot": _lot,
    "dose": _dose,
    "certificate": _certificate,
    "roster": _roster,
}


# --- province-wide records (no area: only the roles of the table may reach them) -------


def _announcement(world: World, placement: str) -> Target:
    from covidhub.portal.models import Announcement, Category

    category, _ = Category.objects.get_or_create(
        slug="matrix", defaults={"name_vi": "Thử", "name_en": "Test"}
    )
    editor = world.actors["portal_editor"]
    announcement = Announcement.objects.create(
        slug=f"ban-nhap-{uuid.uuid4().hex[:6]}",
        language="vi",
        title="Bản nháp mật chưa công bố",
        body="Nội dung nháp",
        category=category,
        created_by=editor,
        updated_by=editor,
    )
    return Target({"uuid": str(announcement.uuid)}, ["Bản nháp mật chưa công bố"])


def _ticket(world: World, placement: str) -> Target:
    from covidhub.portal.models import SupportTicket

    ticket = SupportTicket.objects.create(
        reference=f"T{uuid.uuid4().hex[:8].upper()}",
        name="Người Gửi Phản Ánh",
        phone="0912000999",
        topic="other",
        message="Nội dung phản ánh riêng",
    )
    return Target({"uuid": str(ticket.uuid)}, ["Người Gửi Phản Ánh", "0912000999"])


def _official_count(world: World, placement: str) -> Target:
    from covidhub.portal.models import OfficialCaseCount

    entry = OfficialCaseCount.objects.create(
        day=timezone.localdate() - datetime.timedelta(days=1 + PLACEMENTS.index(placement)),
        area=world.tree["province"],
        cases=3,
        source="Công văn số 12",
        entered_by=world.actors["province_officer"],
    )
    return Target({"uuid": str(entry.uuid)}, [])


def _signing_key(world: World, placement: str) -> Target:
    from covidhub.certificates.keystore import signing_key_create_development

    key, _csca = signing_key_create_development(
        actor=None, now=timezone.now() - datetime.timedelta(days=1), label=f"matrix {placement}"
    )
    return Target({"key_uuid": str(key.uuid)}, [])


def _rules(world: World, placement: str) -> Target:
    from covidhub.certificates.models import StatusRuleSet

    version = 100 + PLACEMENTS.index(placement)
    StatusRuleSet.objects.create(version=version, rules={"rules": []}, note="matrix")
    return Target({"version": str(version)}, [])


def _acceptance_rules(world: World, placement: str) -> Target:
    from covidhub.certificates.acceptance import shipped_rule_documents
    from covidhub.certificates.models import AcceptanceRuleSet

    version = 100 + PLACEMENTS.index(placement)
    AcceptanceRuleSet.objects.create(
        purpose="venue", version=version, rules=shipped_rule_documents("venue"), note="matrix"
    )
    return Target({"purpose": "venue", "version": str(version)}, [])


def _machine_client(world: World, placement: str) -> Target:
    from covidhub.clients.services import client_register

    actor = world.actors["administrator"]
    if placement == "other_province":
        # Registered by that province's own administrator.
        from covidhub.accounts.models import User
        from covidhub.accounts.services import role_assign

        actor = User.objects.create(username="x-admin-other-province", kind=User.Kind.STAFF)
        role_assign(user=actor, role="administrator", area=world.tree["other_province"])
    credentials = client_register(
        actor=actor,
        name=f"Hệ thống {placement}",
        kind="national",
        access={"people": "read"},
        area=world.commune(placement),
    )
    return Target({"client_uuid": str(credentials.client.uuid)}, [credentials.client_id])


def _homecare_order_obj(world: World, placement: str) -> Any:
    from covidhub.homecare.models import CareOrder
    from covidhub.homecare.services.orders import order_open_case

    person = world.people[placement]
    found = CareOrder.objects.filter(person=person, status="open").first()
    return found or order_open_case(actor=None, person=person, keep_at_home=True)


def _homecare_order(world: World, placement: str) -> Target:
    order = _homecare_order_obj(world, placement)
    return Target({"order_uuid": str(order.uuid)}, world.secrets(placement))


def _homecare_order_released(world: World, placement: str) -> Target:
    from covidhub.homecare.models import CareOrder
    from covidhub.homecare.protocol import protocol_active

    person = world.people[placement]
    order = CareOrder.objects.create(
        person=person,
        kind=CareOrder.Kind.HOME_CARE,
        status=CareOrder.Status.RELEASED,
        source=CareOrder.Source.OFFICER,
        protocol=protocol_active(),
        commune=person.commune,
        commune_path=person.commune_path,
        start_date=timezone.localdate() - datetime.timedelta(days=12),
        planned_end=timezone.localdate() - datetime.timedelta(days=2),
        released_at=timezone.now() - datetime.timedelta(days=2),
        release_reason=CareOrder.ReleaseReason.DAYS,
    )
    return Target({"order_uuid": str(order.uuid)}, world.secrets(placement))


def _homecare_alert(world: World, placement: str) -> Target:
    from covidhub.homecare.models import CareAlert

    order = _homecare_order_obj(world, placement)
    alert = CareAlert.objects.create(
        order=order,
        commune_path=order.commune_path,
        signs=["spo2_low"],
        due_at=timezone.now() + datetime.timedelta(minutes=30),
    )
    return Target({"alert_uuid": str(alert.uuid)}, world.secrets(placement))


def _exposure_candidate(world: World, placement: str) -> Target:
    from covidhub.declarations.models import Case, ExposureCandidate

    person = world.people[placement]
    source = world.people["far" if placement != "far" else "own"]
    case = Case.objects.create(
        person=source,
        commune_path=source.commune_path,
        onset_date=timezone.localdate() - datetime.timedelta(days=PLACEMENTS.index(placement)),
        window_minutes=30,
        source="officer",
        status="confirmed",
        decided_by=world.actors["district_officer"],
        decided_at=timezone.now(),
    )
    candidate = ExposureCandidate.objects.create(
        case=case,
        person=person,
        commune_path=person.commune_path,
        venue=_venue_obj(world, placement),
        first_overlap_at=timezone.now() - datetime.timedelta(days=1),
    )
    return Target({"candidate_uuid": str(candidate.uuid)}, world.secrets(placement))


BUILDERS.update(
    {
        "homecare_order": _homecare_order,
        "homecare_order_released": _homecare_order_released,
        "homecare_alert": _homecare_alert,
        "exposure_candidate": _exposure_candidate,
        "acceptance_rules": _acceptance_rules,
        "machine_client": _machine_client,
        "announcement": _announcement,
        "ticket": _ticket,
        "official_count": _official_count,
        "signing_key": _signing_key,
        "status_rules": _rules,
    }
)
