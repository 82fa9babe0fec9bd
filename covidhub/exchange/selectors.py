"""Reads of the exchange outbox, scoped to the actor's areas (default deny)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from covidhub.accounts.models import Role
from covidhub.accounts.scoping import actor_scope
from covidhub.exchange.models import ExchangeRecord

MANAGER_ROLES = (Role.PROVINCE_OFFICER, Role.ADMINISTRATOR)


def exchange_may_manage(actor: object) -> bool:
    return actor_scope(actor).has_role(*MANAGER_ROLES)


def exchange_records_for(*, actor: object) -> QuerySet[ExchangeRecord]:
    """The outbox rows of the areas the actor manages; none without the role."""
    scope = actor_scope(actor)
    if not scope.has_role(*MANAGER_ROLES) or not scope.area_paths:
        return ExchangeRecord.objects.none()
    within = Q()
    for path in scope.area_paths:
        within |= Q(commune_path__startswith=path)
    return ExchangeRecord.objects.filter(within)


@dataclass
class ReconciliationRow:
    day: datetime.date
    commune_path: str
    endpoint: str
    kind: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def unsent(self) -> int:
        """Not (yet) accepted by the partner: pending, in flight, rejected or dead."""
        return self.total - self.counts.get(ExchangeRecord.Status.ACCEPTED, 0)


def exchange_reconciliation(
    *, actor: object, day_from: datetime.date, day_to: datetime.date
) -> list[ReconciliationRow]:
    """Per day, commune, endpoint and kind: how many records are pending, in flight,
    accepted, rejected and dead. One grouped query."""
    rows: dict[tuple[datetime.date, str, str, str], ReconciliationRow] = {}
    grouped = (
        exchange_records_for(actor=actor)
        .filter(day__gte=day_from, day__lte=day_to)
        .values("day", "commune_path", "endpoint", "kind", "status")
        .annotate(n=Count("id"))
        .order_by("day", "commune_path", "endpoint", "kind")
    )
    for item in grouped:
        key = (item["day"], item["commune_path"], item["endpoint"], item["kind"])
        row = rows.setdefault(key, ReconciliationRow(*key))
        row.counts[item["status"]] = row.counts.get(item["status"], 0) + item["n"]
    return list(rows.values())


def exchange_rejections(*, actor: object) -> QuerySet[ExchangeRecord]:
    """Rejected and dead records, latest first (with the partner's reason or the error)."""
    return (
        exchange_records_for(actor=actor)
        .filter(status__in=(ExchangeRecord.Status.REJECTED, ExchangeRecord.Status.DEAD))
        .order_by("-updated_at", "-id")
    )


def exchange_rejections_list(*, actor: object, limit: int = 200) -> list[ExchangeRecord]:
    """The latest `limit` of them (the staff page)."""
    return list(exchange_rejections(actor=actor)[:limit])
