"""The testing API: registration, lookup and results for citizens; collection for
samplers; receipt, results, imports and amendments for laboratories; rounds, slots,
positive cases and the turnaround board for officers."""

from __future__ import annotations

import datetime
import decimal
from typing import Any, Literal
from uuid import UUID

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Schema, Status
from ninja.decorators import decorate_view
from ninja.files import UploadedFile

from covidhub.accounts.api_auth import citizen_auth, request_user, staff_auth
from covidhub.accounts.scoping import OFFICER_ROLES, actor_scope
from covidhub.areas.models import Area
from covidhub.core import request_context
from covidhub.core.api_base import BodyIn, Router, choice_field
from covidhub.core.errors import InvalidInput, NotFound
from covidhub.core.listing import Listing
from covidhub.core.replicas import reads_from_replica
from covidhub.people.identity import IdType, Sex
from covidhub.people.selectors import person_get_for_actor
from covidhub.testing import collection, imports, registration, results, selectors
from covidhub.testing.codes import appointment_code_display
from covidhub.testing.document import masked_name, result_pdf, token_read
from covidhub.testing.models import (
    Amendment,
    Appointment,
    CaseReport,
    ImportBatch,
    Lab,
    Result,
    SamplingSession,
    Shipment,
    Site,
    Slot,
    TestingRound,
    TestType,
    Tube,
    TubeResult,
)
from covidhub.testing.scope import (
    lab_get,
    labs_for_actor,
    parse_uuid,
    sampling_site_get,
    sites_for_actor,
)

router = Router(tags=["testing"])


# Schemas -------------------------------------------------------------------------------


class TestingSiteOut(Schema):
    uuid: UUID
    name: str
    address: str
    commune_name: str

    @staticmethod
    def resolve_commune_name(obj: Site) -> str:
        return obj.commune.name


class LabOut(Schema):
    uuid: UUID
    name: str
    code: str


class SlotOut(Schema):
    uuid: UUID
    site: TestingSiteOut
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    test_type: str = choice_field(TestType)
    capacity: int
    free: int

    @staticmethod
    def resolve_free(obj: Slot) -> int:
        return obj.capacity - obj.booked


class RoundOut(Schema):
    uuid: UUID
    name: str
    area_name: str
    streets: str
    starts_on: datetime.date
    ends_on: datetime.date
    test_type: str = choice_field(TestType)
    pool_size: int

    @staticmethod
    def resolve_area_name(obj: TestingRound) -> str:
        return obj.area.name


class AppointmentOut(Schema):
    uuid: UUID
    code: str
    qr_text: str
    kind: str = choice_field(Appointment.Kind)
    status: str = choice_field(Appointment.Status)
    person_uuid: UUID
    person_name: str
    slot: SlotOut | None = None
    round_uuid: UUID | None = None
    round_name: str = ""

    @staticmethod
    def resolve_code(obj: Appointment) -> str:
        return appointment_code_display(str(obj.code))

    @staticmethod
    def resolve_person_uuid(obj: Appointment) -> UUID:
        return obj.person.uuid

    @staticmethod
    def resolve_person_name(obj: Appointment) -> str:
        return obj.person.full_name

    @staticmethod
    def resolve_round_uuid(obj: Appointment) -> UUID | None:
        return obj.testing_round.uuid if obj.testing_round else None

    @staticmethod
    def resolve_round_name(obj: Appointment) -> str:
        return obj.testing_round.name if obj.testing_round else ""


class BookIn(BodyIn):
    person_uuid: UUID
    slot_uuid: UUID | None = None
    round_uuid: UUID | None = None


class MoveIn(BodyIn):
    slot_uuid: UUID


class ResultOut(Schema):
    """A row of `selectors.result_rows_for_account`."""

    uuid: UUID
    person_uuid: UUID
    person_name: str
    outcome: str = choice_field(Result.Outcome)
    outcome_label: str
    test_type: str = choice_field(TestType)
    pooled: bool
    collected_at: datetime.datetime
    released_at: datetime.datetime
    amended: bool
    site_name: str


class LookupIn(BodyIn):
    code: str
    birth: str


