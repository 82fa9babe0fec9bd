"""Reads of machine clients, for the province administrators who manage them."""

from __future__ import annotations

import uuid
from typing import Any

from covidhub.accounts.models import Role, RoleAssignment
from covidhub.accounts.scoping import Scope, actor_scope
from covidhub.clients.models import MachineClient
from covidhub.core.errors import NotFound


def client_list_for_actor(*, actor: Any) -> list[MachineClient]:
    """The clients an administrator manages: those whose areas all lie within the
    administrator's (a client tied to a laboratory only is every administrator's)."""
    scope = actor_scope(actor)
    if not scope.has_role(Role.ADMINISTRATOR):
        return []
    clients = list(MachineClient.objects.select_related("account", "application"))
    grants = _grants_of([c.account_id for c in clients])
    return [c for c in clients if _manages(scope, grants.get(c.account_id, []))]


def client_get_for_actor(*, actor: Any, client_uuid: Any) -> MachineClient:
    try:
        key = uuid.UUID(str(client_uuid))
    except ValueError as exc:
        raise NotFound() from exc
    for client in client_list_for_actor(actor=actor):
        if client.uuid == key:
            return client
    raise NotFound()


def client_grants(client: MachineClient) -> list[RoleAssignment]:
    """The roles that say what the client reaches (for its page)."""
    return _grants_of([client.account_id]).get(client.account_id, [])


def _grants_of(account_ids: list[int]) -> dict[int, list[RoleAssignment]]:
    grants: dict[int, list[RoleAssignment]] = {}
    for assignment in RoleAssignment.objects.filter(user_id__in=account_ids).select_related("area"):
        grants.setdefault(assignment.user_id, []).append(assignment)
    return grants


def _manages(scope: Scope, grants: list[RoleAssignment]) -> bool:
    return all(g.area is None or scope.covers_path(g.area.path) for g in grants)


def is_machine_account(user: Any) -> bool:
    """Whether an account is a machine client's (a rule that needs a person — the second
    pair of eyes on a correction — asks here)."""
    pk = getattr(user, "pk", None)
    return pk is not None and MachineClient.objects.filter(account_id=pk).exists()
