"""The station's work: alerts taken and closed, medicine kits, calls and visits (the
on-duty list is a configurable version: services/versions.py)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from covidhub.audit.services import audit_record
from covidhub.core.errors import InvalidInput
from covidhub.homecare.errors import AlertAlreadyClosed, OrderNotOpen
from covidhub.homecare.models import CareAlert, CareOrder, CareVisit, KitHandout
from covidhub.homecare.services.common import officer_required, role_of
from covidhub.homecare.services.orders import order_refer

# Tests turn this off to show that, without the row lock, two officers closing the same
# alert at once both succeed (the control of the race test).
LOCK_ALERT_ON_CLOSE = True


def _alert_locked(alert: CareAlert) -> CareAlert:
    qs = CareAlert.objects.select_related("order__person")
    if LOCK_ALERT_ON_CLOSE:
        qs = qs.select_for_update(of=("self",))
    return qs.get(pk=alert.pk)


@transaction.atomic
def alert_take(*, actor: Any, alert: CareAlert) -> CareAlert:
    """An officer takes an alert: its owner until it is closed."""
    alert = _alert_locked(alert)
    officer_required(actor, alert.commune_path)
    if alert.status != CareAlert.Status.OPEN:
        raise AlertAlreadyClosed()
    alert.owner = actor
    alert.save(update_fields=["owner", "updated_at"])
    audit_record(
        actor=actor,
        actor_role=role_of(actor),
        action="homecare.alert.taken",
        obj=alert,
        person_uuid=alert.order.person.uuid,
    )
    return alert


@transaction.atomic
def alert_close(
    *, actor: Any, alert: CareAlert, outcome: str, note: str = "", facility: str = ""
) -> CareAlert:
    """Close an alert once: the second of two officers closing it at once is told it was
    closed. Referred to hospital also refers the order."""
    from covidhub.homecare.services.orders import _text

    if outcome not in CareAlert.Outcome.values:
        raise InvalidInput(
            details={"fields": {"outcome": [_("Choose called, visited or referred.")]}}
        )
    note = _text(note, "note", 500)
    alert = _alert_locked(alert)
    officer_required(actor, alert.commune_path)
    if alert.status != CareAlert.Status.OPEN:
        raise AlertAlreadyClosed()
    if outcome == CareAlert.Outcome.REFERRED and not facility.strip():
        raise InvalidInput(
            details={"fields": {"facility": [_("Name the facility the person is referred to.")]}}
        )
    alert.status = CareAlert.Status.CLOSED
    alert.outcome = outcome
    alert.note = note
    alert.closed_by = actor
    alert.closed_at = timezone.now()
    alert.owner = alert.owner or actor
    alert.save(
        update_fields=["status", "outcome", "note", "closed_by", "closed_at", "owner", "updated_at"]
    )
    audit_record(
        actor=actor,
        actor_role=role_of(actor),
        action="homecare.alert.closed",
        obj=alert,
        person_uuid=alert.order.person.uuid,
        details={"outcome": outcome},
    )
    if outcome == CareAlert.Outcome.REFERRED and alert.order.status == CareOrder.Status.OPEN:
        order_refer(actor=actor, order=alert.order, facility=facility)
    elif outcome in (CareAlert.Outcome.CALLED, CareAlert.Outcome.VISITED):
        kind = CareVisit.Kind.CALL if outcome == CareAlert.Outcome.CALLED else CareVisit.Kind.VISIT
        CareVisit.objects.create(
            order=alert.order, kind=kind, at=alert.closed_at, note=note, by=actor
        )
    return alert


def _open_order(actor: Any, order: CareOrder) -> CareOrder:
    order = CareOrder.objects.select_for_update().select_related("person").get(pk=order.pk)
    officer_required(actor, order.commune_path)
    if order.status != CareOrder.Status.OPEN:
        raise OrderNotOpen()
    return order


@transaction.atomic
def kit_hand_out(*, actor: Any, order: CareOrder, kind: str, count: int) -> KitHandout:
    """Medicine packages of the ministry handed to a person under care."""
    if kind not in KitHandout.Kind.values:
        raise InvalidInput(details={"fields": {"kind": [_("Choose package A, B or C.")]}})
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 10:
        raise InvalidInput(details={"fields": {"count": [_("Enter a count from 1 to 10.")]}})
    order = _open_order(actor, order)
    kit = KitHandout.objects.create(
        order=order, kind=kind, count=count, handed_at=timezone.now(), handed_by=actor
    )
    audit_record(
        actor=actor,
        actor_role=role_of(actor),
        action="homecare.kit.handed_out",
        obj=kit,
        person_uuid=order.person.uuid,
        details={"kind": kind, "count": count},
    )
    return kit


@transaction.atomic
def visit_record(*, actor: Any, order: CareOrder, kind: str, note: str = "") -> CareVisit:
    from covidhub.homecare.services.orders import _text

    if kind not in CareVisit.Kind.values:
        raise InvalidInput(details={"fields": {"kind": [_("Choose a call or a visit.")]}})
    note = _text(note, "note", 500)
    order = _open_order(actor, order)
    visit = CareVisit.objects.create(order=order, kind=kind, at=timezone.now(), note=note, by=actor)
    audit_record(
        actor=actor,
        actor_role=role_of(actor),
        action="homecare.visit.recorded",
        obj=visit,
        person_uuid=order.person.uuid,
        details={"kind": kind},
    )
    return visit
