"""Sample collection: sessions, scans, tubes (single or pooled), walk-ins, corrections,
and the handover of a session's tubes to a laboratory."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from covidhub.audit.alerts import staff_lookup_charge
from covidhub.audit.services import audit_event_new, audit_record
from covidhub.core.errors import InvalidInput, NotFound
from covidhub.core.rawsql import constraint_of, model_rows
from covidhub.people.claims import identity_holder, identity_names_the_holder
from covidhub.people.errors import IdentityUnusable
from covidhub.people.models import Person
from covidhub.people.personal_qr import personal_qr_person
from covidhub.people.services import person_create
from covidhub.people.validation import person_input_clean
from covidhub.testing.codes import scan_parse
from covidhub.testing.errors import (
    AlreadyInTube,
    AppointmentUsed,
    HandedOver,
    ScanNotRecognised,
    SessionClosed,
    TubeFull,
    TubeNotOpen,
    TubeTaken,
)
from covidhub.testing.models import (
    Appointment,
    Lab,
    Sample,
    SamplingSession,
    Shipment,
    Site,
    Slot,
    TestingRound,
    TestType,
    Tube,
)
from covidhub.testing.scope import (
    role_of,
    sampling_site_checked,
    sampling_site_mark_checked,
    sampling_sites_for_actor,
)
from covidhub.testing.statements import sample_store, single_statement_supported

UNSHIPPED = (Tube.Status.OPEN, Tube.Status.CLOSED)


def _check_site(actor: Any, site: Site) -> None:
    _check_site_id(actor, site.pk)


def _check_site_id(actor: Any, site_id: int) -> None:
    # Checked once per request and site (a scan passes through several services; a
    # session found by `session_get_for_actor` was found among the actor's sites).
    if sampling_site_checked(actor, site_id):
        return
    if not sampling_sites_for_actor(actor).filter(pk=site_id).exists():
        raise NotFound()
    sampling_site_mark_checked(actor, site_id)


@transaction.atomic
def session_open(
    *,
    actor: Any,
    site: Site,
    testing_round: TestingRound | None = None,
    test_type: str = TestType.PCR,
    pool_size: int = 1,
) -> SamplingSession:
    """A sampler starts work at a site; a round's test type and pool size apply."""
    _check_site(actor, site)
    if testing_round is not None:
        if not testing_round.sites.filter(pk=site.pk).exists():
            raise InvalidInput(
                details={"fields": {"testing_round": [_("This site is not in the round.")]}}
            )
        test_type, pool_size = testing_round.test_type, testing_round.pool_size
    if test_type not in TestType.values:
        raise InvalidInput(details={"fields": {"test_type": [_("Choose the test type.")]}})
    if test_type == TestType.RAPID:
        pool_size = 1
    if not 1 <= pool_size <= 10:
        raise InvalidInput(
            details={"fields": {"pool_size": [_("Pool size must be between 1 and 10.")]}}
        )
    session = SamplingSession.objects.create(
        site=site,
        testing_round=testing_round,
        test_type=test_type,
        pool_size=pool_size,
        opened_by=actor,
    )
    audit_record(
        actor=actor, actor_role=role_of(actor), action="testing.session.opened", obj=session
    )
    return session


def _check_session(actor: Any, session: SamplingSession) -> None:
    _check_site_id(actor, session.site_id)
    if session.status != SamplingSession.Status.OPEN:
        raise SessionClosed()


@dataclass
class ScanOutcome:
    """What a scan did, for the sampler's screen: one line of feedback."""

    kind: str  # "tube_opened" | "sample_added" | "person_waiting"
    tube: Tube | None = None
    person: Person | None = None
    sample: Sample | None = None


