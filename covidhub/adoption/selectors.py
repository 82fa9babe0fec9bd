"""Reads: which agencies an actor may see, and the adoption figures behind the reports.

An agency head sees their agency and every unit below it; province and district
officers and administrators see the agencies of their areas (reports only; rosters,
which name people, are for agency heads and administrators). Anything else is not found.

The compliance report is a handful of set-based queries: one GROUP BY over the current
roster members (joined to the accounts for "active in the last 7 days"), one over the
snapshots of a week ago; the tree and area roll-ups are done in memory over the agencies
(hundreds), never per member.
"""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from covidhub.accounts.models import Role
from covidhub.accounts.scoping import actor_scope
from covidhub.adoption.models import AdoptionSnapshot, Agency, RosterMember, RosterUpload
from covidhub.areas.models import Area
from covidhub.core.errors import NotFound
from covidhub.core.indicators import person_indicators

ACTIVE_DAYS = 7
# Health indicators of a group smaller than this are not shown: a percentage of a handful
# of people says too much about each of them.
MIN_GROUP = 10
INDICATOR_CHUNK = 5_000

REPORT_ROLES = (
    Role.AGENCY_HEAD,
    Role.DISTRICT_OFFICER,
    Role.PROVINCE_OFFICER,
    Role.ADMINISTRATOR,
)
ROSTER_ROLES = (Role.AGENCY_HEAD, Role.ADMINISTRATOR)
_AREA_REPORT_ROLES = (Role.DISTRICT_OFFICER, Role.PROVINCE_OFFICER, Role.ADMINISTRATOR)


def agency_scope_q(*, actor: Any, rosters: bool = False) -> Q:
    """Agencies the actor may see: the subtrees they head and, for officers, their areas."""
    scope = actor_scope(actor)
    q = Q(pk__in=[])
    heads = scope.units_of("agency") if scope.has_role(Role.AGENCY_HEAD) else frozenset()
    if heads:
        for path in Agency.objects.filter(uuid__in=heads).values_list("path", flat=True):
            q |= Q(path__startswith=path)
    area_roles = (Role.ADMINISTRATOR,) if rosters else _AREA_REPORT_ROLES
    if scope.has_role(*area_roles):
        for area_path in scope.area_paths:
            q |= Q(area_path__startswith=area_path)
    return q


def agency_list_for_actor(*, actor: Any, rosters: bool = False) -> QuerySet[Agency]:
    return (
        Agency.objects.filter(agency_scope_q(actor=actor, rosters=rosters))
        .select_related("area")
        .order_by("path")
    )


def agency_get_for_actor(
    *, actor: Any, agency_uuid: uuid.UUID | str, rosters: bool = False
) -> Agency:
    agency = agency_list_for_actor(actor=actor, rosters=rosters).filter(uuid=agency_uuid).first()
    if agency is None:
        raise NotFound()
    return agency


def roster_upload_get_for_actor(*, actor: Any, upload_uuid: uuid.UUID | str) -> RosterUpload:
    upload = (
        RosterUpload.objects.filter(
            uuid=upload_uuid,
            agency__in=Agency.objects.filter(agency_scope_q(actor=actor, rosters=True)),
        )
        .select_related("agency", "uploaded_by")
        .first()
    )
    if upload is None:
        raise NotFound()
    return upload


def roster_members_list(*, agency: Agency, current: bool = True) -> QuerySet[RosterMember]:
    """The agency's own roster (the caller checked access and audits what it shows)."""
    qs = RosterMember.objects.filter(agency=agency).select_related("account", "person")
    if current:
        qs = qs.filter(left_at__isnull=True)
    return qs.order_by("unit_name", "full_name", "id")


# -- Figures ---------------------------------------------------------------------------


@dataclass
class Figures:
    staff: int = 0
    with_account: int = 0
    active: int = 0

    def add(self, other: Figures) -> None:
        self.staff += other.staff
        self.with_account += other.with_account
        self.active += other.active

    @property
    def not_started(self) -> int:
        return self.staff - self.with_account

    @property
    def account_pct(self) -> float | None:
        return round(100 * self.with_account / self.staff, 1) if self.staff else None

    @property
    def active_pct(self) -> float | None:
        return round(100 * self.active / self.staff, 1) if self.staff else None


