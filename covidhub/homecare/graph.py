"""The contact graph for officers: a case's chain (F0 → F1 → F2, with dates and venues)
and clusters by venue. Never public; only orders in the actor's areas are named, and every
order shown is audited."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from covidhub.accounts.scoping import actor_scope, area_path_q, primary_role
from covidhub.audit.services import audit_record_many
from covidhub.homecare.models import CareOrder
from covidhub.homecare.selectors import order_queryset_for_actor

MAX_DEPTH = 3
MAX_NODES = 500


@dataclass
class ChainNode:
    order: CareOrder | None  # None: an order outside the actor's areas (not named)
    level: int  # 0 = the case (F0), 1 = its contacts (F1), 2 = theirs (F2)…
    children: list[ChainNode] = field(default_factory=list)
    became_case: bool = False


def _root(order: CareOrder) -> CareOrder:
    """The first case of the chain this order belongs to (following contacts upward)."""
    seen = {order.pk}
    current = order
    while True:
        if current.kind == CareOrder.Kind.QUARANTINE and current.source_order_id:
            parent = CareOrder.objects.filter(pk=current.source_order_id).first()
        else:
            # A case that was itself a contact: the quarantine it came from.
            parent = (
                CareOrder.objects.filter(
                    person_id=current.person_id,
                    kind=CareOrder.Kind.QUARANTINE,
                    start_date__lte=current.start_date,
                )
                .exclude(pk=current.pk)
                .order_by("-start_date", "-id")
                .first()
            )
        if parent is None or parent.pk in seen:
            return current
        seen.add(parent.pk)
        current = parent


def contact_chain(*, actor: Any, order: CareOrder) -> ChainNode:
    """The chain of `order` from its first case, each level in one query or two."""
    visible = set(order_queryset_for_actor(actor=actor).values_list("pk", flat=True)[:100_000])
    root = _root(order)
    top = ChainNode(root if root.pk in visible else None, 0)
    frontier: list[tuple[ChainNode, CareOrder]] = [(top, root)]
    shown: list[CareOrder] = [root] if root.pk in visible else []
    count = 1
    for level in range(1, MAX_DEPTH + 1):
        cases = [o for _n, o in frontier if o.kind == CareOrder.Kind.HOME_CARE]
        if not cases or count >= MAX_NODES:
            break
        contacts = list(
            CareOrder.objects.filter(source_order__in=cases)
            .select_related("person")
            .order_by("contact_at", "id")[: MAX_NODES - count]
        )
        # Contacts who became cases continue the chain through their own case order.
        later_cases = {
            o.person_id: o
            for o in CareOrder.objects.filter(
                person_id__in=[c.person_id for c in contacts], kind=CareOrder.Kind.HOME_CARE
            )
            .select_related("person")
            .order_by("start_date", "id")
        }
        by_parent: dict[int, list[CareOrder]] = {}
        for contact in contacts:
            by_parent.setdefault(contact.source_order_id or 0, []).append(contact)
        next_frontier: list[tuple[ChainNode, CareOrder]] = []
        for node, parent in frontier:
            for contact in by_parent.get(parent.pk, []):
                child = ChainNode(contact if contact.pk in visible else None, level)
                case = later_cases.get(contact.person_id)
                if case is not None and case.start_date >= contact.start_date:
                    child.became_case = True
                    next_frontier.append((child, case))
                node.children.append(child)
                count += 1
                if contact.pk in visible:
                    shown.append(contact)
        frontier = next_frontier
    audit_record_many(
        actor=actor,
        actor_role=primary_role(actor_scope(actor)),
        action="homecare.chain.viewed",
        objects=list[Any](shown),
    )
    return top


@dataclass(frozen=True)
class Cluster:
    venue: str
    contacts: int
    cases: int
    first: datetime.date
    last: datetime.date
    last_week: int
    week_before: int


def clusters_by_venue(*, actor: Any, days: int = 28, limit: int = 50) -> list[Cluster]:
    """Venues whose traced contacts were quarantined in the actor's areas in the last
    `days`, largest first, with the growth of the last week against the week before."""
    today = timezone.localdate()
    since = today - datetime.timedelta(days=days)
    week = today - datetime.timedelta(days=7)
    fortnight = today - datetime.timedelta(days=14)
    rows = (
        CareOrder.objects.filter(area_path_q(actor_scope(actor), "commune_path"))
        .filter(kind=CareOrder.Kind.QUARANTINE, start_date__gte=since)
        .exclude(venue_name="")
        .values("venue_name")
        .annotate(
            contacts=Count("id"),
            cases=Count("source_order", distinct=True),
            first=Min("start_date"),
            last=Max("start_date"),
            last_week=Count("id", filter=Q(start_date__gt=week)),
            week_before=Count("id", filter=Q(start_date__gt=fortnight, start_date__lte=week)),
        )
        .order_by("-contacts", "venue_name")[:limit]
    )
    return [
        Cluster(
            r["venue_name"],
            r["contacts"],
            r["cases"],
            r["first"],
            r["last"],
            r["last_week"],
            r["week_before"],
        )
        for r in rows
    ]