def _person_for_appointment(code: str) -> tuple[Person, Appointment]:
    appointment = Appointment.objects.select_related("person").filter(code=code).first()
    if appointment is None:
        raise NotFound(_("No appointment has this code."), code="appointment_unknown")
    if appointment.status == Appointment.Status.COLLECTED:
        raise AppointmentUsed()
    if appointment.status == Appointment.Status.CANCELLED:
        raise NotFound(_("This appointment was cancelled."), code="appointment_cancelled")
    return appointment.person, appointment


def _open_tube_of(
    session: SamplingSession, *, lock: bool = False, person: Person | None = None
) -> Tube | None:
    """The session's open tube (locked if asked), by a plain statement: a scan's hot read."""
    annotate: list[tuple[str, str]] = []
    params: list[Any] = []
    if person is not None:
        # Read with the tube (one query): is the person already in it? A scan of the same
        # person committed while this one waited for the lock is not seen by this read; the
        # `sample_person_once_per_tube` constraint refuses it (see `_sample_add`).
        table, tube_table = Sample._meta.db_table, Tube._meta.db_table
        annotate.append(
            (
                "person_in_tube",
                f"EXISTS (SELECT 1 FROM {table} WHERE {table}.tube_id = {tube_table}.id "  # noqa: S608 - table names from model metadata
                f"AND {table}.person_id = %s AND {table}.status = %s)",
            )
        )
        params += [person.pk, Sample.Status.ACTIVE.value]
    found = model_rows(
        Tube,
        "session_id = %s AND status = %s",
        [*params, session.pk, Tube.Status.OPEN.value],
        order_by="id DESC",
        limit=1,
        for_update=lock,
        annotate=annotate,
    )
    if not found:
        return None
    tube = found[0]
    if person is not None:
        tube.person_in_tube = bool(tube.person_in_tube)  # type: ignore[attr-defined]  # 0/1 on SQLite
    return tube


@transaction.atomic
def scan_handle(*, actor: Any, session: SamplingSession, text: str) -> ScanOutcome:
    """One scan from the camera or a barcode scanner: a person joins the open tube, or
    waits for their tube; a tube barcode opens the next tube (taking a waiting person)."""
    _check_session(actor, session)
    scan = scan_parse(text)
    if scan is None:
        raise ScanNotRecognised()
    if scan.kind == "tube":
        # In this transaction, without a savepoint: a refusal rolls back the whole scan.
        tube = _tube_open(actor=actor, session=session, barcode=scan.value)
        return _take_waiting(actor, session, tube)
    appointment: Appointment | None = None
    if scan.kind == "appointment":
        person, appointment = _person_for_appointment(scan.value)
    else:
        # Refused tokens (forged, expired, revoked card) raise with their own message.
        person = personal_qr_person(scan.value)
        appointment = _booked_appointment_for(person, session)
    staff_lookup_charge(actor=actor, person_uuid=person.uuid)
    return person_to_tube(actor=actor, session=session, person=person, appointment=appointment)


def _booked_appointment_for(person: Person, session: SamplingSession) -> Appointment | None:
    """A person who shows a personal QR: use their booked appointment here, if any."""
    slots, appointments = Slot._meta.db_table, Appointment._meta.db_table
    booked = model_rows(
        Appointment,
        "person_id = %s AND status = %s",
        [person.pk, Appointment.Status.BOOKED.value],
        order_by="created_at",
        limit=20,
        annotate=[
            (
                "slot_site_id",
                f"(SELECT site_id FROM {slots} WHERE {slots}.id = {appointments}.slot_id)",  # noqa: S608 - table names from model metadata
            )
        ],
    )
    for wanted in (
        lambda a: session.testing_round_id and a.testing_round_id == session.testing_round_id,
        lambda a: a.slot_id is not None and a.slot_site_id == session.site_id,
        lambda a: a.kind == Appointment.Kind.RETEST,
    ):
        match = next((a for a in booked if wanted(a)), None)
        if match is not None:
            return match
    return None


