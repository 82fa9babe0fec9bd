"""Sites, campaigns and sessions."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from covidhub.accounts.scoping import actor_scope
from covidhub.areas.models import Area
from covidhub.core.dates import date_text
from covidhub.core.errors import InvalidInput, NotFound
from covidhub.vaccination.models import (
    Campaign,
    PriorityGroup,
    Session,
    VaccinationSite,
    Vaccine,
)
from covidhub.vaccination.scoping import PLANNER_ROLES, site_q
from covidhub.vaccination.services.common import audit

MAX_CAPACITY = 5_000


def _covers(actor: Any, path: str, roles: tuple[str, ...] = PLANNER_ROLES) -> bool:
    scope = actor_scope(actor)
    return scope.has_role(*roles) and scope.covers_path(path)


@transaction.atomic
def site_create(*, actor: Any, name: str, commune: Area, address: str = "") -> VaccinationSite:
    """A vaccination site in a commune of the actor's area."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name or len(name) > 150:
        errors["name"] = [_("Enter the site's name (up to 150 characters).")]
    if commune.level != Area.Level.COMMUNE:
        errors["commune"] = [_("Choose the commune or ward of the site.")]
    if len(address) > 200:
        errors["address"] = [_("The address is too long.")]
    if errors:
        raise InvalidInput(details={"fields": errors})
    if not _covers(actor, commune.path):
        raise NotFound()
    site = VaccinationSite.objects.create(name=name, commune=commune, address=address.strip())
    audit(actor, "vaccination.site.created", site)
    return site


@transaction.atomic
def campaign_create(
    *,
    actor: Any,
    name: str,
    area: Area,
    vaccine: Vaccine,
    priority_groups: list[str],
    sites: list[VaccinationSite],
    starts_on: datetime.date,
    ends_on: datetime.date,
) -> Campaign:
    """A campaign in the actor's area; its sites must lie inside that area."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name or len(name) > 150:
        errors["name"] = [_("Enter the campaign's name (up to 150 characters).")]
    bad_groups = [g for g in priority_groups if g not in PriorityGroup.values]
    if bad_groups:
        errors["priority_groups"] = [_("Choose priority groups from the list.")]
    if ends_on < starts_on:
        errors["ends_on"] = [_("The campaign must end on or after its first day.")]
    if not vaccine.active:
        errors["vaccine"] = [_("This vaccine is no longer in use.")]
    outside = [s for s in sites if not s.commune_path.startswith(area.path)]
    if outside:
        errors["sites"] = [_("Every site must be inside the campaign's area.")]
    if errors:
        raise InvalidInput(details={"fields": errors})
    if not _covers(actor, area.path):
        raise NotFound()
    campaign = Campaign.objects.create(
        name=name,
        area=area,
        area_path=area.path,
        vaccine=vaccine,
        priority_groups=sorted(set(priority_groups)),
        starts_on=starts_on,
        ends_on=ends_on,
        created_by=actor,
    )
    campaign.sites.set(sites)
    audit(actor, "vaccination.campaign.created", campaign)
    return campaign


@transaction.atomic
def session_create(
    *,
    actor: Any,
    campaign: Campaign,
    site: VaccinationSite,
    date: datetime.date,
    starts_at: datetime.time,
    ends_at: datetime.time,
    capacity: int,
    self_booking: bool = True,
) -> Session:
    """A session of a campaign at one of its sites (planners, or the site's manager)."""
    from covidhub.accounts.models import Role

    if not VaccinationSite.objects.filter(
        site_q(actor, roles=(*PLANNER_ROLES, Role.SITE_MANAGER)), pk=site.pk
    ).exists():
        raise NotFound()
    errors: dict[str, list[str]] = {}
    if not campaign.sites.filter(pk=site.pk).exists():
        errors["site"] = [_("This site is not part of the campaign.")]
    if not campaign.starts_on <= date <= campaign.ends_on:
        errors["date"] = [
            _("Choose a date within the campaign (%(start)s – %(end)s).")
            % {
                "start": date_text(campaign.starts_on),
                "end": date_text(campaign.ends_on),
            }
        ]
    elif date < timezone.localdate():
        errors["date"] = [_("The date is in the past.")]
    if ends_at <= starts_at:
        errors["ends_at"] = [_("The session must end after it starts.")]
    if not 1 <= capacity <= MAX_CAPACITY:
        errors["capacity"] = [
            _("Enter the number of places (1 to %(max)s).") % {"max": MAX_CAPACITY}
        ]
    if errors:
        raise InvalidInput(details={"fields": errors})
    session = Session.objects.create(
        campaign=campaign,
        site=site,
        date=date,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        self_booking=self_booking,
    )
    audit(actor, "vaccination.session.created", session, details={"capacity": capacity})
    return session
