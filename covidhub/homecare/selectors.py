"""Reads of home care. Staff reads are scoped to the actor's areas (default deny: no role,
no area, no rows) and every read of a person's health data is audited."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Case, Count, F, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from covidhub.accounts.models import User
from covidhub.accounts.scoping import OFFICER_ROLES, actor_scope, area_path_q, primary_role
from covidhub.audit.services import audit_record, audit_record_each, audit_record_many
from covidhub.core.errors import NotFound
from covidhub.homecare.models import (
    CareAlert,
    CareOrder,
    CareProtocol,
    CareVisit,
    KitHandout,
    SelfCheck,
    StationDuty,
)
from covidhub.homecare.protocol import rules_of
from covidhub.people.models import Person


def _uuid(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise NotFound() from exc


def _is_staff(actor: Any) -> bool:
    return getattr(actor, "kind", "") == User.Kind.STAFF


def order_queryset_for_actor(*, actor: Any) -> QuerySet[CareOrder]:
    """The orders the actor may see: a citizen their household's, an officer their areas'."""
    if not getattr(actor, "is_authenticated", False):
        return CareOrder.objects.none()
    if getattr(actor, "kind", "") == User.Kind.CITIZEN:
        return CareOrder.objects.filter(person__managed_by=actor)
    return CareOrder.objects.filter(area_path_q(actor_scope(actor), "commune_path"))


def alert_queryset_for_actor(*, actor: Any) -> QuerySet[CareAlert]:
    if not _is_staff(actor):
        return CareAlert.objects.none()
    return CareAlert.objects.filter(area_path_q(actor_scope(actor), "commune_path"))


def _audit_read(actor: Any, action: str, obj: Any, person_uuid: uuid.UUID) -> None:
    if _is_staff(actor):
        with transaction.atomic():
            audit_record(
                actor=actor,
                actor_role=primary_role(actor_scope(actor)),
                action=action,
                obj=obj,
                person_uuid=person_uuid,
            )


def order_get_for_actor(*, actor: Any, order_uuid: Any) -> CareOrder:
    """One order within the actor's reach (NotFound otherwise); a staff read is audited."""
    order = (
        order_queryset_for_actor(actor=actor)
        .select_related("person", "commune", "protocol", "source_order__person")
        .filter(uuid=_uuid(order_uuid))
        .first()
    )
    if order is None:
        raise NotFound()
    _audit_read(actor, "homecare.order.viewed", order, order.person.uuid)
    return order


def alert_get_for_actor(*, actor: Any, alert_uuid: Any) -> CareAlert:
    alert = (
        alert_queryset_for_actor(actor=actor)
        .select_related("order__person", "self_check", "owner", "closed_by")
        .filter(uuid=_uuid(alert_uuid))
        .first()
    )
    if alert is None:
        raise NotFound()
    _audit_read(actor, "homecare.alert.viewed", alert, alert.order.person.uuid)
    return alert


def order_checks(order: CareOrder, *, limit: int = 60) -> list[SelfCheck]:
    return list(SelfCheck.objects.filter(order=order).order_by("-measured_at", "-id")[:limit])


def household_orders(*, account: Any) -> list[CareOrder]:
    """The open and recent orders of the people the account manages."""
    if not getattr(account, "is_authenticated", False):
        return []
    recent = timezone.localdate() - datetime.timedelta(days=30)
    return list(
        CareOrder.objects.filter(person__managed_by=account)
        .filter(Q(status=CareOrder.Status.OPEN) | Q(start_date__gte=recent))
        .exclude(status=CareOrder.Status.SUPERSEDED)
        .select_related("person", "protocol")
        .order_by("-start_date", "-id")
    )


def household_order_get(*, account: Any, order_uuid: Any) -> CareOrder:
    order = (
        CareOrder.objects.filter(person__managed_by_id=getattr(account, "pk", None))
        .select_related("person", "protocol", "commune")
        .filter(uuid=_uuid(order_uuid))
        .first()
    )
    if order is None:
        raise NotFound()
    return order


