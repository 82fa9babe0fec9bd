"""Laboratory work: receiving shipments, recording tube results one by one, rapid results
on the spot, and amending a released result with a second technician's approval."""

from __future__ import annotations

import decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from covidhub.audit.services import audit_record
from covidhub.clients.selectors import is_machine_account
from covidhub.core.errors import InvalidInput, NotFound
from covidhub.testing.codes import barcode_normalise
from covidhub.testing.errors import (
    AmendmentDecided,
    AmendmentPending,
    AmendmentSelfApproval,
    ResultAlreadyRecorded,
    ShipmentReceived,
    TubeNotReceived,
)
from covidhub.testing.models import (
    Amendment,
    Appointment,
    CaseReport,
    Lab,
    Result,
    Shipment,
    TestType,
    Tube,
    TubeResult,
)
from covidhub.testing.registration import retest_appointments_create
from covidhub.testing.release import (
    case_reports_create,
    notify_enqueue,
    outcome_for,
    results_recorded_announce,
    results_release,
)
from covidhub.testing.scope import labs_for_actor, role_of, sampling_sites_for_actor

# The row lock that serialises two technicians recording the same tube. A module-level
# switch so that the concurrency test's control run can prove the race is real.
LOCK_TUBES = True

VALUE_ALIASES = {
    "negative": TubeResult.Value.NEGATIVE,
    "neg": TubeResult.Value.NEGATIVE,
    "n": TubeResult.Value.NEGATIVE,
    "am tinh": TubeResult.Value.NEGATIVE,
    "âm tính": TubeResult.Value.NEGATIVE,
    "not detected": TubeResult.Value.NEGATIVE,
    "positive": TubeResult.Value.POSITIVE,
    "pos": TubeResult.Value.POSITIVE,
    "p": TubeResult.Value.POSITIVE,
    "duong tinh": TubeResult.Value.POSITIVE,
    "dương tính": TubeResult.Value.POSITIVE,
    "detected": TubeResult.Value.POSITIVE,
    "invalid": TubeResult.Value.INVALID,
    "inv": TubeResult.Value.INVALID,
    "khong hop le": TubeResult.Value.INVALID,
    "không hợp lệ": TubeResult.Value.INVALID,
}


def value_parse(text: Any) -> str | None:
    import unicodedata

    key = unicodedata.normalize("NFC", str(text or "")).strip().lower()
    return VALUE_ALIASES.get(key)


def ct_parse(text: Any) -> decimal.Decimal | None:
    """'' → None; '23.4' / '23,4' → Decimal; anything else or out of 0–50 raises."""
    raw = str(text if text is not None else "").strip().replace(",", ".")
    if not raw:
        return None
    try:
        value = decimal.Decimal(raw).quantize(decimal.Decimal("0.1"))
    except (decimal.InvalidOperation, ValueError) as exc:
        raise ValueError("ct") from exc
    if not decimal.Decimal(0) <= value <= decimal.Decimal(50):
        raise ValueError("ct")
    return value


def _check_lab(actor: Any, lab: Lab) -> None:
    if not labs_for_actor(actor).filter(pk=lab.pk).exists():
        raise NotFound()


@transaction.atomic
def shipment_receive(*, actor: Any, shipment: Shipment, barcodes: list[str]) -> Shipment:
    """The lab scans what arrived; unscanned tubes are missing, foreign ones unexpected,
    and both sides are told."""
    _check_lab(actor, shipment.lab)
    locked = Shipment.objects.select_for_update().get(pk=shipment.pk)
    if locked.status != Shipment.Status.SENT:
        raise ShipmentReceived()
    scanned = {b for b in (barcode_normalise(x) for x in barcodes) if b}
    now = timezone.now()
    tubes = {t.barcode: t for t in Tube.objects.select_for_update().filter(shipment=locked)}
    arrived = [t.pk for code, t in tubes.items() if code in scanned]
    missing = sorted(code for code in tubes if code not in scanned)
    unexpected = sorted(code for code in scanned if code not in tubes)
    Tube.objects.filter(pk__in=arrived).update(status=Tube.Status.RECEIVED, received_at=now)
    Tube.objects.filter(shipment=locked, barcode__in=missing).update(status=Tube.Status.MISSING)
    locked.status, locked.received_at, locked.received_by = Shipment.Status.RECEIVED, now, actor
    locked.missing_barcodes, locked.unexpected_barcodes = missing, unexpected
    locked.save()
    audit_record(
        actor=actor,
        actor_role=role_of(actor),
        action="testing.shipment.received",
        obj=locked,
        details={"received": len(arrived), "missing": len(missing), "unexpected": len(unexpected)},
    )
    if missing or unexpected:
        from covidhub.testing.notify import shipment_tell_discrepancy

        for user in {locked.sent_by, actor}:
            shipment_tell_discrepancy(
                user=user, missing=len(missing), unexpected=len(unexpected), key=str(locked.uuid)
            )
    return locked