def person_to_tube(
    *,
    actor: Any,
    session: SamplingSession,
    person: Person,
    appointment: Appointment | None = None,
) -> ScanOutcome:
    """Put an identified person into the open tube, or make them wait for the next tube.

    The open tube is locked as it is found (one query, not a read and then a lock); the
    appointment, if any, is locked before it, in the order `sample_collect` takes them.
    """
    with transaction.atomic(savepoint=False):
        _check_session(actor, session)
        locked_appointment = _appointment_lock(appointment)
        tube = _open_tube_of(session, lock=True, person=person)
        if tube is None or tube.member_count >= tube.capacity:
            SamplingSession.objects.filter(pk=session.pk).update(
                pending_person=person, pending_appointment=appointment
            )
            session.pending_person, session.pending_appointment = person, appointment
            audit_record(
                actor=actor,
                actor_role=role_of(actor),
                action="testing.sample.person_identified",
                obj=session,
                person_uuid=person.uuid,
            )
            return ScanOutcome("person_waiting", person=person)
        _appointment_check(locked_appointment, person)
        sample = _sample_add(actor=actor, tube=tube, person=person, appointment=appointment)
        return ScanOutcome("sample_added", tube=sample.tube, person=person, sample=sample)


def _take_waiting(actor: Any, session: SamplingSession, tube: Tube) -> ScanOutcome:
    fresh = SamplingSession.objects.select_related("pending_person", "pending_appointment").get(
        pk=session.pk
    )
    if fresh.pending_person is None:
        return ScanOutcome("tube_opened", tube=tube)
    person, appointment = fresh.pending_person, fresh.pending_appointment
    SamplingSession.objects.filter(pk=session.pk).update(
        pending_person=None, pending_appointment=None
    )
    sample = sample_collect(
        actor=actor, session=session, tube=tube, person=person, appointment=appointment
    )
    return ScanOutcome("sample_added", tube=sample.tube, person=person, sample=sample)


@transaction.atomic
def tube_open(*, actor: Any, session: SamplingSession, barcode: str) -> Tube:
    """Start a new tube in the session; the previous open tube is closed (an empty one is
    dropped). Scanning the session's current tube again just returns it."""
    return _tube_open(actor=actor, session=session, barcode=barcode)


def _tube_open(*, actor: Any, session: SamplingSession, barcode: str) -> Tube:
    # In the caller's transaction: a refusal raised here must roll it (or its savepoint) back.
    _check_session(actor, session)
    existing = Tube.objects.filter(barcode=barcode).first()
    if existing is not None:
        if existing.session_id != session.pk:
            raise TubeTaken()
        if existing.status != Tube.Status.OPEN:
            raise TubeNotOpen()
        return existing
    now = timezone.now()
    for previous in Tube.objects.select_for_update().filter(
        session=session, status=Tube.Status.OPEN
    ):
        if previous.member_count == 0 and not previous.samples.exists():
            previous.delete()
        else:
            previous.status, previous.closed_at = Tube.Status.CLOSED, now
            previous.save(update_fields=["status", "closed_at"])
    capacity = 1 if session.test_type == TestType.RAPID else session.pool_size
    try:
        # No savepoint: the same barcode taken at the same moment refuses the whole scan
        # (the error leaves the transaction, which rolls back).
        tube = Tube.objects.create(
            barcode=barcode,
            session=session,
            site_id=session.site_id,
            test_type=session.test_type,
            capacity=capacity,
        )
    except IntegrityError as exc:
        raise TubeTaken() from exc
    audit_record(actor=actor, actor_role=role_of(actor), action="testing.tube.opened", obj=tube)
    return tube


@transaction.atomic
def tube_close(*, actor: Any, tube: Tube) -> Tube:
    """Close a pooled tube before it is full (the end of a queue)."""
    _check_site(actor, tube.site)
    locked = Tube.objects.select_for_update().get(pk=tube.pk)
    if locked.status != Tube.Status.OPEN:
        raise TubeNotOpen()
    if locked.member_count == 0 and not locked.samples.exists():
        locked.delete()
        return locked
    locked.status, locked.closed_at = Tube.Status.CLOSED, timezone.now()
    locked.save(update_fields=["status", "closed_at"])
    audit_record(actor=actor, actor_role=role_of(actor), action="testing.tube.closed", obj=locked)
    return locked