def commune_of_actor(*, actor: Any, code: str | None) -> Any:
    """The commune whose day the actor opens: the asked one within scope, or their own."""
    from covidhub.areas.models import Area

    scope = actor_scope(actor)
    if not scope.has_role(*OFFICER_ROLES):
        raise NotFound()
    communes = Area.objects.filter(level=3).filter(area_path_q(scope, "path"))
    commune = communes.filter(code=code).first() if code else communes.order_by("path").first()
    if commune is None:
        raise NotFound()
    return commune


def communes_of_actor(*, actor: Any, limit: int = 400) -> list[Any]:
    from covidhub.areas.models import Area

    scope = actor_scope(actor)
    return list(
        Area.objects.filter(level=3).filter(area_path_q(scope, "path")).order_by("path")[:limit]
    )


def contacts_to_confirm(*, actor: Any, limit: int = 200) -> list[Any]:
    """Traced contacts of confirmed cases in the actor's areas that no order follows yet,
    newest first (each one shown is audited)."""
    from covidhub.declarations.models import ExposureCandidate

    if not _is_staff(actor):
        return []
    since = timezone.now() - datetime.timedelta(days=14)
    rows = list(
        ExposureCandidate.objects.filter(area_path_q(actor_scope(actor), "commune_path"))
        .exclude(status=ExposureCandidate.Status.DISMISSED)
        .filter(first_overlap_at__gte=since)
        .select_related("person", "venue", "case")
        .order_by("-first_overlap_at", "-id")[: limit * 2]
    )
    taken = set(
        CareOrder.objects.filter(
            source=CareOrder.Source.CONTACT, source_reference__in=[str(r.uuid) for r in rows]
        ).values_list("source_reference", flat=True)
    )
    rows = [r for r in rows if str(r.uuid) not in taken][:limit]
    audit_record_many(
        actor=actor,
        actor_role=primary_role(actor_scope(actor)),
        action="homecare.contact.listed",
        objects=list[Any](rows),
    )
    return rows


def candidate_get_for_actor(*, actor: Any, candidate_uuid: Any) -> Any:
    from covidhub.declarations.models import ExposureCandidate

    if not _is_staff(actor):
        raise NotFound()
    candidate = (
        ExposureCandidate.objects.filter(area_path_q(actor_scope(actor), "commune_path"))
        .select_related("person", "venue", "case")
        .filter(uuid=_uuid(candidate_uuid))
        .first()
    )
    if candidate is None:
        raise NotFound()
    return candidate


@dataclass
class StationRow:
    order: CareOrder
    day_of_care: int
    last_check_at: datetime.datetime | None
    missed: bool
    open_alerts: int
    needs_call: bool


@dataclass
class StationDay:
    commune: Any
    day: datetime.date
    rows: list[StationRow] = field(default_factory=list)
    count: int = 0
    alerts: list[CareAlert] = field(default_factory=list)
    kits: list[tuple[str, int]] = field(default_factory=list)
    visits: list[CareVisit] = field(default_factory=list)
    referrals: list[CareOrder] = field(default_factory=list)
    releases: list[CareOrder] = field(default_factory=list)


