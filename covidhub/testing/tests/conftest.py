"""Testing's fixtures: two sites, two labs, their staff, and a helper that walks a tube
from collection to the laboratory."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from covidhub.testing import collection, results
from covidhub.testing.models import Lab, SamplingSession, Site, Slot, Tube


@pytest.fixture
def site(area_tree: dict[str, Any]) -> Site:
    return Site.objects.create(name="Trạm Y tế Cẩm Thượng", commune=area_tree["commune"])


@pytest.fixture
def far_site(area_tree: dict[str, Any]) -> Site:
    return Site.objects.create(name="Điểm Sao Đỏ", commune=area_tree["far_commune"])


@pytest.fixture
def lab(area_tree: dict[str, Any]) -> Lab:
    return Lab.objects.create(name="CDC Hải Dương", code="CDC", commune=area_tree["commune"])


@pytest.fixture
def other_lab(area_tree: dict[str, Any]) -> Lab:
    return Lab.objects.create(name="BV Chí Linh", code="BVCL", commune=area_tree["far_commune"])


@pytest.fixture
def sampler(make_staff: Callable[..., Any], site: Site) -> Any:
    return make_staff("laymau", "sampler", unit_kind="site", unit_uuid=site.uuid)


@pytest.fixture
def far_sampler(make_staff: Callable[..., Any], far_site: Site) -> Any:
    return make_staff("laymau-xa", "sampler", unit_kind="site", unit_uuid=far_site.uuid)


@pytest.fixture
def technician(make_staff: Callable[..., Any], lab: Lab) -> Any:
    return make_staff("ktv", "lab_technician", unit_kind="lab", unit_uuid=lab.uuid)


@pytest.fixture
def technician2(make_staff: Callable[..., Any], lab: Lab) -> Any:
    return make_staff("ktv2", "lab_technician", unit_kind="lab", unit_uuid=lab.uuid)


@pytest.fixture
def other_technician(make_staff: Callable[..., Any], other_lab: Lab) -> Any:
    return make_staff("ktv-khac", "lab_technician", unit_kind="lab", unit_uuid=other_lab.uuid)


@pytest.fixture
def slot(site: Site) -> Slot:
    start = timezone.now() + datetime.timedelta(hours=2)
    return Slot.objects.create(
        site=site, starts_at=start, ends_at=start + datetime.timedelta(hours=2), capacity=3
    )


@pytest.fixture
def pcr_session(sampler: Any, site: Site) -> Callable[..., SamplingSession]:
    def make(pool_size: int = 1, test_type: str = "pcr") -> SamplingSession:
        return collection.session_open(
            actor=sampler, site=site, test_type=test_type, pool_size=pool_size
        )

    return make


@pytest.fixture
def collected_tube(
    sampler: Any, technician: Any, lab: Lab, pcr_session: Callable[..., SamplingSession]
) -> Callable[..., Tube]:
    """People → one tube (pooled when more than one) → shipped → received by `lab`."""
    counter = {"n": 0}

    def make(people: list[Any], *, receive: bool = True, barcode: str | None = None) -> Tube:
        counter["n"] += 1
        session = pcr_session(pool_size=max(1, len(people)))
        code = barcode or f"TUBE{counter['n']:05d}"
        collection.scan_handle(actor=sampler, session=session, text=code)
        for person in people:
            collection.person_to_tube(actor=sampler, session=session, person=person)
        shipment = collection.shipment_create(actor=sampler, session=session, lab=lab)
        if receive:
            results.shipment_receive(actor=technician, shipment=shipment, barcodes=[code])
        return Tube.objects.get(barcode=code)

    return make