@transaction.atomic
def tube_receive(*, actor: Any, lab: Lab, barcode: str) -> Tube:
    """Receive one tube of this lab that arrived late (it was reported missing)."""
    _check_lab(actor, lab)
    code = barcode_normalise(barcode)
    tube = Tube.objects.select_for_update().filter(barcode=code or "", lab=lab).first()
    if tube is None:
        raise NotFound(_("No tube with this barcode was sent to this laboratory."))
    if tube.status in (Tube.Status.SHIPPED, Tube.Status.MISSING):
        tube.status, tube.received_at = Tube.Status.RECEIVED, timezone.now()
        tube.save(update_fields=["status", "received_at"])
        audit_record(
            actor=actor, actor_role=role_of(actor), action="testing.tube.received", obj=tube
        )
    return tube


def _value_or_error(value: str) -> str:
    parsed = value_parse(value)
    if parsed is None:
        raise InvalidInput(
            details={"fields": {"value": [_("Choose negative, positive or invalid.")]}}
        )
    return parsed


def _ct_or_error(ct: Any) -> decimal.Decimal | None:
    try:
        return ct_parse(ct)
    except ValueError as exc:
        raise InvalidInput(
            details={"fields": {"ct_value": [_("Enter a Ct value between 0 and 50.")]}}
        ) from exc


@transaction.atomic
def tube_result_record(
    *, actor: Any, lab: Lab, barcode: str, value: str, ct_value: Any = None
) -> TubeResult:
    """Record and release one tube's result; a second recording is a clear conflict."""
    _check_lab(actor, lab)
    parsed, ct = _value_or_error(value), _ct_or_error(ct_value)
    code = barcode_normalise(barcode) or ""
    qs = Tube.objects.filter(barcode=code, lab=lab)
    if LOCK_TUBES:
        qs = qs.select_for_update()
    tube = qs.first()
    if tube is None:
        raise NotFound(_("No tube with this barcode was sent to this laboratory."))
    if tube.status == Tube.Status.RESULTED:
        raise ResultAlreadyRecorded()
    if tube.status != Tube.Status.RECEIVED:
        raise TubeNotReceived()
    return _record(actor=actor, tube=tube, lab=lab, value=parsed, ct=ct)


def _record(
    *, actor: Any, tube: Tube, lab: Lab | None, value: str, ct: decimal.Decimal | None
) -> TubeResult:
    now = timezone.now()
    tube_result = TubeResult.objects.create(
        tube=tube, lab=lab, value=value, ct_value=ct, recorded_by=actor, recorded_at=now
    )
    audit_record(
        actor=actor,
        actor_role=role_of(actor),
        action="testing.tube_result.recorded",
        obj=tube_result,
        details={"tube": str(tube.uuid), "value": value},
    )
    results_release(
        actor=actor, actor_role=role_of(actor), tube_result_ids=[tube_result.pk], released_at=now
    )
    return tube_result


@transaction.atomic
def rapid_result_record(*, actor: Any, tube: Tube, value: str) -> TubeResult:
    """A rapid antigen result read on the spot by the sampler."""
    if not sampling_sites_for_actor(actor).filter(pk=tube.site_id).exists():
        raise NotFound()
    parsed = _value_or_error(value)
    locked = Tube.objects.select_for_update().get(pk=tube.pk)
    if locked.test_type != TestType.RAPID:
        raise InvalidInput(_("Only rapid antigen tests are read on the spot."))
    if locked.status == Tube.Status.RESULTED:
        raise ResultAlreadyRecorded()
    if locked.member_count == 0:
        raise InvalidInput(_("No one's sample is in this test yet."))
    return _record(actor=actor, tube=locked, lab=None, value=parsed, ct=None)


