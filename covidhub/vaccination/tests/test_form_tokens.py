"""Each vaccination page form sent twice with its token (a double tap, a retried request)
creates once; the second lands on the first's result (covidhub.core.formtokens)."""

from __future__ import annotations

import pytest

from covidhub.core.testing import post_form_twice
from covidhub.vaccination import services
from covidhub.vaccination.models import Booking, Dose, Registration, StockWastage

pytestmark = pytest.mark.django_db


def _replayed(first, second):
    assert first.status_code == 302, getattr(first, "content", b"")[:2000]
    assert second.status_code == 303 and second["Location"] == first["Location"]
    return True


def test_registration_form_twice_registers_once(citizen, citizen_person, login):
    first, second = post_form_twice(
        login(citizen),
        "/vaccination/register/",
        {"person": str(citizen_person.uuid), "priority_group": "g05", "occupation": "Giáo viên"},
    )
    assert _replayed(first, second)
    assert Registration.objects.filter(person=citizen_person).count() == 1


def test_booking_form_twice_books_once(
    citizen, citizen_person, register, site, make_session, login
):
    register(citizen_person)
    session = make_session(site=site)
    first, second = post_form_twice(
        login(citizen), f"/vaccination/book/{citizen_person.uuid}/", {"session": str(session.uuid)}
    )
    assert _replayed(first, second)
    assert Booking.objects.filter(person=citizen_person).count() == 1


def test_site_check_in_and_dose_forms_twice_record_once(
    citizen, citizen_person, register, site, vaccinator, make_session, make_lot, login
):
    register(citizen_person)
    session = make_session(site=site)
    allocation = make_lot(site=site)
    booking = services.booking_create(actor=citizen, person=citizen_person, session=session)
    client = login(vaccinator)
    first, second = post_form_twice(
        client, f"/staff/vaccination/sites/{site.uuid}/", {"code": booking.code}
    )
    assert _replayed(first, second)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CHECKED_IN
    services.screening_record(
        actor=vaccinator, booking=booking, answers={}, temperature=36.6, outcome="vaccinate"
    )
    first, second = post_form_twice(
        client,
        f"/staff/vaccination/bookings/{booking.uuid}/dose/",
        {"lot": str(allocation.lot.uuid), "override_reason": ""},
    )
    assert _replayed(first, second)
    assert Dose.objects.filter(person=citizen_person).count() == 1
    allocation.refresh_from_db()
    assert allocation.doses_left == allocation.doses_allocated - 1


def test_stock_wastage_form_twice_records_once(site, vaccinator, make_lot, login):
    allocation = make_lot(site=site)
    first, second = post_form_twice(
        login(vaccinator),
        f"/staff/vaccination/sites/{site.uuid}/wastage/",
        {"lot": str(allocation.lot.uuid), "doses": "3", "reason": "broken"},
    )
    assert _replayed(first, second)
    assert StockWastage.objects.filter(allocation=allocation).count() == 1


def test_stock_receiving_form_twice_receives_once(district_officer, vaccines, login):
    import datetime

    from django.utils import timezone

    from covidhub.vaccination.models import VaccineLot

    first, second = post_form_twice(
        login(district_officer),
        "/staff/vaccination/stock/",
        {
            "action": "receive",
            "vaccine": vaccines["pfizer"].pk,
            "number": "pf-0002",
            "expiry_date": (timezone.localdate() + datetime.timedelta(days=90)).isoformat(),
            "doses": "600",
            "store": "288",
        },
    )
    assert _replayed(first, second)
    assert VaccineLot.objects.filter(number="PF-0002").count() == 1
