"""What part of the served provinces a staff member may see.

Selectors that return people or their health data filter through these helpers; an
object outside the actor's scope is then simply not found (404), never "forbidden", so
that its existence is not revealed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from django.db.models import Q

from covidhub.accounts.authcache import auth_cached
from covidhub.accounts.models import (
    AREA_ROLES,
    NATIONAL_ROLES,
    Role,
    RoleAssignment,
    User,
    roles_with_implied,
)
from covidhub.areas.served import served_paths


@dataclass(frozen=True)
class Scope:
    roles: frozenset[str] = frozenset()
    area_paths: tuple[str, ...] = ()
    units: dict[str, frozenset[uuid.UUID]] = field(default_factory=dict)
    # Roles held only through a national role (not granted themselves): not what the audit
    # names the actor as.
    implied: frozenset[str] = frozenset()

    @property
    def national(self) -> bool:
        return self.has_role(*NATIONAL_ROLES)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def units_of(self, kind: str) -> frozenset[uuid.UUID]:
        return self.units.get(kind, frozenset())

    def covers_path(self, path: str) -> bool:
        return any(path.startswith(p) for p in self.area_paths)


EMPTY_SCOPE = Scope()
OFFICER_ROLES = (
    Role.COMMUNE_OFFICER,
    Role.DISTRICT_OFFICER,
    Role.PROVINCE_OFFICER,
    Role.ADMINISTRATOR,
)


def actor_scope(actor: Any) -> Scope:
    """The roles and scope of a staff account (cached on the user object per request)."""
    if not getattr(actor, "is_authenticated", False) or actor.kind != User.Kind.STAFF:
        return EMPTY_SCOPE
    cached = getattr(actor, "_covidhub_scope", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    # Every staff request needs the scope: through the auth cache, cleared when a role is
    # given or taken (covidhub.accounts.signals).
    scope: Scope = auth_cached(
        scope_cache_key(actor.pk), lambda: _scope_load(actor), copy_value=False
    )
    if scope.national:
        # Outside the cache: the served provinces are a setting, not a row.
        scope = replace(scope, area_paths=_widest(set(scope.area_paths) | set(served_paths())))
    actor._covidhub_scope = scope
    return scope


def scope_cache_key(user_pk: Any) -> str:
    return f"accounts:scope:{user_pk}"


def _scope_load(actor: Any) -> Scope:
    roles: set[str] = set()
    paths: set[str] = set()
    units: dict[str, set[uuid.UUID]] = {}
    for assignment in RoleAssignment.objects.filter(user=actor).select_related("area"):
        roles.add(assignment.role)
        if assignment.area is not None and assignment.role in AREA_ROLES:
            paths.add(assignment.area.path)
        if assignment.unit_uuid is not None:
            units.setdefault(assignment.unit_kind, set()).add(assignment.unit_uuid)
    held = roles_with_implied(roles)
    return Scope(
        roles=held,
        area_paths=_widest(paths),
        units={k: frozenset(v) for k, v in units.items()},
        implied=held - roles,
    )


def _widest(paths: set[str]) -> tuple[str, ...]:
    """A path inside another adds nothing: keep the widest."""
    return tuple(sorted(p for p in paths if not any(p != q and p.startswith(q) for q in paths)))


def area_path_q(scope: Scope, field_name: str, *, roles: tuple[str, ...] = OFFICER_ROLES) -> Q:
    """A filter on a materialised-path field: rows inside the actor's areas, or none."""
    if not scope.has_role(*roles) or not scope.area_paths:
        return Q(pk__in=[])
    q = Q()
    for path in scope.area_paths:
        q |= Q(**{f"{field_name}__startswith": path})
    return q


def primary_role(scope: Scope) -> str:
    order = [r.value for r in Role]
    held = scope.roles - scope.implied
    return min(held, key=order.index) if held else ""
