"""Opening orders: a positive result (in the release's transaction), an officer's
confirmation with the eligibility rules, a contact confirmed by the commune; scoping."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from covidhub.core.errors import NotFound
from covidhub.homecare.errors import OrderAlreadyOpen
from covidhub.homecare.models import CareOrder
from covidhub.homecare.protocol import AGE_OVER, PREGNANT
from covidhub.homecare.services.orders import order_open_case

pytestmark = pytest.mark.django_db


def test_a_positive_result_opens_an_f0_order_once(citizen_person, make_result):
    from covidhub.audit.models import AuditEvent
    from covidhub.testing.notify import results_notify_pending

    result = make_result(citizen_person, "positive")
    assert results_notify_pending() == 1
    order = CareOrder.objects.get(person=citizen_person)
    assert order.kind == CareOrder.Kind.HOME_CARE
    assert order.status == CareOrder.Status.OPEN
    assert order.source == CareOrder.Source.TESTING
    assert order.source_reference == str(result.uuid)
    assert order.start_date == timezone.localdate(result.collected_at)
    assert (
        AuditEvent.objects.filter(
            action="homecare.order.opened", person_uuid=citizen_person.uuid
        ).count()
        == 1
    )
    # An amendment (the same result released again) opens nothing new.
    result.version = 2
    result.save(update_fields=["version"])
    assert results_notify_pending() == 1
    assert CareOrder.objects.filter(person=citizen_person).count() == 1


def test_a_negative_result_opens_nothing(citizen_person, make_result):
    from covidhub.testing.notify import results_notify_pending

    make_result(citizen_person, "negative")
    results_notify_pending()
    assert not CareOrder.objects.exists()


def test_eligibility_refers_the_old_and_the_pregnant(make_person, commune_officer):
    old = make_person(full_name="Cụ Già", birth="01/01/1940")
    order = order_open_case(actor=commune_officer, person=old)
    assert order.status == CareOrder.Status.REFERRED
    assert AGE_OVER in order.eligibility
    assert order.risk == CareOrder.Risk.HIGH
    young = make_person(full_name="Chị Trẻ", birth="01/01/1995", sex="F")
    kept = order_open_case(actor=commune_officer, person=young, pregnant=True, keep_at_home=True)
    assert kept.status == CareOrder.Status.OPEN
    assert kept.eligibility == [PREGNANT]


def test_one_open_order_per_person(order, commune_officer, citizen_person):
    with pytest.raises(OrderAlreadyOpen):
        order_open_case(actor=commune_officer, person=citizen_person)


def test_the_neighbouring_officer_cannot_open_an_order(citizen_person, neighbour_officer):
    with pytest.raises(NotFound):
        order_open_case(actor=neighbour_officer, person=citizen_person)
    assert not CareOrder.objects.exists()


def test_a_confirmed_contact_opens_an_f1_order_linked_to_the_case(
    make_person, commune_officer, district_officer, area_tree
):
    from covidhub.declarations.models import Case, ExposureCandidate, Venue
    from covidhub.homecare.services.orders import order_open_contact

    case_person = make_person(full_name="Người Bệnh")
    contact = make_person(full_name="Người Tiếp Xúc")
    f0 = order_open_case(actor=commune_officer, person=case_person)
    case = Case.objects.create(
        person=case_person,
        commune_path=case_person.commune_path,
        onset_date=timezone.localdate(),
        window_minutes=30,
        source="officer",
        status="confirmed",
        proposed_by=commune_officer,
        decided_by=district_officer,
        decided_at=timezone.now(),
    )
    venue = Venue.objects.create(
        name="Chợ Cẩm Thượng",
        kind="market",
        commune=area_tree["commune"],
        commune_path=area_tree["commune"].path,
        address_line="Phố Chợ",
        contact_name="Chủ",
        contact_phone="+84912000999",
    )
    candidate = ExposureCandidate.objects.create(
        case=case,
        person=contact,
        commune_path=contact.commune_path,
        venue=venue,
        first_overlap_at=timezone.now() - datetime.timedelta(days=1),
    )
    f1 = order_open_contact(actor=commune_officer, candidate=candidate)
    assert f1.kind == CareOrder.Kind.QUARANTINE
    assert f1.source_order == f0
    assert f1.venue_name == "Chợ Cẩm Thượng"
    # The contact becomes a case: the quarantine gives way to home care.
    f0_of_contact = order_open_case(actor=commune_officer, person=contact)
    f1.refresh_from_db()
    assert f1.status == CareOrder.Status.SUPERSEDED
    assert f0_of_contact.status == CareOrder.Status.OPEN
