"""Reads of home care. Staff reads are scoped to the actor's areas (default deny: no role,
no area, no rows) and every read of a person's health data is audited."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from covidhub.accounts.models import User
from covidhub.accounts.scoping import OFFICER_ROLES, actor_scope, area_path_q, primary_role
from covidhub.audit.services import audit_record, audit_record_each, audit_record_many
from covidhub.core.errors import NotFound
from covidhub.core.localcache import LocalCache
from covidhub.core.rawsql import db_values, model_rows, placeholders
from covidhub.homecare.models import (
    CareAlert,
    CareOrder,
    CareProtocol,
    CareVisit,
    KitHandout,
    SelfCheck,
    StationDuty,
)
from covidhub.homecare.protocol import protocol_version, rules_of
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
    """One order of a person the account manages (NotFound otherwise), with its person and
    protocol version. Plain statements (`model_rows`), not the ORM's join compiled per
    call, and the version from the per-process cache: every self-check of the morning wave
    reads its order first."""
    account_id = getattr(account, "pk", None)
    if account_id is None:
        raise NotFound()
    people = connections[DEFAULT_DB_ALIAS].ops.quote_name(Person._meta.db_table)
    orders = model_rows(
        CareOrder,
        f"uuid = %s AND person_id IN (SELECT id FROM {people} WHERE managed_by_id = %s)",  # noqa: S608 - a table name from model metadata
        [*db_values(CareOrder, "uuid", [_uuid(order_uuid)]), account_id],
    )
    if not orders:
        raise NotFound()
    order = orders[0]
    order.person = model_rows(Person, "id = %s", [order.person_id])[0]
    order.protocol = protocol_version(order.protocol_id)
    return order


def commune_of_actor(*, actor: Any, code: str | None) -> Any:
    """The commune whose day the actor opens: the asked one within scope, or their own."""
    from covidhub.areas.models import Area
    from covidhub.areas.selectors import commune_by_code

    scope = actor_scope(actor)
    if not scope.has_role(*OFFICER_ROLES):
        raise NotFound()
    if code:
        # Reference data, cached per process: a station's list is read again and again.
        commune = commune_by_code(code)
        if commune is None or not scope.covers_path(commune.path):
            raise NotFound()
        return commune
    commune = (
        Area.objects.filter(level=Area.Level.COMMUNE)
        .filter(area_path_q(scope, "path"))
        .order_by("path")
        .first()
    )
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


@dataclass(frozen=True, slots=True)
class ListedPerson:
    uuid: UUID
    full_name: str


@dataclass(frozen=True, slots=True)
class ListedOrder:
    """What the station's list shows of an order, read as plain values (one joined row):
    a page's orders and people made as model instances cost more than the rest of it."""

    pk: int
    uuid: UUID
    person: ListedPerson
    kind: str
    place: str
    status: str
    protocol_id: int
    start_date: datetime.date
    onset_date: datetime.date | None
    planned_end: datetime.date
    risk: int
    last_check_at: datetime.datetime | None
    released_at: datetime.datetime | None

    @property
    def person_uuid(self) -> UUID:
        return self.person.uuid

    def get_risk_display(self) -> str:
        return str(CareOrder.Risk(self.risk).label)


@dataclass
class StationRow:
    order: ListedOrder
    day_of_care: int
    last_check_at: datetime.datetime | None
    missed: bool
    open_alerts: int
    needs_call: bool


# A page of the station's list: what an officer reads before the next call.
STATION_PAGE = 50


@dataclass
class StationList:
    commune: Any
    day: datetime.date
    rows: list[StationRow] = field(default_factory=list)
    count: int = 0
    offset: int = 0
    limit: int = STATION_PAGE

    @property
    def next_offset(self) -> int | None:
        following = self.offset + self.limit
        return following if following < self.count else None

    @property
    def last_shown(self) -> int:
        return self.offset + len(self.rows)

    @property
    def previous_offset(self) -> int | None:
        return max(0, self.offset - self.limit) if self.offset else None


@dataclass
class StationDay(StationList):
    alerts: list[CareAlert] = field(default_factory=list)
    kits: list[tuple[str, int]] = field(default_factory=list)
    visits: list[CareVisit] = field(default_factory=list)
    referrals: list[CareOrder] = field(default_factory=list)
    releases: list[CareOrder] = field(default_factory=list)


# The number of people under care in a commune, per server process: counting 20,000 open
# orders was the largest part of a page's cost, and the figure above the list may be a few
# seconds old (an order opened or closed in this process forgets it at once).
OPEN_COUNT_SECONDS = 15
_open_counts: LocalCache[int] = LocalCache("homecare.open_counts", ttl_seconds=OPEN_COUNT_SECONDS)