class LookupResultOut(Schema):
    """A `selectors.LookupResult`."""

    uuid: UUID
    outcome: str = choice_field(Result.Outcome)
    outcome_label: str
    test_type: str = choice_field(TestType)
    collected_at: datetime.datetime
    released_at: datetime.datetime
    amended: bool


class LookupOut(Schema):
    masked_name: str
    appointment_status: str = choice_field(Appointment.Status)
    results: list[LookupResultOut]


class TestingVerifyOut(Schema):
    valid: bool
    status: str = choice_field(["valid", "superseded", "not_genuine"])
    outcome: str = choice_field(["", *Result.Outcome.values], "")
    test_type: str = choice_field(["", *TestType.values], "")
    collected_on: datetime.date | None = None
    masked_name: str = ""


class TestingSessionIn(BodyIn):
    site_uuid: UUID
    round_uuid: UUID | None = None
    test_type: str = choice_field(TestType, TestType.PCR, service_checks=True)
    pool_size: int = 1


class TubeOut(Schema):
    uuid: UUID
    barcode: str
    status: str = choice_field(Tube.Status)
    capacity: int
    member_count: int
    test_type: str = choice_field(TestType)


class TestingSessionOut(Schema):
    uuid: UUID
    site: TestingSiteOut
    test_type: str = choice_field(TestType)
    pool_size: int
    status: str = choice_field(SamplingSession.Status)
    open_tube: TubeOut | None = None
    waiting_person: str = ""

    @staticmethod
    def resolve_open_tube(obj: SamplingSession) -> Tube | None:
        return Tube.objects.filter(session=obj, status=Tube.Status.OPEN).order_by("-id").first()

    @staticmethod
    def resolve_waiting_person(obj: SamplingSession) -> str:
        return obj.pending_person.full_name if obj.pending_person else ""


class TestingScanIn(BodyIn):
    value: str


class TestingScanOut(Schema):
    kind: str
    tube: TubeOut | None = None
    person_name: str = ""
    person_birth_year: int | None = None
    sample_uuid: UUID | None = None


class FindIn(BodyIn):
    id_number: str


class PersonBrief(Schema):
    uuid: UUID
    full_name: str
    birth_year: int
    sex: str = choice_field(Sex)
    commune_name: str

    @staticmethod
    def resolve_commune_name(obj: Any) -> str:
        return str(obj.commune.name)


class CollectIn(BodyIn):
    person_uuid: UUID


class WalkInIn(BodyIn):
    full_name: str
    birth: str
    sex: str = choice_field(Sex, service_checks=True)
    commune: str
    phone: str = ""
    id_type: str = choice_field(["", *IdType.values], "", service_checks=True)
    id_number: str = ""
    address_line: str = ""


class ReasonIn(BodyIn):
    reason: str


class MoveSampleIn(BodyIn):
    barcode: str
    reason: str


class ValueIn(BodyIn):
    value: str


class ShipmentIn(BodyIn):
    lab_uuid: UUID


class ShipmentOut(Schema):
    uuid: UUID
    site_name: str
    lab_name: str
    status: str = choice_field(Shipment.Status)
    sent_at: datetime.datetime
    received_at: datetime.datetime | None
    tube_count: int
    missing_barcodes: list[str]
    unexpected_barcodes: list[str]

    @staticmethod
    def resolve_site_name(obj: Shipment) -> str:
        return obj.site.name

    @staticmethod
    def resolve_lab_name(obj: Shipment) -> str:
        return obj.lab.name

    @staticmethod
    def resolve_tube_count(obj: Shipment) -> int:
        return getattr(obj, "tube_count", None) or obj.tubes.count()


class ReceiveIn(BodyIn):
    barcodes: list[str]


class BarcodeIn(BodyIn):
    barcode: str


class RecordIn(BodyIn):
    barcode: str
    value: str
    ct_value: str | None = None


class TubeResultOut(Schema):
    uuid: UUID
    barcode: str
    value: str = choice_field(TubeResult.Value)
    ct_value: decimal.Decimal | None
    people: int
    version: int

    @staticmethod
    def resolve_barcode(obj: TubeResult) -> str:
        return obj.tube.barcode

    @staticmethod
    def resolve_people(obj: TubeResult) -> int:
        return obj.tube.member_count