def station_day(
    *, actor: Any, commune: Any, day: datetime.date | None = None, limit: int = 200
) -> StationDay:
    """A station's day: the people under care (who needs a call first, then by risk and day
    of illness), open alerts, kits handed out, visits, referrals and releases of the day.
    A constant number of queries; every order shown is audited."""
    day = day or timezone.localdate()
    now = timezone.now()
    base = order_queryset_for_actor(actor=actor).filter(commune_path=commune.path)
    open_orders = base.filter(status=CareOrder.Status.OPEN)
    count = open_orders.count()
    # The open alerts of the commune, counted by order (few rows, the alerts' scope index);
    # the orders with one come first, then whoever checked in least recently (never first).
    # No aggregate over the orders: a join and GROUP BY of every person under care (20,000
    # in a district) cost most of the list's time.
    alerted: dict[int, int] = dict(
        alert_queryset_for_actor(actor=actor)
        .filter(commune_path=commune.path, status=CareAlert.Status.OPEN)
        .values("order_id")
        .annotate(n=Count("id"))
        .values_list("order_id", "n")
        .order_by()
    )
    ordering: list[Any] = [F("last_check_at").asc(nulls_first=True), "-risk", "start_date", "id"]
    if alerted:
        ordering.insert(0, Case(When(pk__in=list(alerted), then=Value(0)), default=Value(1)))
    # The page's ids first, sorted on the orders' own columns alone (a top-N over narrow
    # rows), then those rows with their people; the protocols (one or two versions) once.
    ids = list(open_orders.order_by(*ordering).values_list("id", flat=True)[:limit])
    loaded = CareOrder.objects.select_related("person").in_bulk(ids)
    orders = [loaded[pk] for pk in ids if pk in loaded]
    protocols = CareProtocol.objects.in_bulk({o.protocol_id for o in orders})
    for order in orders:
        order.protocol = protocols[order.protocol_id]
    rows = []
    for order in orders:
        rules = rules_of(order.protocol)
        since = order.last_check_at or timezone.make_aware(
            datetime.datetime.combine(order.start_date, datetime.time.min)
        )
        missed = now - since > datetime.timedelta(hours=rules.missed_check_hours)
        open_alerts = alerted.get(order.pk, 0)
        rows.append(
            StationRow(
                order=order,
                day_of_care=(day - (order.onset_date or order.start_date)).days + 1,
                last_check_at=order.last_check_at,
                missed=missed,
                open_alerts=open_alerts,
                needs_call=missed or open_alerts > 0,
            )
        )
    rows.sort(key=lambda r: (not r.needs_call, -r.order.risk, -r.day_of_care))
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    end = start + datetime.timedelta(days=1)
    alerts = list(
        alert_queryset_for_actor(actor=actor)
        .filter(commune_path=commune.path, status=CareAlert.Status.OPEN)
        .select_related("order__person", "owner")
        .order_by("due_at", "id")[:100]
    )
    # The commune is within the actor's areas (commune_of_actor): its path is the scope.
    kit_counts = dict(
        KitHandout.objects.filter(
            order__commune_path=commune.path, handed_at__gte=start, handed_at__lt=end
        )
        .values_list("kind")
        .annotate(total=Sum("count"))
        .order_by("kind")
    )
    visits = list(
        CareVisit.objects.filter(order__in=base, at__gte=start, at__lt=end)
        .select_related("order__person", "by")
        .order_by("-at")[:100]
    )
    referrals = list(
        base.filter(status=CareOrder.Status.REFERRED, referred_at__gte=start, referred_at__lt=end)
        .select_related("person")
        .order_by("-referred_at")[:100]
    )
    releases = list(
        base.filter(status=CareOrder.Status.RELEASED, released_at__gte=start, released_at__lt=end)
        .select_related("person")
        .order_by("-released_at")[:100]
    )
    shown: list[Any] = [r.order for r in rows] + referrals + releases
    if _is_staff(actor):
        # One event per order shown, written together (COPY on PostgreSQL).
        audit_record_each(
            actor=actor,
            actor_role=primary_role(actor_scope(actor)),
            action="homecare.order.listed",
            object_type=CareOrder._meta.label_lower,
            items=[(str(o.uuid), o.person.uuid) for o in shown],
        )
    return StationDay(
        commune=commune,
        day=day,
        rows=rows,
        count=count,
        alerts=alerts,
        kits=sorted(kit_counts.items()),
        visits=visits,
        referrals=referrals,
        releases=releases,
    )


# The configurable versions ----------------------------------------------------------


def protocol_versions(*, actor: Any, limit: int = 50) -> list[CareProtocol]:
    """Every version of the care protocol, newest first (province-level roles only)."""
    from covidhub.homecare.protocol import protocol_active
    from covidhub.homecare.services.versions import protocol_editor_required

    protocol_editor_required(actor)
    protocol_active()
    return list(CareProtocol.objects.select_related("created_by").order_by("-version")[:limit])


def duty_list(*, actor: Any, commune: Any, history: int = 20) -> tuple[list[Any], list[Any]]:
    """A station's on-duty list in force, and its latest ended rows (the commune must be
    within the actor's areas: `commune_of_actor`)."""
    from covidhub.homecare.services.common import officer_required

    officer_required(actor, commune.path)
    rows = StationDuty.objects.filter(commune=commune).select_related(
        "user", "created_by", "ended_by"
    )
    current = list(rows.filter(active=True).order_by("created_at", "id"))
    ended = list(rows.filter(active=False).order_by("-ended_at", "-id")[:history])
    return current, ended