def open_counts_forget(*args: Any, **kwargs: Any) -> None:
    """Forget the cached counts (an order opened, closed or replaced; a signal receiver)."""
    _open_counts.clear()


def _open_count(commune_path: str) -> int:
    counted = _open_counts.get_or_load(
        commune_path,
        lambda: CareOrder.objects.filter(
            commune_path=commune_path, status=CareOrder.Status.OPEN
        ).count(),
    )
    return counted or 0


def _ids_sql(
    database: Any, column: str, ids: list[int], *, negate: bool = False
) -> tuple[str, list[Any]]:
    """`column` among `ids` (or not): one array parameter on PostgreSQL (the same statement
    whatever their number, parsed and planned once), placeholders elsewhere."""
    if database.vendor == "postgresql":
        return (f"{column} <> ALL(%s)" if negate else f"{column} = ANY(%s)"), [ids]
    marks = placeholders(len(ids))
    return (f"{column} NOT IN ({marks})" if negate else f"{column} IN ({marks})"), list(ids)


def station_list(
    *,
    actor: Any,
    commune: Any,
    day: datetime.date | None = None,
    offset: int = 0,
    limit: int = STATION_PAGE,
) -> StationList:
    """One page of the people under care in a commune, who needs a call first: those with
    an open alert (the soonest deadline first), then the longest silent (never
    checked in first), then the higher risk and the earlier start.
    A constant number of short statements whatever the commune's size (20,000 people under
    care in a district's commune at the peak): the page's ids from the index that holds
    the order, then those rows; every order shown is audited. Nothing outside the actor's
    areas (an empty page)."""
    day = day or timezone.localdate()
    scope = actor_scope(actor)
    if not (
        _is_staff(actor) and scope.has_role(*OFFICER_ROLES) and scope.covers_path(commune.path)
    ):
        return StationList(commune=commune, day=day, offset=offset, limit=limit)
    now = timezone.now()
    database = connections[DEFAULT_DB_ALIAS]
    quote = database.ops.quote_name
    path = commune.path
    # The orders with an open alert, by their first deadline (few: an alert is handled
    # within the protocol's minutes), without those no longer under care.
    with database.cursor() as cursor:
        cursor.execute(
            f"SELECT order_id, COUNT(*) FROM {quote(CareAlert._meta.db_table)} "  # noqa: S608 - names from model metadata
            "WHERE commune_path = %s AND status = %s "
            "GROUP BY order_id ORDER BY MIN(due_at), order_id",
            [path, CareAlert.Status.OPEN.value],
        )
        alerted: list[tuple[int, int]] = cursor.fetchall()
        if alerted:
            among, params = _ids_sql(database, "id", [pk for pk, _n in alerted])
            cursor.execute(
                f"SELECT id FROM {quote(CareOrder._meta.db_table)} "  # noqa: S608 - names from model metadata
                f"WHERE {among} AND status <> %s",
                [*params, CareOrder.Status.OPEN.value],
            )
            gone = {pk for (pk,) in cursor.fetchall()}
            alerted = [(pk, n) for pk, n in alerted if pk not in gone]
    open_alerts = dict(alerted)
    ids = [pk for pk, _n in alerted[offset : offset + limit]]
    if len(ids) < limit:
        # The rest, past the alerted ones, in the order that the partial index
        # `homecare_order_silence` holds: a short index scan, not a sort of every person
        # under care. `status` is written out, not a parameter, so that a prepared
        # statement's generic plan still matches the index.
        others, params = _ids_sql(database, "id", list(open_alerts) or [0], negate=True)
        with database.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {quote(CareOrder._meta.db_table)} "  # noqa: S608 - names from model metadata
                f"WHERE commune_path = %s AND status = '{CareOrder.Status.OPEN.value}' "
                f"AND {others} "
                "ORDER BY last_check_at ASC NULLS FIRST, risk DESC, start_date ASC, id ASC "
                "LIMIT %s OFFSET %s",
                [path, *params, limit - len(ids), max(0, offset - len(alerted))],
            )
            ids += [pk for (pk,) in cursor.fetchall()]
    rows = []
    if ids:
        orders = _listed_orders(database, ids)
        for order in orders:
            rules = rules_of(protocol_version(order.protocol_id))
            since = order.last_check_at or timezone.make_aware(
                datetime.datetime.combine(order.start_date, datetime.time.min)
            )
            missed = now - since > datetime.timedelta(hours=rules.missed_check_hours)
            alerts = open_alerts.get(order.pk, 0)
            rows.append(
                StationRow(
                    order=order,
                    day_of_care=(day - (order.onset_date or order.start_date)).days + 1,
                    last_check_at=order.last_check_at,
                    missed=missed,
                    open_alerts=alerts,
                    needs_call=missed or alerts > 0,
                )
            )
        _audit_listed(actor, [row.order for row in rows])
    return StationList(
        commune=commune,
        day=day,
        rows=rows,
        count=_open_count(path),
        offset=offset,
        limit=limit,
    )


