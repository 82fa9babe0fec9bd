"""What the home-care services share: the actor's role for the audit, and scope checks
that answer 404 outside the actor's area."""

from __future__ import annotations

from typing import Any

from covidhub.accounts.models import User
from covidhub.accounts.scoping import OFFICER_ROLES, actor_scope, primary_role
from covidhub.core.errors import NotFound


def role_of(actor: Any) -> str:
    if actor is None:
        return "system"
    if getattr(actor, "kind", "") == User.Kind.CITIZEN:
        return "citizen"
    return primary_role(actor_scope(actor))


def officer_required(actor: Any, path: str) -> None:
    """NotFound unless `actor` is a health officer whose areas cover `path`."""
    scope = actor_scope(actor)
    if not (scope.has_role(*OFFICER_ROLES) and scope.covers_path(path)):
        raise NotFound()


def may_submit_for(actor: Any, person: Any) -> bool:
    """The person's household account, or an officer of their area (checks by phone)."""
    if getattr(actor, "kind", "") == User.Kind.CITIZEN:
        return bool(person.managed_by_id and person.managed_by_id == actor.pk)
    scope = actor_scope(actor)
    return scope.has_role(*OFFICER_ROLES) and scope.covers_path(person.commune_path)