@transaction.atomic(savepoint=False)
def sample_collect(
    *,
    actor: Any,
    session: SamplingSession,
    tube: Tube,
    person: Person,
    appointment: Appointment | None = None,
) -> Sample:
    """One person's swab into a tube. The tube's row lock and its `member_count <=
    capacity` constraint keep a pool from overfilling; a full tube closes itself."""
    _check_session(actor, session)
    _appointment_check(_appointment_lock(appointment), person)
    # The tube may have been closed, or dropped empty, by a tube scanned at the same moment.
    locked = Tube.objects.select_for_update().filter(pk=tube.pk).first()
    if locked is None or locked.session_id != session.pk or locked.status != Tube.Status.OPEN:
        raise TubeNotOpen()
    return _sample_add(actor=actor, tube=locked, person=person, appointment=appointment)


def _appointment_lock(appointment: Appointment | None) -> Appointment | None:
    # Lock order: the appointment first, then the tube.
    if appointment is None:
        return None
    return Appointment.objects.select_for_update().get(pk=appointment.pk)


def _appointment_check(locked: Appointment | None, person: Person) -> None:
    if locked is None:
        return
    if locked.status != Appointment.Status.BOOKED:
        raise AppointmentUsed()
    if locked.person_id != person.pk:
        raise InvalidInput(_("This appointment belongs to someone else."))


def _sample_add(
    *, actor: Any, tube: Tube, person: Person, appointment: Appointment | None
) -> Sample:
    # `tube` is locked, open and in the session; the appointment (if any) locked and checked.
    if tube.member_count >= tube.capacity:
        raise TubeFull()
    already = getattr(tube, "person_in_tube", None)
    if already is None:
        already = Sample.objects.filter(
            tube=tube, person=person, status=Sample.Status.ACTIVE
        ).exists()
    if already:
        raise AlreadyInTube()
    sample = Sample(tube=tube, person=person, appointment=appointment, collected_by=actor)
    tube.member_count += 1
    fields = ["member_count"]
    if tube.member_count >= tube.capacity:
        tube.status, tube.closed_at = Tube.Status.CLOSED, timezone.now()
        fields += ["status", "closed_at"]
    try:
        if single_statement_supported():
            event = audit_event_new(
                actor=actor,
                actor_role=role_of(actor),
                action="testing.sample.collected",
                obj=sample,
                person_uuid=person.uuid,
                details={"tube": str(tube.uuid)},
            )
            sample_store(
                sample=sample, tube=tube, event=event, appointment_collected_at=timezone.now()
            )
        else:
            _sample_add_orm(actor=actor, sample=sample, tube=tube, fields=fields)
    except IntegrityError as exc:
        tube.member_count -= 1
        # The same person scanned twice at the same moment (see `_open_tube_of`): the
        # error leaves the transaction, which rolls back.
        if constraint_of(exc) == "sample_person_once_per_tube":
            raise AlreadyInTube() from exc
        raise
    sample.tube = tube
    return sample


def _sample_add_orm(*, actor: Any, sample: Sample, tube: Tube, fields: list[str]) -> None:
    sample.save(force_insert=True)
    tube.save(update_fields=fields)
    if sample.appointment_id is not None:
        Appointment.objects.filter(pk=sample.appointment_id).update(
            status=Appointment.Status.COLLECTED, updated_at=timezone.now()
        )
    audit_record(
        actor=actor,
        actor_role=role_of(actor),
        action="testing.sample.collected",
        obj=sample,
        person_uuid=sample.person.uuid,
        details={"tube": str(tube.uuid)},
    )


