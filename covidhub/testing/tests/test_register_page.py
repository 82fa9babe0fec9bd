"""The test registration page lists the time slots of the household's district first, with
a district filter (the demo province has dozens of slots across the province)."""

import datetime

import pytest
from django.utils import timezone

from covidhub.testing.models import Slot

pytestmark = pytest.mark.django_db


def _slot(site):
    start = timezone.now() + datetime.timedelta(hours=3)
    return Slot.objects.create(
        site=site, starts_at=start, ends_at=start + datetime.timedelta(hours=2), capacity=5
    )


def test_slots_of_the_household_district_first_with_a_filter(citizen, site, far_site, login):
    near, far = _slot(site), _slot(far_site)
    client = login(citizen)
    page = client.get("/testing/register/").content.decode()
    assert f"slot:{near.uuid}" in page and f"slot:{far.uuid}" not in page
    assert 'name="district"' in page
    everything = client.get("/testing/register/?district=").content.decode()
    assert f"slot:{near.uuid}" in everything and f"slot:{far.uuid}" in everything
    other = client.get("/testing/register/?district=290").content.decode()
    assert f"slot:{near.uuid}" not in other and f"slot:{far.uuid}" in other
