"""Receiving and allocating vaccine stock from the web (it was API-only): a district
officer receives a lot into the district store and allocates doses to a site of the
district; another district's officer and a commune officer cannot."""

import datetime

import pytest
from django.utils import timezone

from covidhub.vaccination.models import LotAllocation, VaccineLot

pytestmark = pytest.mark.django_db
URL = "/staff/vaccination/stock/"


def test_district_officer_receives_and_allocates_a_lot(
    district_officer, site, vaccines, login, django_assert_max_num_queries
):
    client = login(district_officer)
    assert client.get(URL).status_code == 200
    expiry = timezone.localdate() + datetime.timedelta(days=90)
    response = client.post(
        URL,
        {
            "action": "receive",
            "vaccine": vaccines["pfizer"].pk,
            "number": "pf-0001",
            "expiry_date": expiry.isoformat(),
            "doses": "600",
            "store": "288",
        },
    )
    assert response.status_code == 302
    lot = VaccineLot.objects.get(number="PF-0001")
    assert lot.doses_received == 600 and lot.store_area.code == "288"
    response = client.post(
        URL, {"action": "allocate", "lot": str(lot.uuid), "site": str(site.uuid), "doses": "250"}
    )
    assert response.status_code == 302
    assert LotAllocation.objects.get(lot=lot, site=site).doses_allocated == 250
    # Too many doses: a translated message on the page, nothing changes.
    page = client.post(
        URL,
        {"action": "allocate", "lot": str(lot.uuid), "site": str(site.uuid), "doses": "999"},
        follow=True,
    )
    assert page.status_code == 200 and "PF-0001" in page.content.decode()
    assert LotAllocation.objects.get(lot=lot, site=site).doses_allocated == 250
    with django_assert_max_num_queries(30):
        assert "PF-0001" in client.get(URL).content.decode()


def test_other_district_and_commune_officers_cannot(
    make_lot, site, other_district_officer, commune_officer, login
):
    lot = make_lot(site=site).lot
    other = login(other_district_officer)
    assert lot.number not in other.get(URL).content.decode()
    response = other.post(
        URL, {"action": "allocate", "lot": str(lot.uuid), "site": str(site.uuid), "doses": "1"}
    )
    assert response.status_code == 404
    assert login(commune_officer).get(URL).status_code in (403, 404)