def person_find_by_identity(
    *, actor: Any, session: SamplingSession, id_number: str
) -> Person | None:
    """The sampler types an identity number (sent in a POST body, never a URL)."""
    _check_session(actor, session)
    digits = "".join(ch for ch in (id_number or "") if ch.isalnum()).upper()
    if len(digits) < 6:
        raise InvalidInput(
            details={"fields": {"id_number": [_("Enter the whole identity number.")]}}
        )
    _identity_number_charge(actor=actor, id_number=digits)
    person = Person.objects.filter(id_number=digits).select_related("commune").first()
    with transaction.atomic():
        audit_record(
            actor=actor,
            actor_role=role_of(actor),
            action="testing.person.found_by_identity",
            obj=person or session,
            details={"found": person is not None},
        )
    return person


def _identity_number_charge(*, actor: Any, id_number: str) -> None:
    """Charge a typed identity number against the staff look-up budget, whether or not
    anyone holds it: typing numbers is how one would enumerate them."""
    staff_lookup_charge(actor=actor, person_uuid=uuid.uuid5(uuid.NAMESPACE_OID, id_number))


def walk_in_register(*, actor: Any, session: SamplingSession, raw: dict[str, Any]) -> ScanOutcome:
    """Register someone with no appointment with the minimum fields, then place them.

    A number nobody holds makes a new person. A number held by a record that the name and
    birth match (`identity_names_the_holder`) is that person, who came without booking:
    they are placed, their record unchanged. Any other held number is `IdentityUnusable`,
    worded like the import's row error, so that the answer does not say the number is
    registered elsewhere; every number typed is charged as a look-up.
    """
    _check_session(actor, session)
    data = person_input_clean(raw)
    if data.id_number:
        _identity_number_charge(actor=actor, id_number=data.id_number)
    with transaction.atomic():
        holder = identity_holder(id_type=data.id_type, id_number=data.id_number, exclude_pk=None)
        if holder is None:
            person = person_create(actor=actor, data=data)
        elif identity_names_the_holder(holder=holder, data=data):
            person = holder
            audit_record(
                actor=actor,
                actor_role=role_of(actor),
                action="testing.walk_in.matched",
                obj=session,
                person_uuid=person.uuid,
                details={},
            )
        else:
            person = None
        if person is not None:
            return person_to_tube(actor=actor, session=session, person=person)
    with transaction.atomic():
        audit_record(
            actor=actor,
            actor_role=role_of(actor),
            action="testing.walk_in.identity_refused",
            obj=session,
            details={},
        )
    raise IdentityUnusable()


def _correctable(sample: Sample) -> Tube:
    tube = Tube.objects.select_for_update().get(pk=sample.tube_id)
    if tube.status not in UNSHIPPED:
        raise HandedOver()
    return tube


@transaction.atomic
def sample_remove(*, actor: Any, sample: Sample, reason: str) -> Sample:
    """Take a wrongly placed person out of a tube before handover (reason required)."""
    _check_site(actor, sample.tube.site)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            details={"fields": {"reason": [_("Give the reason for the correction.")]}}
        )
    if sample.appointment_id:
        Appointment.objects.select_for_update().filter(pk=sample.appointment_id).first()
    tube = _correctable(sample)
    locked = Sample.objects.select_for_update().get(pk=sample.pk)
    if locked.status != Sample.Status.ACTIVE:
        raise NotFound()
    locked.status, locked.removed_reason = Sample.Status.REMOVED, reason[:200]
    locked.save(update_fields=["status", "removed_reason"])
    Tube.objects.filter(pk=tube.pk).update(member_count=F("member_count") - 1)
    if locked.appointment_id:
        Appointment.objects.filter(pk=locked.appointment_id).update(
            status=Appointment.Status.BOOKED
        )
    audit_record(
        actor=actor,
        actor_role=role_of(actor),
        action="testing.sample.removed",
        obj=locked,
        person_uuid=locked.person.uuid,
        details={"tube": str(tube.uuid), "reason": reason[:200]},
    )
    return locked


