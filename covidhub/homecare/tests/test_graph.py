"""The contact graph: a case's chain F0 → F1 → (became a case) → F2 with venues, people
outside the officer's area counted but not named, clusters by venue with their growth."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from covidhub.homecare.graph import clusters_by_venue, contact_chain
from covidhub.homecare.models import CareOrder
from covidhub.homecare.protocol import protocol_active
from covidhub.homecare.services.orders import order_open_case

pytestmark = pytest.mark.django_db


def _contact(source, person, venue, days_ago):
    start = timezone.localdate() - datetime.timedelta(days=days_ago)
    return CareOrder.objects.create(
        person=person,
        kind=CareOrder.Kind.QUARANTINE,
        source=CareOrder.Source.CONTACT,
        source_order=source,
        venue_name=venue,
        contact_at=timezone.now() - datetime.timedelta(days=days_ago),
        protocol=protocol_active(),
        commune=person.commune,
        commune_path=person.commune_path,
        start_date=start,
        planned_end=start + datetime.timedelta(days=7),
    )


def test_a_chain_from_f0_to_f2_and_clusters(
    make_person, commune_officer, neighbour_officer, area_tree
):
    first = make_person(full_name="Ca Đầu Tiên")
    f0 = order_open_case(
        actor=commune_officer,
        person=first,
        start=timezone.localdate() - datetime.timedelta(days=10),
    )
    contact = make_person(full_name="Người Tiếp Xúc Một")
    away = make_person(full_name="Người Xã Bên", commune=area_tree["neighbour_commune"])
    f1 = _contact(f0, contact, "Chợ Cẩm Thượng", 9)
    _contact(f0, away, "Chợ Cẩm Thượng", 9)
    f1.status = CareOrder.Status.SUPERSEDED
    f1.save(update_fields=["status"])
    f1_case = order_open_case(
        actor=commune_officer,
        person=contact,
        start=timezone.localdate() - datetime.timedelta(days=5),
    )
    second = make_person(full_name="Người Tiếp Xúc Hai")
    _contact(f1_case, second, "Quán cà phê Hồng", 4)

    root = contact_chain(actor=commune_officer, order=f1_case)
    assert root.order == f0 and root.level == 0
    names = [c.order.person.full_name if c.order else None for c in root.children]
    assert names == ["Người Tiếp Xúc Một", None]  # the neighbour's person is not named
    became = root.children[0]
    assert became.became_case
    assert [c.order.person.full_name for c in became.children] == ["Người Tiếp Xúc Hai"]
    assert became.children[0].level == 2

    clusters = {c.venue: c for c in clusters_by_venue(actor=commune_officer)}
    assert clusters["Chợ Cẩm Thượng"].contacts == 1  # the other contact is not in the area
    assert clusters["Quán cà phê Hồng"].last_week == 1
    # The neighbouring officer sees their own contact's venue only.
    theirs = clusters_by_venue(actor=neighbour_officer)
    assert [c.venue for c in theirs] == ["Chợ Cẩm Thượng"]


def test_the_chain_page_is_scoped(order, commune_officer, neighbour_officer, login):
    assert (
        login(commune_officer).get(f"/staff/homecare/orders/{order.uuid}/chain/").status_code == 200
    )
    assert (
        login(neighbour_officer).get(f"/staff/homecare/orders/{order.uuid}/chain/").status_code
        == 404
    )
