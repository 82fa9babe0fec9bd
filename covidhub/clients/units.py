"""Units (laboratories, sites) a client may be tied to. They belong to capabilities above
this app, which register how to list them in their ready(); the client's account then
holds the unit's role, and the capability's own scoping does the rest."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise


@dataclass(frozen=True)
class UnitSource:
    kind: str  # the RoleAssignment unit kind ("lab")
    role: str  # the role the client's account holds for such a unit
    label: str | Promise
    choices: Callable[[], list[tuple[uuid.UUID, str]]]


_sources: dict[str, UnitSource] = {}


def register_unit_source(source: UnitSource) -> None:
    _sources[source.kind] = source


def unit_sources() -> list[UnitSource]:
    return list(_sources.values())


def unit_source(kind: str) -> UnitSource | None:
    return _sources.get(kind)
