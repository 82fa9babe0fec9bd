"""Which sites, labs and areas a staff member works in; everything else is "not found"."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Q, QuerySet

from covidhub.accounts.models import Role
from covidhub.accounts.scoping import OFFICER_ROLES, actor_scope, area_path_q, primary_role
from covidhub.core.errors import NotFound
from covidhub.testing.models import Lab, Site

SITE_ROLES = (Role.SAMPLER, Role.SITE_MANAGER)
LAB_ROLES = (Role.LAB_TECHNICIAN,)


def role_of(actor: Any) -> str:
    return primary_role(actor_scope(actor))


def sites_for_actor(actor: Any) -> QuerySet[Site]:
    """Sampling staff: the sites they are assigned to; officers: the sites in their areas."""
    scope = actor_scope(actor)
    q = Q(pk__in=[])
    if scope.has_role(*SITE_ROLES):
        q |= Q(uuid__in=list(scope.units_of("site")))
    if scope.has_role(*OFFICER_ROLES):
        q |= area_path_q(scope, "commune_path")
    return Site.objects.filter(q).select_related("commune")


def sampling_sites_for_actor(actor: Any) -> QuerySet[Site]:
    """Only the sites where the actor takes samples (site roles, not officers)."""
    scope = actor_scope(actor)
    if not scope.has_role(*SITE_ROLES):
        return Site.objects.none()
    return Site.objects.filter(uuid__in=list(scope.units_of("site")), is_active=True)


def sampling_site_q(actor: Any, site_field: str = "site") -> Q:
    """`site_field` (a foreign key to a site) is one of the actor's sampling sites: the
    filter of `sampling_sites_for_actor` as a join, cheaper to build and to plan than a
    subquery on a hot path."""
    scope = actor_scope(actor)
    if not scope.has_role(*SITE_ROLES):
        return Q(pk__in=[])
    return Q(
        **{
            f"{site_field}__uuid__in": list(scope.units_of("site")),
            f"{site_field}__is_active": True,
        }
    )


_SITES_CHECKED = "_testing_sites_checked"


def sampling_site_checked(actor: Any, site_id: int) -> bool:
    """Whether this request already found the site among the actor's sampling sites."""
    return site_id in actor.__dict__.get(_SITES_CHECKED, ())


def sampling_site_mark_checked(actor: Any, site_id: int) -> None:
    """Remember for the rest of the request (as long as the actor object lives) that the
    site is one of the actor's sampling sites, so that the services need not ask again."""
    actor.__dict__.setdefault(_SITES_CHECKED, set()).add(site_id)


def labs_for_actor(actor: Any) -> QuerySet[Lab]:
    scope = actor_scope(actor)
    if not scope.has_role(*LAB_ROLES):
        return Lab.objects.none()
    return Lab.objects.filter(uuid__in=list(scope.units_of("lab")))


def _uuid(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise NotFound() from exc


def sampling_site_get(*, actor: Any, site_uuid: Any) -> Site:
    site = sampling_sites_for_actor(actor).filter(uuid=_uuid(site_uuid)).first()
    if site is None:
        raise NotFound()
    return site


def lab_get(*, actor: Any, lab_uuid: Any) -> Lab:
    lab = labs_for_actor(actor).filter(uuid=_uuid(lab_uuid)).first()
    if lab is None:
        raise NotFound()
    return lab


def parse_uuid(value: Any) -> uuid.UUID:
    return _uuid(value)


def lab_choices() -> list[tuple[uuid.UUID, str]]:
    """Every laboratory, for the form that ties a partner laboratory's client to one."""
    return [(lab.uuid, f"{lab.name} ({lab.code})") for lab in Lab.objects.order_by("name")]