class BadRowOut(Schema):
    row: int
    barcode: str
    reason: str
    message: str


class TestingImportOut(Schema):
    uuid: UUID
    file_name: str
    status: str = choice_field(ImportBatch.Status)
    rows_total: int
    good_count: int
    bad_rows: list[BadRowOut]
    imported_count: int

    @staticmethod
    def resolve_good_count(obj: ImportBatch) -> int:
        return len(obj.good_rows)

    @staticmethod
    def resolve_bad_rows(obj: ImportBatch) -> list[dict[str, Any]]:
        return [
            {"row": r[0], "barcode": r[1], "reason": r[2], "message": imports.reason_text(r[2])}
            for r in obj.bad_rows
        ]


class CommitIn(BodyIn):
    import_good_rows: bool


class LabImportJobOut(Schema):
    """A large file being stored in the background; poll `url` until `status` is done."""

    uuid: UUID
    url: str
    import_uuid: UUID
    status: Literal["queued", "running", "done", "failed"]
    rows_total: int
    rows_done: int
    imported_count: int


def _job_out(job: Any) -> dict[str, Any]:
    return {
        "uuid": job.uuid,
        "url": f"/api/v1/testing/import-jobs/{job.uuid}",
        "import_uuid": job.scope,
        "status": job.status,
        "rows_total": job.rows_total,
        "rows_done": job.rows_done,
        "imported_count": job.created_count,
    }


class AmendIn(BodyIn):
    new_value: str
    new_ct_value: str | None = None
    reason: str


class AmendmentOut(Schema):
    uuid: UUID
    barcode: str
    old_value: str = choice_field(TubeResult.Value)
    new_value: str = choice_field(TubeResult.Value)
    reason: str
    status: str = choice_field(Amendment.Status)

    @staticmethod
    def resolve_barcode(obj: Amendment) -> str:
        return obj.tube_result.tube.barcode


class DecideIn(BodyIn):
    approve: bool


class RoundIn(BodyIn):
    name: str
    area_code: str
    site_uuids: list[UUID]
    starts_on: datetime.date
    ends_on: datetime.date
    test_type: str = choice_field(TestType, TestType.PCR, service_checks=True)
    pool_size: int = 5
    streets: str = ""


class SlotIn(BodyIn):
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    capacity: int
    test_type: str = choice_field(TestType, TestType.PCR, service_checks=True)


class TestingCaseOut(Schema):
    uuid: UUID
    person_uuid: UUID
    person_name: str
    commune_name: str
    collected_at: datetime.datetime
    reported_at: datetime.datetime

    @staticmethod
    def resolve_person_uuid(obj: CaseReport) -> UUID:
        return obj.person.uuid

    @staticmethod
    def resolve_person_name(obj: CaseReport) -> str:
        return obj.person.full_name

    @staticmethod
    def resolve_commune_name(obj: CaseReport) -> str:
        return obj.commune.name

    @staticmethod
    def resolve_collected_at(obj: CaseReport) -> datetime.datetime:
        return obj.result.collected_at


class BoardRowOut(Schema):
    kind: str
    name: str
    collected: int
    received: int
    resulted: int
    median_hours: float | None
    late_receipt: int
    late_result: int


# Citizens ------------------------------------------------------------------------------


@router.get("/slots", response=list[SlotOut], summary="Open time slots, soonest first")
def slots_list(
    request: HttpRequest, test_type: TestType | None = None, area: str = ""
) -> QuerySet[Slot]:
    """`area`: a district or commune code (`GET /areas`), for the slots near a household."""
    place = None
    if area:
        place = Area.objects.filter(code=area[:10], level__in=[2, 3]).first()
        if place is None:
            raise InvalidInput(details={"fields": {"area": [_("Choose a district or a commune.")]}})
    return selectors.slot_queryset_open(test_type=test_type, area=place)


@router.get(
    "/people/{uuid:person_uuid}/rounds",
    response=list[RoundOut],
    auth=citizen_auth,
    summary="Testing rounds open to a household member",
)
def person_rounds(request: HttpRequest, person_uuid: UUID) -> list[TestingRound]:
    person = person_get_for_actor(actor=request_user(request), person_uuid=person_uuid)
    return selectors.rounds_for_person(person=person)