@dataclass
class AgencyRow:
    agency: Agency
    own: Figures = field(default_factory=Figures)
    total: Figures = field(default_factory=Figures)
    week_ago: Figures | None = None
    rank: int = 0

    @property
    def account_change(self) -> float | None:
        if self.week_ago is None or not self.week_ago.staff or self.total.account_pct is None:
            return None
        return round(self.total.account_pct - (self.week_ago.account_pct or 0.0), 1)


def _own_figures(agency_ids: list[int] | None, q: Q | None = None) -> dict[int, Figures]:
    since = timezone.now() - datetime.timedelta(days=ACTIVE_DAYS)
    qs = RosterMember.objects.filter(left_at__isnull=True)
    if q is not None:
        qs = qs.filter(agency__in=Agency.objects.filter(q).values("pk"))
    elif agency_ids is not None:
        qs = qs.filter(agency_id__in=agency_ids)
    rows = (
        qs.order_by()
        .values("agency_id")
        .annotate(
            staff=Count("id"),
            with_account=Count("account_id"),
            active=Count("id", filter=Q(account__last_seen_at__gte=since)),
        )
    )
    return {r["agency_id"]: Figures(r["staff"], r["with_account"], r["active"]) for r in rows}


def _roll_up(agencies: list[Agency], own: dict[int, Figures]) -> dict[int, Figures]:
    """Subtree totals: each agency's own figures added to itself and its visible ancestors."""
    by_path = {a.path: a.pk for a in agencies}
    totals: dict[int, Figures] = {a.pk: Figures() for a in agencies}
    for agency in agencies:
        figures = own.get(agency.pk)
        if figures is None:
            continue
        parts = agency.path.rstrip("/").split("/")
        for i in range(1, len(parts) + 1):
            ancestor = by_path.get("/".join(parts[:i]) + "/")
            if ancestor is not None:
                totals[ancestor].add(figures)
    return totals


def _rank(rows: list[AgencyRow]) -> None:
    """Competition ranking against the 100% target: share with an account, then active."""

    def key(row: AgencyRow) -> tuple[float, float]:
        return (-(row.total.account_pct or 0.0), -(row.total.active_pct or 0.0))

    ordered = sorted(rows, key=key)
    previous: tuple[float, float] | None = None
    rank = 0
    for position, row in enumerate(ordered, start=1):
        if key(row) != previous:
            rank = position
            previous = key(row)
        row.rank = rank


def adoption_report(*, actor: Any, root: Agency | None = None) -> list[AgencyRow]:
    """One row per agency in the actor's scope (or `root`'s subtree), in tree order,
    with its own and subtree figures, last week's subtree figures and a rank."""
    scope_q = agency_scope_q(actor=actor)
    if root is not None:
        scope_q &= Q(path__startswith=root.path)
    agencies = list(Agency.objects.filter(scope_q).select_related("area").order_by("path"))
    own = _own_figures(None, scope_q)
    totals = _roll_up(agencies, own)
    week_day = timezone.localdate() - datetime.timedelta(days=7)
    snapshots = {
        s.agency_id: Figures(s.staff, s.with_account, s.active_7d)
        for s in AdoptionSnapshot.objects.filter(
            agency__in=[a.pk for a in agencies], day=week_day
        ).only("agency_id", "staff", "with_account", "active_7d")
    }
    week_totals = _roll_up(agencies, snapshots) if snapshots else {}
    rows = [
        AgencyRow(
            agency=a,
            own=own.get(a.pk, Figures()),
            total=totals[a.pk],
            week_ago=week_totals.get(a.pk),
        )
        for a in agencies
    ]
    _rank(rows)
    return rows


def report_totals(rows: Iterable[AgencyRow]) -> Figures:
    total = Figures()
    for row in rows:
        total.add(row.own)
    return total


@dataclass
class AreaRow:
    area: Area | None
    agencies: int = 0
    figures: Figures = field(default_factory=Figures)
    rank: int = 0


def adoption_report_by_area(*, actor: Any) -> list[AreaRow]:
    """Agencies grouped by district (provincial bodies under the province itself)."""
    rows = adoption_report(actor=actor)
    groups: dict[str, AreaRow] = {}
    for row in rows:
        parts = row.agency.area_path.rstrip("/").split("/")
        key = "/".join(parts[:2]) + "/"
        group = groups.setdefault(key, AreaRow(area=None))
        group.agencies += 1
        group.figures.add(row.own)
    areas = {a.path: a for a in Area.objects.filter(path__in=list(groups))}
    result = []
    for path, group in sorted(groups.items()):
        group.area = areas.get(path)
        result.append(group)
    ordered = sorted(result, key=lambda g: -(g.figures.account_pct or 0.0))
    for position, group in enumerate(ordered, start=1):
        group.rank = position
    return result


