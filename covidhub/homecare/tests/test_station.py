"""The station's day (scoped, audited, a constant number of queries), the pages'
scoping, and the portal's figures with small cells suppressed."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from covidhub.homecare import selectors
from covidhub.homecare.services.checks import self_check_submit
from covidhub.homecare.services.orders import order_open_case
from covidhub.homecare.tests.conftest import check_data

pytestmark = pytest.mark.django_db


def test_the_station_day_puts_who_needs_a_call_first(
    order, citizen, commune_officer, make_person, django_assert_max_num_queries
):
    quiet = make_person(full_name="Người Ổn Định")
    calm = order_open_case(actor=commune_officer, person=quiet)
    # Checked by phone by the station: not missed.
    self_check_submit(actor=commune_officer, order=calm, data=check_data(9))
    self_check_submit(actor=citizen, order=order, data=check_data(1, spo2="92"))
    commune = selectors.commune_of_actor(actor=commune_officer, code=None)
    with django_assert_max_num_queries(12):
        day = selectors.station_day(actor=commune_officer, commune=commune)
    assert day.count == 2
    assert [r.order.pk for r in day.rows] == [order.pk, calm.pk]
    assert day.rows[0].needs_call and day.rows[0].open_alerts == 1
    assert not day.rows[1].needs_call
    assert len(day.alerts) == 1
    # The list's size does not change the number of queries.
    for name in ("An", "Bình", "Chi", "Dũng", "Hà"):
        order_open_case(actor=commune_officer, person=make_person(full_name=f"Trần {name}"))
    with django_assert_max_num_queries(12):
        assert selectors.station_day(actor=commune_officer, commune=commune).count == 7


def test_every_order_shown_is_audited(order, commune_officer):
    from covidhub.audit.models import AuditEvent

    commune = selectors.commune_of_actor(actor=commune_officer, code=None)
    selectors.station_day(actor=commune_officer, commune=commune)
    assert AuditEvent.objects.filter(
        action="homecare.order.listed", person_uuid=order.person.uuid, actor=commune_officer
    ).exists()


def test_the_neighbour_sees_nothing(order, neighbour_officer, login, area_tree):
    client = login(neighbour_officer)
    assert client.get(f"/staff/homecare/orders/{order.uuid}/").status_code == 404
    page = client.get(f"/staff/homecare/?commune={area_tree['commune'].code}")
    assert page.status_code == 404
    own = client.get("/staff/homecare/")
    assert own.status_code == 200
    assert order.person.full_name not in own.content.decode()


def test_the_officer_pages(order, citizen, commune_officer, login):
    check, _ = self_check_submit(actor=citizen, order=order, data=check_data(2, spo2="92"))
    client = login(commune_officer)
    station = client.get("/staff/homecare/")
    assert order.person.full_name in station.content.decode()
    assert client.get(f"/staff/homecare/orders/{order.uuid}/").status_code == 200
    alert = check.alert
    assert client.get(f"/staff/homecare/alerts/{alert.uuid}/").status_code == 200
    closed = client.post(
        f"/staff/homecare/alerts/{alert.uuid}/action/", {"action": "close", "outcome": "visited"}
    )
    assert closed.status_code == 302
    alert.refresh_from_db()
    assert alert.status == "closed" and alert.outcome == "visited"
    assert order.visits.filter(kind="visit").count() == 1


def test_the_household_page_and_api(order, citizen, login):
    client = login(citizen)
    assert order.person.full_name in client.get("/homecare/").content.decode()
    url = f"/api/v1/homecare/orders/{order.uuid}/checks"
    body = {"client_key": "phone-0001-abcd", "spo2": 97, "temperature": "37.1"}
    first = client.post(url, body, content_type="application/json")
    again = client.post(url, body, content_type="application/json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["uuid"] == again.json()["uuid"]
    bad = client.post(
        url, {"client_key": "phone-0002-abcd", "spo2": 150}, content_type="application/json"
    )
    assert bad.status_code == 422
    unknown = client.post(
        url, {"client_key": "phone-0003-abcd", "spo3": 90}, content_type="application/json"
    )
    assert unknown.status_code == 422


def test_the_portal_counts_people_under_care_with_small_cells_suppressed(
    make_person, commune_officer, area_tree
):
    from covidhub.portal.models import StatCell
    from covidhub.portal.rollup import stats_rollup

    today = timezone.localdate()
    for name in ("An", "Bình", "Chi", "Dũng", "Hà", "Khoa"):
        order_open_case(
            actor=commune_officer,
            person=make_person(full_name=f"Lê {name}"),
            start=today - datetime.timedelta(days=1),
        )
    stats_rollup(since=today - datetime.timedelta(days=2), until=today)
    commune = StatCell.objects.get(area=area_tree["commune"], metric="homecare", day=today)
    assert (commune.value, commune.shown, commune.suppression) == (6, 6, "")
    one = make_person(full_name="Người Duy Nhất", commune=area_tree["neighbour_commune"])
    order_open_case(actor=None, person=one)
    stats_rollup(since=today, until=today)
    small = StatCell.objects.get(area=area_tree["neighbour_commune"], metric="homecare", day=today)
    assert small.shown is None and small.suppression == "small"


def test_the_list_puts_alerts_then_the_longest_silent_first(
    order, citizen, commune_officer, make_person
):
    """One ordering on SQLite and PostgreSQL alike: never checked in counts as the longest
    silence (PostgreSQL would put NULLs last)."""
    from covidhub.homecare.models import CareOrder

    checked = order_open_case(actor=commune_officer, person=make_person(full_name="Đã Gửi"))
    never = order_open_case(actor=commune_officer, person=make_person(full_name="Chưa Gửi"))
    CareOrder.objects.filter(pk=checked.pk).update(
        last_check_at=timezone.now() - datetime.timedelta(hours=1)
    )
    CareOrder.objects.filter(pk=order.pk).update(
        last_check_at=timezone.now() - datetime.timedelta(minutes=5)
    )
    commune = selectors.commune_of_actor(actor=commune_officer, code=None)
    listed = selectors.station_day(actor=commune_officer, commune=commune, limit=2)
    assert listed.count == 3
    assert [r.order.pk for r in listed.rows] == [never.pk, checked.pk]
    self_check_submit(actor=citizen, order=order, data=check_data(3, spo2="90"))
    listed = selectors.station_day(actor=commune_officer, commune=commune, limit=2)
    assert listed.rows[0].order.pk == order.pk and listed.rows[0].open_alerts == 1


def _six_more(commune_officer, make_person):
    from covidhub.homecare.models import CareOrder

    made = []
    for hours, name in ((30, "An"), (20, "Bình"), (10, "Chi"), (5, "Dũng"), (1, "Hà")):
        opened = order_open_case(actor=commune_officer, person=make_person(full_name=f"Võ {name}"))
        CareOrder.objects.filter(pk=opened.pk).update(
            last_check_at=timezone.now() - datetime.timedelta(hours=hours)
        )
        made.append(opened)
    never = order_open_case(actor=commune_officer, person=make_person(full_name="Võ Khoa"))
    return [never, *made]


def test_the_list_is_paged_alerts_first_then_the_longest_silent(
    order, citizen, commune_officer, make_person
):
    """Pages of the list follow one order (alerts, then never checked in, then the longest
    silent) without a person twice or left out; the count is of every person under care."""
    silent = _six_more(commune_officer, make_person)
    self_check_submit(actor=citizen, order=order, data=check_data(4, spo2="91"))
    commune = selectors.commune_of_actor(actor=commune_officer, code=None)
    pages = [
        selectors.station_list(actor=commune_officer, commune=commune, offset=offset, limit=3)
        for offset in (0, 3, 6)
    ]
    assert [r.order.pk for page in pages for r in page.rows] == [
        order.pk,
        *[o.pk for o in silent],
    ]
    assert [page.count for page in pages] == [7, 7, 7]
    assert [page.next_offset for page in pages] == [3, 6, None]
    assert pages[0].rows[0].open_alerts == 1 and pages[0].rows[0].needs_call
    assert pages[0].rows[1].order.person.full_name == "Võ Khoa"


def test_the_list_api_pages_with_a_next_link(order, commune_officer, make_person, login):
    _six_more(commune_officer, make_person)
    commune = selectors.commune_of_actor(actor=commune_officer, code=None)
    client = login(commune_officer)
    first = client.get(f"/api/v1/homecare/station?commune={commune.code}&limit=4").json()
    assert first["count"] == 7 and len(first["rows"]) == 4
    assert "offset=4" in first["next"]
    rest = client.get(first["next"]).json()
    assert len(rest["rows"]) == 3 and rest["next"] is None
    shown = [r["order"]["uuid"] for r in first["rows"] + rest["rows"]]
    assert len(set(shown)) == 7
    assert rest["rows"][-1]["order"]["person_name"].startswith("Võ")


def test_the_list_of_a_commune_outside_the_area_is_empty(order, neighbour_officer, area_tree):
    listed = selectors.station_list(actor=neighbour_officer, commune=area_tree["commune"])
    assert (listed.rows, listed.count) == ([], 0)