@transaction.atomic
def amendment_request(
    *, actor: Any, tube_result: TubeResult, new_value: str, new_ct_value: Any, reason: str
) -> Amendment:
    """A technician asks to correct a released result; another must approve it."""
    if tube_result.lab is None:
        raise NotFound()
    _check_lab(actor, tube_result.lab)
    parsed, ct = _value_or_error(new_value), _ct_or_error(new_ct_value)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            details={"fields": {"reason": [_("Give the reason for the correction.")]}}
        )
    if parsed == tube_result.value and ct == tube_result.ct_value:
        raise InvalidInput(
            details={"fields": {"value": [_("This is the recorded result already.")]}}
        )
    try:
        with transaction.atomic():
            amendment = Amendment.objects.create(
                tube_result=tube_result,
                old_value=tube_result.value,
                new_value=parsed,
                new_ct_value=ct,
                reason=reason[:300],
                requested_by=actor,
            )
    except IntegrityError as exc:
        raise AmendmentPending() from exc
    audit_record(
        actor=actor,
        actor_role=role_of(actor),
        action="testing.amendment.requested",
        obj=amendment,
        details={"from": tube_result.value, "to": parsed},
    )
    return amendment


@transaction.atomic
def amendment_decide(*, actor: Any, amendment: Amendment, approve: bool) -> Amendment:
    """A second technician of the same lab approves (the correction is applied, every
    person told) or rejects it."""
    tube_result = TubeResult.objects.select_related("lab").get(pk=amendment.tube_result_id)
    if tube_result.lab is None:
        raise NotFound()
    _check_lab(actor, tube_result.lab)
    # Four eyes are two people: neither the one who asked nor a system approves.
    if amendment.requested_by_id == actor.pk or is_machine_account(actor):
        raise AmendmentSelfApproval()
    Tube.objects.select_for_update().filter(pk=tube_result.tube_id).first()
    tube_result = TubeResult.objects.select_for_update().get(pk=tube_result.pk)
    locked = Amendment.objects.select_for_update().get(pk=amendment.pk)
    if locked.status != Amendment.Status.PENDING:
        raise AmendmentDecided()
    now = timezone.now()
    locked.status = Amendment.Status.APPROVED if approve else Amendment.Status.REJECTED
    locked.decided_by, locked.decided_at = actor, now
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    audit_record(
        actor=actor,
        actor_role=role_of(actor),
        action="testing.amendment.approved" if approve else "testing.amendment.rejected",
        obj=locked,
    )
    if approve:
        _apply_amendment(actor, tube_result, locked, now)
    return locked


def _apply_amendment(actor: Any, tube_result: TubeResult, amendment: Amendment, now: Any) -> None:
    tube_result.value, tube_result.ct_value = amendment.new_value, amendment.new_ct_value
    tube_result.version = F("version") + 1
    tube_result.save(update_fields=["value", "ct_value", "version"])
    results = list(Result.objects.filter(tube_result=tube_result).select_related("person"))
    pooled = len(results) > 1
    retests, positives, not_retest, not_positive = [], [], [], []
    for result in results:
        result.outcome = outcome_for(amendment.new_value, 2 if pooled else 1)
        result.version += 1
        result.amended_at = now
        if result.needs_retest:
            retests.append((result.pk, result.person_id))
        else:
            not_retest.append(result.pk)
        if result.outcome == Result.Outcome.POSITIVE:
            positives.append((result.pk, result.person_id, result.commune_id, result.commune_path))
        else:
            not_positive.append(result.pk)
        audit_record(
            actor=actor,
            actor_role=role_of(actor),
            action="testing.result.amended",
            obj=result,
            person_uuid=result.person.uuid,
            details={"amendment": str(amendment.uuid)},
        )
    Result.objects.bulk_update(results, ["outcome", "version", "amended_at"])
    results_recorded_announce(results=Result.objects.filter(tube_result=tube_result))
    retest_appointments_create(result_rows=retests)
    Appointment.objects.filter(
        retest_of_id__in=not_retest, status=Appointment.Status.BOOKED
    ).update(status=Appointment.Status.CANCELLED)
    case_reports_create(rows=positives)
    CaseReport.objects.filter(result_id__in=not_positive, withdrawn_at__isnull=True).update(
        withdrawn_at=now
    )
    notify_enqueue(count=len(results))