@transaction.atomic
def sample_move(*, actor: Any, sample: Sample, barcode: str, reason: str) -> Sample:
    """Move a sample recorded in the wrong tube to the right one (same session)."""
    _check_site(actor, sample.tube.site)
    if not (reason or "").strip():
        raise InvalidInput(
            details={"fields": {"reason": [_("Give the reason for the correction.")]}}
        )
    target = Tube.objects.filter(barcode=(barcode or "").strip().upper()).first()
    if target is None or target.session_id != sample.tube.session_id:
        raise InvalidInput(details={"fields": {"barcode": [_("Scan a tube of this session.")]}})
    if target.pk == sample.tube_id:
        return sample
    # Fixed lock order for tubes: by id.
    for tube_id in sorted([sample.tube_id, target.pk]):
        tube = Tube.objects.select_for_update().get(pk=tube_id)
        if tube.status not in UNSHIPPED:
            raise HandedOver()
    target.refresh_from_db()
    if target.member_count >= target.capacity:
        raise TubeFull()
    if Sample.objects.filter(tube=target, person_id=sample.person_id, status="active").exists():
        raise AlreadyInTube()
    source_id = sample.tube_id
    Sample.objects.filter(pk=sample.pk).update(tube=target)
    Tube.objects.filter(pk=source_id).update(member_count=F("member_count") - 1)
    Tube.objects.filter(pk=target.pk).update(member_count=F("member_count") + 1)
    sample.refresh_from_db()
    audit_record(
        actor=actor,
        actor_role=role_of(actor),
        action="testing.sample.moved",
        obj=sample,
        person_uuid=sample.person.uuid,
        details={"to_tube": str(target.uuid), "reason": reason.strip()[:200]},
    )
    return sample


@transaction.atomic
def shipment_create(*, actor: Any, session: SamplingSession, lab: Lab) -> Shipment:
    """Hand the session's collected PCR tubes to a laboratory (open tubes are closed)."""
    _check_site_id(actor, session.site_id)
    SamplingSession.objects.select_for_update().filter(pk=session.pk).first()
    now = timezone.now()
    tubes = list(
        Tube.objects.select_for_update()
        .filter(session=session, status__in=UNSHIPPED, test_type=TestType.PCR)
        .order_by("id")
    )
    empty = [t.pk for t in tubes if t.member_count == 0]
    if empty:
        # Tubes never used are dropped; emptied by corrections, they stay closed and unsent.
        Tube.objects.filter(pk__in=empty, samples__isnull=True).delete()
        Tube.objects.filter(pk__in=empty).update(status=Tube.Status.CLOSED)
    tubes = [t for t in tubes if t.member_count > 0]
    if not tubes:
        raise InvalidInput(_("There are no tubes to hand over."), code="nothing_to_ship")
    shipment = Shipment.objects.create(
        session=session, site_id=session.site_id, lab=lab, sent_by=actor
    )
    Tube.objects.filter(pk__in=[t.pk for t in tubes]).update(
        status=Tube.Status.SHIPPED, shipment=shipment, lab=lab, shipped_at=now
    )
    Tube.objects.filter(pk__in=[t.pk for t in tubes], closed_at__isnull=True).update(closed_at=now)
    audit_record(
        actor=actor,
        actor_role=role_of(actor),
        action="testing.shipment.sent",
        obj=shipment,
        details={"tubes": len(tubes)},
    )
    return shipment


@transaction.atomic
def session_close(*, actor: Any, session: SamplingSession) -> SamplingSession:
    _check_site_id(actor, session.site_id)
    session.status, session.closed_at = SamplingSession.Status.CLOSED, timezone.now()
    session.save(update_fields=["status", "closed_at"])
    return session
