"""Two patterns of misuse the audit trail watches for, and the alerts they raise.

- Refused look-ups: every 404 a signed-in account gets for an object id is written to the
  audit trail (`access_denied_record`); a burst of them (settings DENIED_BURST_COUNT within
  DENIED_BURST_WINDOW_SECONDS) raises a `SecurityAlert`.
- Bulk look-ups (the CoWIN lesson: one account enumerating people): every person a staff
  account looks up is charged against an hourly budget (`staff_lookup_charge`); past its
  roles' limit (`staff_lookup_limit`: STAFF_LOOKUPS_PER_HOUR_BY_ROLE, else
  STAFF_LOOKUPS_PER_HOUR) distinct people the look-up is refused (429), audited and alerted.

Both write to the database only, so they hold without Redis and across server processes.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from covidhub.audit.models import AuditEvent, SecurityAlert, StaffLookup
from covidhub.audit.services import audit_record
from covidhub.core.errors import RateLimited
from covidhub.core.localcache import LocalCache
from covidhub.core.replicas import replica_pin

DENIED_ACTION = "security.access.denied"
THROTTLED_ACTION = "security.lookup.throttled"


def _alert_once(*, actor: Any, kind: str, count: int, window: int, now: datetime.datetime) -> None:
    """One alert per account and kind per window: a burst is one event to look at."""
    since = now - datetime.timedelta(seconds=window)
    if not SecurityAlert.objects.filter(actor=actor, kind=kind, at__gte=since).exists():
        SecurityAlert.objects.create(actor=actor, kind=kind, count=count, window_seconds=window)


def access_denied_record(*, actor: Any, target_kind: str, target_id: str) -> None:
    """Audit one refused look-up of an object by a signed-in account (actor, kind of
    object, its id, time) and raise an alert when the account's refusals burst."""
    now = timezone.now()
    window = settings.DENIED_BURST_WINDOW_SECONDS
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=DENIED_ACTION,
            details={"kind": target_kind[:60], "id": target_id[:64]},
        )
        recent = AuditEvent.objects.filter(
            action=DENIED_ACTION, actor=actor, at__gte=now - datetime.timedelta(seconds=window)
        ).count()
        if recent >= settings.DENIED_BURST_COUNT:
            _alert_once(
                actor=actor,
                kind=SecurityAlert.Kind.DENIED_BURST,
                count=recent,
                window=window,
                now=now,
            )


class LookupBudgetExceeded(RateLimited):
    code = "lookup_limit"
    default_message = _(
        "You have looked up more people this hour than your work should need. "
        "Please wait before looking up more; the province administrator has been told."
    )


# The roles of a staff account. Audit sits below accounts, so accounts registers how
# they are read (AccountsConfig.ready) instead of this module importing it.
def _no_roles(actor: Any) -> Iterable[str]:
    return ()


_roles_of: Callable[[Any], Iterable[str]] = _no_roles


def staff_lookup_roles_register(roles_of: Callable[[Any], Iterable[str]]) -> None:
    global _roles_of
    _roles_of = roles_of


def staff_lookup_limit(*, actor: Any) -> int:
    """The account's hourly budget of distinct people (0: no limit): the largest limit of
    its roles, a role without one of its own counting STAFF_LOOKUPS_PER_HOUR."""
    default = settings.STAFF_LOOKUPS_PER_HOUR
    if default <= 0:
        return 0
    by_role = settings.STAFF_LOOKUPS_PER_HOUR_BY_ROLE
    limits = [by_role.get(role, default) for role in _roles_of(actor)] or [default]
    return 0 if 0 in limits else max(limits)


# Set on an actor whose calls are budgeted elsewhere: a machine client's service account,
# limited per minute and per day by its registration (covidhub.clients.auth).
LOOKUP_BUDGET_EXEMPT = "lookup_budget_exempt"


def staff_lookup_charge(*, actor: Any, person_uuid: uuid.UUID | str) -> None:
    """Charge one look-up of a person to a staff account's hourly budget.

    Looking the same person up again in the hour is free; the budget counts distinct
    people. Past the budget: LookupBudgetExceeded (429), an audit row and one alert per
    hour. Citizens and anonymous callers are not charged.
    """
    if not getattr(actor, "is_authenticated", False) or getattr(actor, "kind", "") != "staff":
        return
    if getattr(actor, LOOKUP_BUDGET_EXEMPT, False):
        return
    now = timezone.now()
    hour = now.replace(minute=0, second=0, microsecond=0)
    key = person_uuid if type(person_uuid) is uuid.UUID else uuid.UUID(str(person_uuid))
    # A person this account was charged for this hour (a committed row, which only the
    # next hours' pruning removes) is free again: nothing to count or insert.
    charged = (actor.pk, hour, key)
    if _charged.get_or_load(charged, lambda: None):
        return
    limit = staff_lookup_limit(actor=actor)
    if limit <= 0:
        return
    # The budget is a security decision: counted on the primary (never on a standby that
    # may lag), and the insert that follows is a write anyway.
    replica_pin()
    # Two statements on the hot path (a scan): the count, then the insert (a repeat is
    # ignored by the unique constraint). Only at the limit is a repeat told apart.
    this_hour = StaffLookup.objects.filter(actor=actor, hour=hour)
    count = this_hour.count()
    if count >= limit and not this_hour.filter(person_uuid=key).exists():
        with transaction.atomic():
            audit_record(
                actor=actor,
                action=THROTTLED_ACTION,
                person_uuid=key,
                details={"limit": limit},
            )
            _alert_once(
                actor=actor,
                kind=SecurityAlert.Kind.BULK_LOOKUP,
                count=count + 1,
                window=3600,
                now=now,
            )
        raise LookupBudgetExceeded()
    StaffLookup.objects.bulk_create(
        [StaffLookup(actor=actor, hour=hour, person_uuid=key)], ignore_conflicts=True
    )
    transaction.on_commit(lambda: _charged.get_or_load(charged, lambda: True))


# (account, hour, person) look-ups charged and committed, per process: an account that
# reads the same person again within the hour (every page of their record) costs no query.
_charged: LocalCache[bool] = LocalCache("audit.lookups.charged", ttl_seconds=3600)


def staff_lookups_prune(*, now: datetime.datetime | None = None) -> int:
    """Forget look-ups of past hours (only the current hour is ever counted)."""
    hour = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    deleted, _counts = StaffLookup.objects.filter(hour__lt=hour).delete()
    return deleted


def security_alerts_list(*, limit: int = 200) -> list[SecurityAlert]:
    """The newest alerts with their accounts (for the province administrators' page)."""
    return list(SecurityAlert.objects.select_related("actor")[:limit])
