"""Vaccination fixtures: two sites in neighbouring communes, their staff, a campaign with
a session today, a lot allocated to each site."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from covidhub.vaccination.models import (
    UNIT_KIND,
    Campaign,
    LotAllocation,
    Registration,
    Session,
    VaccinationSite,
    Vaccine,
    VaccineLot,
)


@pytest.fixture
def vaccines(db: None) -> dict[str, Vaccine]:
    """The vaccines of the data migration (again: a transactional test flushed them)."""
    import importlib

    from django.apps import apps

    importlib.import_module("covidhub.vaccination.migrations.0002_vaccines").forwards(apps, None)
    return {v.code: v for v in Vaccine.objects.all()}


@pytest.fixture
def site(area_tree: dict[str, Any]) -> VaccinationSite:
    return VaccinationSite.objects.create(name="TYT Cẩm Thượng", commune=area_tree["commune"])


@pytest.fixture
def other_site(area_tree: dict[str, Any]) -> VaccinationSite:
    return VaccinationSite.objects.create(name="TYT Sao Đỏ", commune=area_tree["far_commune"])


@pytest.fixture
def vaccinator(make_staff: Callable[..., Any], site: VaccinationSite) -> Any:
    return make_staff("vaccinator", "vaccinator", unit_kind=UNIT_KIND, unit_uuid=site.uuid)


@pytest.fixture
def site_manager(make_staff: Callable[..., Any], site: VaccinationSite) -> Any:
    return make_staff("manager", "site_manager", unit_kind=UNIT_KIND, unit_uuid=site.uuid)


@pytest.fixture
def other_vaccinator(make_staff: Callable[..., Any], other_site: VaccinationSite) -> Any:
    return make_staff("vaccinator2", "vaccinator", unit_kind=UNIT_KIND, unit_uuid=other_site.uuid)


@pytest.fixture
def other_district_officer(make_staff: Callable[..., Any], area_tree: dict[str, Any]) -> Any:
    return make_staff("district2", "district_officer", area_tree["other_district"])


@pytest.fixture
def make_lot(area_tree: dict[str, Any], vaccines: dict[str, Vaccine]) -> Callable[..., Any]:
    counter = {"n": 0}

    def make(
        *,
        site: VaccinationSite,
        vaccine: str = "astrazeneca",
        doses: int = 100,
        expiry: datetime.date | None = None,
    ) -> LotAllocation:
        counter["n"] += 1
        province = area_tree["province"]
        lot = VaccineLot.objects.create(
            vaccine=vaccines[vaccine],
            number=f"LOT{counter['n']:04d}",
            expiry_date=expiry or timezone.localdate() + datetime.timedelta(days=120),
            doses_received=doses,
            doses_allocated=doses,
            store_area=province,
            store_path=province.path,
            received_on=timezone.localdate(),
        )
        return LotAllocation.objects.create(lot=lot, site=site, doses_allocated=doses)

    return make


@pytest.fixture
def make_session(area_tree: dict[str, Any], vaccines: dict[str, Vaccine]) -> Callable[..., Any]:
    def make(
        *,
        site: VaccinationSite,
        vaccine: str = "astrazeneca",
        capacity: int = 10,
        date: datetime.date | None = None,
        groups: list[str] | None = None,
        self_booking: bool = True,
    ) -> Session:
        today = timezone.localdate()
        campaign = Campaign.objects.create(
            name="Đợt tiêm",
            area=area_tree["province"],
            area_path=area_tree["province"].path,
            vaccine=vaccines[vaccine],
            priority_groups=groups or [],
            starts_on=today - datetime.timedelta(days=365),
            ends_on=today + datetime.timedelta(days=365),
        )
        campaign.sites.add(site)
        return Session.objects.create(
            campaign=campaign,
            site=site,
            date=date or today,
            starts_at=datetime.time(7, 0),
            ends_at=datetime.time(17, 0),
            capacity=capacity,
            self_booking=self_booking,
        )

    return make


@pytest.fixture
def register() -> Callable[..., Registration]:
    def make(person: Any, group: str = "g05") -> Registration:
        return Registration.objects.create(
            person=person, priority_group=group, commune_path=person.commune_path
        )

    return make