@router.post(
    "/appointments",
    response={201: AppointmentOut},
    auth=citizen_auth,
    summary="Register a household member for a test",
)
def appointment_book(request: HttpRequest, payload: BookIn) -> tuple[int, Appointment]:
    account = request_user(request)
    person = person_get_for_actor(actor=account, person_uuid=payload.person_uuid)
    slot = (
        Slot.objects.filter(uuid=payload.slot_uuid).select_related("site").first()
        if payload.slot_uuid
        else None
    )
    testing_round = (
        TestingRound.objects.filter(uuid=payload.round_uuid).first() if payload.round_uuid else None
    )
    if (payload.slot_uuid and slot is None) or (payload.round_uuid and testing_round is None):
        raise NotFound()
    appointment = registration.appointment_book(
        actor=account, person=person, slot=slot, testing_round=testing_round
    )
    return 201, selectors.appointment_get_for_account(
        account=account, appointment_uuid=appointment.uuid
    )


@router.get(
    "/appointments", response=list[AppointmentOut], auth=citizen_auth, summary="My appointments"
)
def appointments_list(request: HttpRequest) -> QuerySet[Appointment]:
    return selectors.appointment_queryset_for_account(account=request_user(request))


@router.get(
    "/appointments/{uuid:appointment_uuid}",
    response=AppointmentOut,
    auth=citizen_auth,
    summary="One appointment",
)
def appointment_detail(request: HttpRequest, appointment_uuid: UUID) -> Appointment:
    return selectors.appointment_get_for_account(
        account=request_user(request), appointment_uuid=appointment_uuid
    )


@router.post(
    "/appointments/{uuid:appointment_uuid}/cancel",
    response=AppointmentOut,
    auth=citizen_auth,
    summary="Cancel an appointment",
)
def appointment_cancel(request: HttpRequest, appointment_uuid: UUID) -> Appointment:
    account = request_user(request)
    appointment = selectors.appointment_get_for_account(
        account=account, appointment_uuid=appointment_uuid
    )
    registration.appointment_cancel(actor=account, appointment=appointment)
    return selectors.appointment_get_for_account(account=account, appointment_uuid=appointment_uuid)


@router.post(
    "/appointments/{uuid:appointment_uuid}/move",
    response=AppointmentOut,
    auth=citizen_auth,
    summary="Move an appointment to another slot",
)
def appointment_move(request: HttpRequest, appointment_uuid: UUID, payload: MoveIn) -> Any:
    account = request_user(request)
    appointment = selectors.appointment_get_for_account(
        account=account, appointment_uuid=appointment_uuid
    )
    slot = Slot.objects.filter(uuid=payload.slot_uuid).first()
    if slot is None:
        raise NotFound()
    registration.appointment_move(actor=account, appointment=appointment, slot=slot)
    return selectors.appointment_get_for_account(account=account, appointment_uuid=appointment_uuid)


@router.get(
    "/results",
    response=list[ResultOut],
    auth=citizen_auth,
    summary="My household's results",
)
def my_results(request: HttpRequest) -> list[dict[str, Any]]:
    return selectors.result_rows_for_account(account=request_user(request))