def adoption_trend(*, agency: Agency, weeks: int = 8) -> list[tuple[datetime.date, Figures]]:
    """Subtree totals on the same weekday over the last weeks (from the daily snapshots)."""
    today = timezone.localdate()
    days = [today - datetime.timedelta(days=7 * i) for i in range(weeks, -1, -1)]
    rows = (
        AdoptionSnapshot.objects.filter(agency__path__startswith=agency.path, day__in=days)
        .order_by()
        .values("day")
        .annotate(staff=Sum("staff"), with_account=Sum("with_account"), active=Sum("active_7d"))
    )
    by_day = {r["day"]: Figures(r["staff"], r["with_account"], r["active"]) for r in rows}
    return [(day, by_day[day]) for day in days if day in by_day]


# -- Health indicators, only as aggregates --------------------------------------------


@dataclass
class IndicatorRow:
    label: str
    agency: Agency
    staff: int
    # name → percentage, or None when suppressed (group too small).
    values: dict[str, float | None]
    suppressed: bool


def _indicator_counts(person_ids: set[int]) -> dict[str, set[int]]:
    result: dict[str, set[int]] = {}
    ids = sorted(person_ids)
    for indicator in person_indicators():
        satisfied: set[int] = set()
        for start in range(0, len(ids), INDICATOR_CHUNK):
            chunk = set(ids[start : start + INDICATOR_CHUNK])
            satisfied |= set(indicator.fn(chunk)) & chunk
        result[indicator.name] = satisfied
    return result


def adoption_indicators(*, agency: Agency) -> list[IndicatorRow]:
    """Declared / tested / vaccinated shares for the agency's subtree and for each unit
    directly below it — percentages only, never who.

    A unit is shown only if it has at least MIN_GROUP people and the people it covers
    beyond its shown descendants are none or at least MIN_GROUP: otherwise subtracting
    the figures of the units below (on this page or theirs) would reveal a small group.
    The rule depends only on the subtree, so every page that shows a unit agrees.
    """
    subtree = list(
        Agency.objects.filter(path__startswith=agency.path).only("pk", "parent_id", "depth", "name")
    )
    members = list(
        RosterMember.objects.filter(left_at__isnull=True, agency__path__startswith=agency.path)
        .order_by()
        .values_list("agency_id", "person_id")
    )
    own: dict[int, list[int | None]] = defaultdict(list)
    for agency_id, person_id in members:
        own[agency_id].append(person_id)
    people: dict[int, list[int | None]] = {}
    cover: dict[int, int] = {}
    shown: dict[int, bool] = {}
    children_of: dict[int, list[Agency]] = defaultdict(list)
    for node in subtree:
        if node.parent_id is not None:
            children_of[node.parent_id].append(node)
    for node in sorted(subtree, key=lambda a: -a.depth):
        ids = list(own.get(node.pk, []))
        covered = 0
        for child in children_of.get(node.pk, []):
            if child.pk not in people:
                continue
            ids.extend(people[child.pk])
            covered += len(people[child.pk]) if shown[child.pk] else cover[child.pk]
        people[node.pk] = ids
        cover[node.pk] = covered
        uncovered = len(ids) - covered
        shown[node.pk] = len(ids) >= MIN_GROUP and (uncovered == 0 or uncovered >= MIN_GROUP)

    satisfied = _indicator_counts({p for _a, p in members if p is not None})
    names = [i.name for i in person_indicators()]

    def row_for(node: Agency) -> IndicatorRow:
        ids = people.get(node.pk, [])
        present = {p for p in ids if p is not None}
        visible = shown.get(node.pk, False)
        return IndicatorRow(
            label=node.name,
            agency=node,
            staff=len(ids),
            values={
                name: round(100 * len(present & satisfied[name]) / len(ids), 1)
                if visible and ids
                else None
                for name in names
            },
            suppressed=not visible,
        )

    root = next(node for node in subtree if node.pk == agency.pk)
    children = sorted(children_of.get(agency.pk, []), key=lambda a: a.name)
    return [row_for(root)] + [row_for(child) for child in children]
