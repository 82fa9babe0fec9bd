"""The in-memory site check agrees with the SQL filter it stands in for, persona by persona."""

from __future__ import annotations

import pytest

from covidhub.accounts.models import Role
from covidhub.accounts.scoping import OFFICER_ROLES
from covidhub.vaccination.models import VaccinationSite
from covidhub.vaccination.scoping import SITE_ROLES, STAFF_ROLES, site_allowed, site_q

ROLE_SETS = [SITE_ROLES, STAFF_ROLES, OFFICER_ROLES, (Role.SITE_MANAGER,)]


@pytest.mark.django_db
def test_site_allowed_matches_site_q(
    citizen,
    vaccinator,
    site_manager,
    other_vaccinator,
    commune_officer,
    neighbour_officer,
    district_officer,
    other_district_officer,
    province_admin,
    site,
    other_site,
):
    personas = [
        citizen,
        vaccinator,
        site_manager,
        other_vaccinator,
        commune_officer,
        neighbour_officer,
        district_officer,
        other_district_officer,
        province_admin,
    ]
    seen = set()
    for actor in personas:
        for target in (site, other_site):
            for roles in ROLE_SETS:
                expected = VaccinationSite.objects.filter(
                    site_q(actor, roles=roles), pk=target.pk
                ).exists()
                assert site_allowed(actor, target, roles=roles) is expected, (
                    actor.username,
                    target.name,
                    roles,
                )
                seen.add(expected)
    assert seen == {True, False}
    # The cases that matter most, spelled out.
    assert site_allowed(vaccinator, site, roles=SITE_ROLES)
    assert not site_allowed(vaccinator, other_site, roles=SITE_ROLES)
    assert not site_allowed(district_officer, site, roles=SITE_ROLES)
    assert site_allowed(district_officer, site)
    assert not site_allowed(neighbour_officer, site)
    assert not site_allowed(citizen, site)