@router.get(
    "/results/{uuid:result_uuid}/document",
    auth=citizen_auth,
    summary="The result document (PDF)",
    response={200: None},
)
def my_result_document(request: HttpRequest, result_uuid: UUID) -> HttpResponse:
    result = selectors.result_get_for_account(
        account=request_user(request), result_uuid=result_uuid
    )
    response = HttpResponse(result_pdf(result), content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="ket-qua-xet-nghiem.pdf"'
    return response


@router.post(
    "/lookup",
    response=LookupOut,
    auth=None,
    summary="Look up a result with the appointment code and date of birth",
)
@decorate_view(reads_from_replica)
def lookup(request: HttpRequest, payload: LookupIn) -> dict[str, Any]:
    context = request_context.current()
    found = selectors.result_lookup(
        code=payload.code,
        birth=payload.birth,
        client_address=context.client_address if context else None,
    )
    return {
        "masked_name": masked_name(found.person_name),
        "appointment_status": found.appointment_status,
        "results": found.results,
    }


@router.get(
    "/verify/{token}",
    response=TestingVerifyOut,
    auth=None,
    summary="Check a result document's QR code",
)
def verify(request: HttpRequest, token: str) -> dict[str, Any]:
    return verification(token)


def verification(token: str) -> dict[str, Any]:
    data = token_read(token)
    result = selectors.result_get_public(result_uuid=data["r"]) if data else None
    if data is None or result is None:
        return {"valid": False, "status": "not_genuine"}
    current = data.get("v") == result.version
    return {
        "valid": current,
        "status": "valid" if current else "superseded",
        "outcome": result.outcome,
        "test_type": result.test_type,
        "collected_on": timezone.localtime(result.collected_at).date(),
        "masked_name": masked_name(result.person.full_name),
    }


# Samplers ------------------------------------------------------------------------------


@router.get("/labs", response=list[LabOut], auth=staff_auth, summary="Laboratories")
def labs_list(request: HttpRequest) -> list[Lab]:
    return list(Lab.objects.order_by("name"))


@router.get("/sampling/sites", response=list[TestingSiteOut], auth=staff_auth, summary="My sites")
def my_sites(request: HttpRequest) -> list[Site]:
    from covidhub.testing.scope import sampling_sites_for_actor

    return list(sampling_sites_for_actor(request_user(request)).select_related("commune"))


@router.post(
    "/sessions",
    response={201: TestingSessionOut},
    auth=staff_auth,
    summary="Open a sampling session",
)
def session_open(request: HttpRequest, payload: TestingSessionIn) -> tuple[int, SamplingSession]:
    actor = request_user(request)
    site = sampling_site_get(actor=actor, site_uuid=payload.site_uuid)
    testing_round = None
    if payload.round_uuid:
        testing_round = TestingRound.objects.filter(uuid=payload.round_uuid).first()
        if testing_round is None:
            raise NotFound()
    session = collection.session_open(
        actor=actor,
        site=site,
        testing_round=testing_round,
        test_type=payload.test_type,
        pool_size=payload.pool_size,
    )
    return 201, session


@router.get(
    "/sessions/{uuid:session_uuid}",
    response=TestingSessionOut,
    auth=staff_auth,
    summary="A session",
)
def session_detail(request: HttpRequest, session_uuid: UUID) -> SamplingSession:
    return selectors.session_get_for_actor(actor=request_user(request), session_uuid=session_uuid)


def _scan_out(outcome: collection.ScanOutcome) -> dict[str, Any]:
    return {
        "kind": outcome.kind,
        "tube": outcome.tube,
        "person_name": outcome.person.full_name if outcome.person else "",
        "person_birth_year": outcome.person.birth_year if outcome.person else None,
        "sample_uuid": outcome.sample.uuid if outcome.sample else None,
    }


@router.post(
    "/sessions/{uuid:session_uuid}/scan",
    response=TestingScanOut,
    auth=staff_auth,
    summary="Scan an appointment QR, a personal QR or a tube barcode",
)
def session_scan(request: HttpRequest, session_uuid: UUID, payload: TestingScanIn) -> Any:
    actor = request_user(request)
    session = selectors.session_get_for_actor(actor=actor, session_uuid=session_uuid, related=False)
    return _scan_out(collection.scan_handle(actor=actor, session=session, text=payload.value))


@router.post(
    "/sessions/{uuid:session_uuid}/find",
    response=PersonBrief,
    auth=staff_auth,
    summary="Find a person by identity number (in the body, never in the URL)",
)
def session_find(request: HttpRequest, session_uuid: UUID, payload: FindIn) -> Any:
    actor = request_user(request)
    session = selectors.session_get_for_actor(actor=actor, session_uuid=session_uuid, related=False)
    person = collection.person_find_by_identity(
        actor=actor, session=session, id_number=payload.id_number
    )
    if person is None:
        raise NotFound()
    return person


@router.post(
    "/sessions/{uuid:session_uuid}/collect",
    response=TestingScanOut,
    auth=staff_auth,
    summary="Take the sample of a person found by identity number",
)
def session_collect(request: HttpRequest, session_uuid: UUID, payload: CollectIn) -> Any:
    from covidhub.people.models import Person

    actor = request_user(request)
    session = selectors.session_get_for_actor(actor=actor, session_uuid=session_uuid, related=False)
    person = Person.objects.filter(uuid=payload.person_uuid).first()
    if person is None:
        raise NotFound()
    appointment = collection._booked_appointment_for(person, session)
    return _scan_out(
        collection.person_to_tube(
            actor=actor, session=session, person=person, appointment=appointment
        )
    )


@router.post(
    "/sessions/{uuid:session_uuid}/walk-ins",
    response={201: TestingScanOut},
    auth=staff_auth,
    summary="Register a walk-in with the minimum fields and take their sample",
)
def session_walk_in(request: HttpRequest, session_uuid: UUID, payload: WalkInIn) -> Any:
    actor = request_user(request)
    session = selectors.session_get_for_actor(actor=actor, session_uuid=session_uuid, related=False)
    return 201, _scan_out(
        collection.walk_in_register(actor=actor, session=session, raw=payload.dict())
    )


@router.post(
    "/sessions/{uuid:session_uuid}/shipments",
    response={201: ShipmentOut},
    auth=staff_auth,
    summary="Hand the session's tubes over to a laboratory",
)
def session_ship(request: HttpRequest, session_uuid: UUID, payload: ShipmentIn) -> Any:
    actor = request_user(request)
    session = selectors.session_get_for_actor(actor=actor, session_uuid=session_uuid, related=False)
    lab = Lab.objects.filter(uuid=payload.lab_uuid).first()
    if lab is None:
        raise NotFound()
    return 201, collection.shipment_create(actor=actor, session=session, lab=lab)


@router.post(
    "/tubes/{uuid:tube_uuid}/close", response=TubeOut, auth=staff_auth, summary="Close a tube"
)
def tube_close(request: HttpRequest, tube_uuid: UUID) -> Tube:
    actor = request_user(request)
    tube = selectors.tube_get_for_sampler(actor=actor, tube_uuid=tube_uuid)
    return collection.tube_close(actor=actor, tube=tube)


@router.post(
    "/tubes/{uuid:tube_uuid}/rapid-result",
    response=TubeResultOut,
    auth=staff_auth,
    summary="Record a rapid antigen result on the spot",
)
def tube_rapid_result(request: HttpRequest, tube_uuid: UUID, payload: ValueIn) -> Any:
    actor = request_user(request)
    tube = selectors.tube_get_for_sampler(actor=actor, tube_uuid=tube_uuid)
    return results.rapid_result_record(actor=actor, tube=tube, value=payload.value)


@router.post(
    "/samples/{uuid:sample_uuid}/remove",
    auth=staff_auth,
    summary="Correction: take a person out of a tube (before handover)",
    response={204: None},
)
def sample_remove(request: HttpRequest, sample_uuid: UUID, payload: ReasonIn) -> Any:
    actor = request_user(request)
    sample = selectors.sample_get_for_actor(actor=actor, sample_uuid=sample_uuid)
    collection.sample_remove(actor=actor, sample=sample, reason=payload.reason)
    return 204, None


@router.post(
    "/samples/{uuid:sample_uuid}/move",
    auth=staff_auth,
    summary="Correction: move a sample to the right tube (before handover)",
    response={204: None},
)
def sample_move(request: HttpRequest, sample_uuid: UUID, payload: MoveSampleIn) -> Any:
    actor = request_user(request)
    sample = selectors.sample_get_for_actor(actor=actor, sample_uuid=sample_uuid)
    collection.sample_move(
        actor=actor, sample=sample, barcode=payload.barcode, reason=payload.reason
    )
    return 204, None


# Laboratories --------------------------------------------------------------------------


@router.get(
    "/labs/{lab_uuid}/shipments",
    response=list[ShipmentOut],
    auth=staff_auth,
    summary="Shipments sent to my laboratory",
)
def lab_shipments(request: HttpRequest, lab_uuid: UUID) -> list[Shipment]:
    actor = request_user(request)
    lab = lab_get(actor=actor, lab_uuid=lab_uuid)
    return selectors.shipments_for_lab(actor=actor, lab=lab)


@router.get(
    "/shipments/{uuid:shipment_uuid}", response=ShipmentOut, auth=staff_auth, summary="A shipment"
)
def shipment_detail(request: HttpRequest, shipment_uuid: UUID) -> Shipment:
    return selectors.shipment_get_for_actor(
        actor=request_user(request), shipment_uuid=shipment_uuid
    )


@router.post(
    "/shipments/{uuid:shipment_uuid}/receive",
    response=ShipmentOut,
    auth=staff_auth,
    summary="Receive a shipment by the scanned tube barcodes",
)
def shipment_receive(request: HttpRequest, shipment_uuid: UUID, payload: ReceiveIn) -> Any:
    actor = request_user(request)
    shipment = selectors.shipment_get_for_actor(actor=actor, shipment_uuid=shipment_uuid)
    if not labs_for_actor(actor).filter(pk=shipment.lab_id).exists():
        raise NotFound()
    return results.shipment_receive(actor=actor, shipment=shipment, barcodes=payload.barcodes)


@router.post(
    "/labs/{uuid:lab_uuid}/tubes/receive",
    response=TubeOut,
    auth=staff_auth,
    summary="Receive one late tube",
)
def lab_tube_receive(request: HttpRequest, lab_uuid: UUID, payload: BarcodeIn) -> Tube:
    actor = request_user(request)
    lab = lab_get(actor=actor, lab_uuid=lab_uuid)
    return results.tube_receive(actor=actor, lab=lab, barcode=payload.barcode)


@router.post(
    "/labs/{uuid:lab_uuid}/results",
    response={201: TubeResultOut},
    auth=staff_auth,
    summary="Record one tube's result",
)
def lab_result_record(request: HttpRequest, lab_uuid: UUID, payload: RecordIn) -> Any:
    actor = request_user(request)
    lab = lab_get(actor=actor, lab_uuid=lab_uuid)
    return 201, results.tube_result_record(
        actor=actor,
        lab=lab,
        barcode=payload.barcode,
        value=payload.value,
        ct_value=payload.ct_value,
    )


@router.post(
    "/labs/{uuid:lab_uuid}/imports",
    response={201: TestingImportOut},
    auth=staff_auth,
    summary="Upload an instrument export (CSV/XLSX) to check it",
)
def lab_import(request: HttpRequest, lab_uuid: UUID, file: File[UploadedFile]) -> Any:
    actor = request_user(request)
    lab = lab_get(actor=actor, lab_uuid=lab_uuid)
    content = file.read(imports.MAX_BYTES + 1)
    return 201, imports.import_validate(
        actor=actor, lab=lab, file_name=file.name or "results.csv", content=content
    )


@router.get(
    "/imports/{uuid:import_uuid}",
    response=TestingImportOut,
    auth=staff_auth,
    summary="A checked import",
)
def import_detail(request: HttpRequest, import_uuid: UUID) -> ImportBatch:
    return selectors.import_get_for_actor(actor=request_user(request), import_uuid=import_uuid)


@router.post(
    "/imports/{uuid:import_uuid}/commit",
    response={200: TestingImportOut, 202: LabImportJobOut},
    auth=staff_auth,
    summary="Import exactly the good rows, or nothing; a large file answers 202 and a job",
)
def import_commit(request: HttpRequest, import_uuid: UUID, payload: CommitIn) -> Any:
    actor = request_user(request)
    batch = selectors.import_get_for_actor(actor=actor, import_uuid=import_uuid)
    batch = imports.import_commit(
        actor=actor, batch=batch, import_good_rows=payload.import_good_rows
    )
    job = imports.import_job_of(batch) if payload.import_good_rows else None
    if job is not None:
        return Status(202, _job_out(job))
    return batch


@router.get(
    "/import-jobs/{uuid:job_uuid}",
    response=LabImportJobOut,
    auth=staff_auth,
    summary="The progress of my large result file (anyone else's: 404)",
)
def import_job(request: HttpRequest, job_uuid: UUID) -> Any:
    return _job_out(
        imports.import_job_get_for_lab_actor(actor=request_user(request), job_uuid=job_uuid)
    )


@router.post(
    "/tube-results/{uuid:tube_result_uuid}/amendments",
    response={201: AmendmentOut},
    auth=staff_auth,
    summary="Ask to correct a released result",
)
def amendment_request(request: HttpRequest, tube_result_uuid: UUID, payload: AmendIn) -> Any:
    actor = request_user(request)
    tube_result = selectors.tube_result_get_for_lab(actor=actor, tube_result_uuid=tube_result_uuid)
    return 201, results.amendment_request(
        actor=actor,
        tube_result=tube_result,
        new_value=payload.new_value,
        new_ct_value=payload.new_ct_value,
        reason=payload.reason,
    )


@router.get(
    "/labs/{uuid:lab_uuid}/amendments",
    response=list[AmendmentOut],
    auth=staff_auth,
    summary="Corrections waiting for approval",
)
def lab_amendments(request: HttpRequest, lab_uuid: UUID) -> list[Amendment]:
    actor = request_user(request)
    return selectors.amendments_pending_for_lab(
        actor=actor, lab=lab_get(actor=actor, lab_uuid=lab_uuid)
    )


@router.post(
    "/amendments/{uuid:amendment_uuid}/decide",
    response=AmendmentOut,
    auth=staff_auth,
    summary="Approve or reject a correction (another technician)",
)
def amendment_decide(request: HttpRequest, amendment_uuid: UUID, payload: DecideIn) -> Any:
    actor = request_user(request)
    amendment = selectors.amendment_get_for_actor(actor=actor, amendment_uuid=amendment_uuid)
    return results.amendment_decide(actor=actor, amendment=amendment, approve=payload.approve)


# Officers ------------------------------------------------------------------------------


@router.get("/rounds", response=list[RoundOut], auth=staff_auth, summary="Rounds in my area")
def rounds_list(request: HttpRequest) -> QuerySet[TestingRound]:
    return selectors.round_queryset_for_actor(actor=request_user(request))


@router.post(
    "/rounds", response={201: RoundOut}, auth=staff_auth, summary="Plan a mass-testing round"
)
def round_create(request: HttpRequest, payload: RoundIn) -> Any:
    actor = request_user(request)
    area = Area.objects.filter(code=payload.area_code, level__in=[2, 3]).first()
    if area is None:
        raise InvalidInput(
            details={"fields": {"area_code": [_("Choose a district or a commune.")]}}
        )
    sites = list(sites_for_actor(actor).filter(uuid__in=payload.site_uuids))
    if len(sites) != len(set(payload.site_uuids)):
        raise NotFound()
    return 201, registration.round_create(
        actor=actor,
        name=payload.name,
        area=area,
        sites=sites,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
        test_type=payload.test_type,
        pool_size=payload.pool_size,
        streets=payload.streets,
    )


@router.post(
    "/sites/{uuid:site_uuid}/slots",
    response={201: SlotOut},
    auth=staff_auth,
    summary="Open a time slot at a site",
)
def slot_create(request: HttpRequest, site_uuid: UUID, payload: SlotIn) -> Any:
    actor = request_user(request)
    site = sites_for_actor(actor).filter(uuid=parse_uuid(site_uuid)).first()
    if site is None:
        raise NotFound()
    return 201, registration.slot_create(
        actor=actor,
        site=site,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        capacity=payload.capacity,
        test_type=payload.test_type,
    )


@router.get("/cases", response=list[TestingCaseOut], auth=staff_auth, summary="Positive results")
def cases_list(request: HttpRequest) -> Listing[CaseReport]:
    return selectors.case_report_listing_for_actor(actor=request_user(request))


@router.get(
    "/cases/{uuid:case_uuid}",
    response=TestingCaseOut,
    auth=staff_auth,
    summary="One positive result",
)
def case_detail(request: HttpRequest, case_uuid: UUID) -> CaseReport:
    return selectors.case_report_get_for_actor(actor=request_user(request), case_uuid=case_uuid)


@router.get(
    "/board", response=list[BoardRowOut], auth=staff_auth, summary="Turnaround by site and lab"
)
def board(request: HttpRequest, days: int = 7, late_hours: int = 24) -> Any:
    actor = request_user(request)
    if not actor_scope(actor).has_role(*OFFICER_ROLES):
        raise NotFound()
    since = timezone.now() - datetime.timedelta(days=max(1, min(days, 60)))
    return selectors.turnaround_board(
        actor=actor, since=since, late_hours=max(1, min(late_hours, 240))
    )