def _listed_orders(database: Any, ids: list[int]) -> list[ListedOrder]:
    """The orders of `ids` with their people's names, in the order of `ids`."""
    quote = database.ops.quote_name
    among, params = _ids_sql(database, "o.id", ids)
    with database.cursor() as cursor:
        cursor.execute(
            "SELECT o.id, o.uuid, p.uuid, p.full_name, o.kind, o.place, o.status, "  # noqa: S608 - names from model metadata
            "o.protocol_id, o.start_date, o.onset_date, o.planned_end, o.risk, "
            "o.last_check_at, o.released_at "
            f"FROM {quote(CareOrder._meta.db_table)} o "
            f"JOIN {quote(Person._meta.db_table)} p ON p.id = o.person_id WHERE {among}",
            params,
        )
        fetched = cursor.fetchall()
    # The database's own values, converted as the ORM would on every backend (UUIDs,
    # dates and aware datetimes on SQLite too).
    plan = _listed_plan(database)
    by_id = {}
    for row in fetched:
        values = list(row)
        for index, found, column in plan:
            for function in found:
                values[index] = function(values[index], column, database)
        by_id[values[0]] = ListedOrder(
            values[0], values[1], ListedPerson(values[2], values[3]), *values[4:]
        )
    return [by_id[pk] for pk in ids if pk in by_id]


_LISTED_FIELDS = (
    (CareOrder, "id"),
    (CareOrder, "uuid"),
    (Person, "uuid"),
    (Person, "full_name"),
    *(
        (CareOrder, name)
        for name in (
            "kind",
            "place",
            "status",
            "protocol",
            "start_date",
            "onset_date",
            "planned_end",
            "risk",
            "last_check_at",
            "released_at",
        )
    ),
)
_listed_plans: dict[str, list[tuple[int, list[Any], Any]]] = {}


def _listed_plan(database: Any) -> list[tuple[int, list[Any], Any]]:
    """(column index, converters, column) of each value `_listed_orders` reads that the
    backend returns in another form than the model's, worked out once per database."""
    plan = _listed_plans.get(database.alias)
    if plan is None:
        plan = []
        for index, (model, name) in enumerate(_LISTED_FIELDS):
            model_field = model._meta.get_field(name)
            column = model_field.get_col(model._meta.db_table)  # type: ignore[union-attr]
            found = database.ops.get_db_converters(column) + column.get_db_converters(database)
            if found:
                plan.append((index, found, column))
        _listed_plans[database.alias] = plan
    return plan


def _audit_listed(actor: Any, orders: list[Any]) -> None:
    if _is_staff(actor):
        # One event per order shown, written together (COPY on PostgreSQL).
        audit_record_each(
            actor=actor,
            actor_role=primary_role(actor_scope(actor)),
            action="homecare.order.listed",
            object_type=CareOrder._meta.label_lower,
            items=[(str(o.uuid), o.person.uuid) for o in orders],
        )


def station_day(
    *,
    actor: Any,
    commune: Any,
    day: datetime.date | None = None,
    offset: int = 0,
    limit: int = STATION_PAGE,
) -> StationDay:
    """A station's day: a page of the people under care (`station_list`), the open alerts,
    kits handed out, visits, referrals and releases of the day. A constant number of
    queries; every order shown is audited."""
    listed = station_list(actor=actor, commune=commune, day=day, offset=offset, limit=limit)
    start = timezone.make_aware(datetime.datetime.combine(listed.day, datetime.time.min))
    end = start + datetime.timedelta(days=1)
    base = order_queryset_for_actor(actor=actor).filter(commune_path=commune.path)
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
    _audit_listed(actor, referrals + releases)
    return StationDay(
        commune=listed.commune,
        day=listed.day,
        rows=listed.rows,
        count=listed.count,
        offset=listed.offset,
        limit=listed.limit,
        alerts=alerts,
        kits=sorted(kit_counts.items()),
        visits=visits,
        referrals=referrals,
        releases=releases,
    )


# The configurable versions ----------------------------------------------------------


def protocol_versions(*, actor: Any, province_code: str, limit: int = 50) -> list[CareProtocol]:
    """Every version of a province's care protocol, newest first (its province-level roles
    only; anyone else gets NotFound)."""
    from covidhub.homecare.protocol import protocol_active
    from covidhub.homecare.services.versions import protocol_editor_required

    protocol_editor_required(actor, province_code)
    protocol_active(province_code)
    return list(
        CareProtocol.objects.filter(province_code=province_code)
        .select_related("created_by")
        .order_by("-version")[:limit]
    )


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
