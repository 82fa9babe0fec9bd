"""Who may see which site, session, booking and dose.

Site staff (vaccinator, site manager) see their own sites; officers see the sites and
people in their areas. Anything else is NotFound, so that its existence is not revealed.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Q, QuerySet

from covidhub.accounts.models import Role, User
from covidhub.accounts.scoping import OFFICER_ROLES, actor_scope, area_path_q
from covidhub.core.errors import NotFound
from covidhub.vaccination.fastreads import booking_with_site_and_person
from covidhub.vaccination.models import UNIT_KIND, Booking, Session, VaccinationSite

SITE_ROLES = (Role.VACCINATOR, Role.SITE_MANAGER)
STAFF_ROLES = (*SITE_ROLES, *OFFICER_ROLES)
# Officers who plan campaigns, receive and allocate stock, override the vaccine rule.
PLANNER_ROLES = (Role.DISTRICT_OFFICER, Role.PROVINCE_OFFICER, Role.ADMINISTRATOR)


def is_staff(actor: Any) -> bool:
    return bool(getattr(actor, "is_authenticated", False)) and actor.kind == User.Kind.STAFF


def site_q(actor: Any, *, prefix: str = "", roles: tuple[str, ...] = STAFF_ROLES) -> Q:
    """Rows whose site (through `prefix`) the actor may see."""
    if not is_staff(actor):
        return Q(pk__in=[])
    scope = actor_scope(actor)
    q = Q(pk__in=[])
    site_roles = tuple(r for r in roles if r in SITE_ROLES)
    if site_roles and scope.has_role(*site_roles):
        units = scope.units_of(UNIT_KIND)
        if units:
            q |= Q(**{f"{prefix}uuid__in": list(units)})
    officer_roles = tuple(r for r in roles if r in OFFICER_ROLES)
    if officer_roles:
        q |= area_path_q(scope, f"{prefix}commune_path", roles=officer_roles)
    return q


def site_allowed(
    actor: Any, site: VaccinationSite, *, roles: tuple[str, ...] = STAFF_ROLES
) -> bool:
    """What `site_q` decides, for a site already loaded: no query (the scope is cached)."""
    if not is_staff(actor):
        return False
    scope = actor_scope(actor)
    site_roles = tuple(r for r in roles if r in SITE_ROLES)
    if site_roles and scope.has_role(*site_roles) and site.uuid in scope.units_of(UNIT_KIND):
        return True
    officer_roles = tuple(r for r in roles if r in OFFICER_ROLES)
    return (
        bool(officer_roles)
        and scope.has_role(*officer_roles)
        and scope.covers_path(site.commune_path)
    )


def sites_for_actor(
    actor: Any, *, roles: tuple[str, ...] = STAFF_ROLES
) -> QuerySet[VaccinationSite]:
    return VaccinationSite.objects.filter(site_q(actor, roles=roles))


def site_get_for_actor(
    *, actor: Any, site_uuid: uuid.UUID | str, roles: tuple[str, ...] = STAFF_ROLES
) -> VaccinationSite:
    try:
        key = uuid.UUID(str(site_uuid))
    except ValueError as exc:
        raise NotFound() from exc
    site = sites_for_actor(actor, roles=roles).select_related("commune").filter(uuid=key).first()
    if site is None:
        raise NotFound()
    return site


def session_get_for_actor(
    *, actor: Any, session_uuid: uuid.UUID | str, roles: tuple[str, ...] = STAFF_ROLES
) -> Session:
    try:
        key = uuid.UUID(str(session_uuid))
    except ValueError as exc:
        raise NotFound() from exc
    session = (
        Session.objects.filter(site_q(actor, prefix="site__", roles=roles))
        .select_related("site", "campaign__vaccine")
        .filter(uuid=key)
        .first()
    )
    if session is None:
        raise NotFound()
    return session


def booking_get_for_staff(
    *, actor: Any, booking_uuid: uuid.UUID | str, roles: tuple[str, ...] = STAFF_ROLES
) -> Booking:
    """A booking at one of the actor's sites, or NotFound (no audit: callers audit)."""
    try:
        key = uuid.UUID(str(booking_uuid))
    except ValueError as exc:
        raise NotFound() from exc
    booking = (
        Booking.objects.filter(site_q(actor, prefix="session__site__", roles=roles))
        .select_related("session__site", "session__campaign__vaccine", "person__commune")
        .filter(uuid=key)
        .first()
    )
    if booking is None:
        raise NotFound()
    return booking


def booking_get_for_staff_with_site(
    *, actor: Any, booking_uuid: uuid.UUID | str, roles: tuple[str, ...] = STAFF_ROLES
) -> Booking:
    """`booking_get_for_staff` for the busiest step (the injection): only the session, its
    site and the person are loaded, in one joined read, and the actor's scope is checked
    on the loaded site (`site_allowed`, the same rule as `site_q`)."""
    try:
        key = uuid.UUID(str(booking_uuid))
    except ValueError as exc:
        raise NotFound() from exc
    booking = booking_with_site_and_person(key)
    if booking is None or not site_allowed(actor, booking.session.site, roles=roles):
        raise NotFound()
    return booking


def booking_get_for_citizen(*, account: Any, booking_uuid: uuid.UUID | str) -> Booking:
    try:
        key = uuid.UUID(str(booking_uuid))
    except ValueError as exc:
        raise NotFound() from exc
    booking = (
        Booking.objects.filter(person__managed_by=account, uuid=key)
        .select_related("session__site", "session__campaign__vaccine", "person")
        .first()
    )
    if booking is None:
        raise NotFound()
    return booking