# Status card: the `covidhub.people.health_status` provider ------------------------------


def health_measures_of_people(
    people: QuerySet[Person], since: datetime.date
) -> dict[int, dict[str, datetime.date]]:
    """Open home care (a confirmed case) and quarantine (isolation), and referrals, from the
    order's start: the status rules give them their colour until the release lifts them."""
    from covidhub.people.health_status import CONFIRMED_CASE, ISOLATING

    found: dict[int, dict[str, datetime.date]] = {}
    rows = CareOrder.objects.filter(
        person__in=people,
        status__in=(CareOrder.Status.OPEN, CareOrder.Status.REFERRED),
        start_date__gte=since,
    ).values_list("person_id", "kind", "start_date")
    for person_id, kind, start in rows:
        measure = CONFIRMED_CASE if kind == CareOrder.Kind.HOME_CARE else ISOLATING
        known = found.setdefault(person_id, {})
        if measure not in known or start > known[measure]:
            known[measure] = start
    return found


def releases_of_people(people: QuerySet[Person], since: datetime.date) -> dict[int, datetime.date]:
    """The latest release of each person without an order still in force: it lifts the
    measures that started on or before it (a confirmed case released from home care)."""
    start = timezone.make_aware(datetime.datetime.combine(since, datetime.time.min))
    in_force = CareOrder.objects.filter(
        person__in=people, status__in=(CareOrder.Status.OPEN, CareOrder.Status.REFERRED)
    ).values("person_id")
    found: dict[int, datetime.date] = {}
    rows = (
        CareOrder.objects.filter(
            person__in=people, status=CareOrder.Status.RELEASED, released_at__gte=start
        )
        .exclude(person_id__in=in_force)
        .values_list("person_id", "released_at")
    )
    for person_id, released_at in rows:
        day = timezone.localdate(released_at)
        if person_id not in found or day > found[person_id]:
            found[person_id] = day
    return found


# The portal's daily counts ---------------------------------------------------------------

METRIC_HOME_CARE = "homecare"
METRIC_QUARANTINE = "quarantine"
METRIC_RECOVERED = "homecare_released"
METRIC_REFERRED = "homecare_referred"


def homecare_daily_counts(since: datetime.date, until: datetime.date) -> Iterable[Any]:
    """People under home care and in quarantine on each day (by commune), and the releases
    and referrals of each day: the `covidhub.core.metrics` source of this capability."""
    from covidhub.core.metrics import DailyCount

    counts: dict[tuple[datetime.date, int, str], int] = {}

    def add(day: datetime.date, commune_id: int, metric: str) -> None:
        key = (day, commune_id, metric)
        counts[key] = counts.get(key, 0) + 1

    rows = (
        CareOrder.objects.exclude(status=CareOrder.Status.SUPERSEDED)
        .filter(start_date__lte=until)
        .filter(
            Q(status=CareOrder.Status.OPEN)
            | Q(released_at__date__gte=since)
            | Q(referred_at__date__gte=since)
        )
        .values_list("commune_id", "kind", "status", "start_date", "released_at", "referred_at")
    )
    for commune_id, kind, status, start, released_at, referred_at in rows.iterator():
        released = timezone.localdate(released_at) if released_at else None
        referred = timezone.localdate(referred_at) if referred_at else None
        last = until
        if status == CareOrder.Status.RELEASED and released:
            last = released - datetime.timedelta(days=1)
        elif status == CareOrder.Status.REFERRED and referred:
            last = referred - datetime.timedelta(days=1)
        metric = METRIC_HOME_CARE if kind == CareOrder.Kind.HOME_CARE else METRIC_QUARANTINE
        day = max(start, since)
        while day <= min(last, until):
            add(day, commune_id, metric)
            day += datetime.timedelta(days=1)
        if kind == CareOrder.Kind.HOME_CARE and released and since <= released <= until:
            add(released, commune_id, METRIC_RECOVERED)
        if referred and since <= referred <= until:
            add(referred, commune_id, METRIC_REFERRED)
    return [
        DailyCount(day, commune, metric, value) for (day, commune, metric), value in counts.items()
    ]
