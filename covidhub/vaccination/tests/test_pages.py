"""Pages: they render for the right people, 404 for the others, lists without N+1."""

from __future__ import annotations

import pytest

from covidhub.vaccination import services


@pytest.fixture
def day(citizen, citizen_person, register, site, make_session, make_lot):
    register(citizen_person)
    session = make_session(site=site)
    make_lot(site=site)
    booking = services.booking_create(actor=citizen, person=citizen_person, session=session)
    return booking


def test_citizen_pages(day, citizen, login):
    client = login(citizen)
    for url in (
        "/vaccination/register/",
        "/vaccination/me/",
        f"/vaccination/book/{day.person.uuid}/",
    ):
        assert client.get(url).status_code == 200, url
    assert client.get(f"/vaccination/me/bookings/{day.uuid}/qr.svg").status_code == 200
    assert day.code in client.get("/vaccination/me/").content.decode()


def test_another_household_gets_404(day, make_citizen, login):
    other = login(make_citizen("+84912555444", full_name="Đỗ Văn Khác"))
    assert other.get(f"/vaccination/me/bookings/{day.uuid}/qr.svg").status_code == 404
    assert other.get(f"/vaccination/book/{day.person.uuid}/").status_code == 404


def test_site_pages_for_own_site_only(day, vaccinator, other_vaccinator, login):
    site = day.session.site
    assert login(vaccinator).get(f"/staff/vaccination/sites/{site.uuid}/").status_code == 200
    other = login(other_vaccinator)
    assert other.get(f"/staff/vaccination/sites/{site.uuid}/").status_code == 404
    assert other.get(f"/staff/vaccination/bookings/{day.uuid}/screening/").status_code == 404
    assert other.get(f"/staff/vaccination/bookings/{day.uuid}/dose/").status_code == 404


def test_officer_pages(day, district_officer, login):
    client = login(district_officer)
    for url in (
        "/staff/vaccination/",
        "/staff/vaccination/reports/",
        "/staff/vaccination/reports/?by=age_band",
        "/staff/vaccination/reports/?by=priority_group",
        "/staff/vaccination/aefi/",
        "/staff/vaccination/import/",
        "/staff/vaccination/campaigns/new/",
        f"/staff/vaccination/people/{day.person.uuid}/",
        f"/staff/vaccination/sessions/{day.session.uuid}/invite/",
    ):
        assert client.get(url).status_code == 200, url


def test_queue_list_has_no_n_plus_one(
    day, vaccinator, login, make_citizen, register, django_assert_max_num_queries
):
    for n in range(5):
        account = make_citizen(f"+8491233300{n}", full_name=f"Người Xếp Hàng {'ABCDE'[n]}")
        register(account.people.get())
        services.booking_create(actor=account, person=account.people.get(), session=day.session)
    client = login(vaccinator)
    url = f"/api/v1/vaccination/staff/sites/{day.session.site.uuid}/queue"
    with django_assert_max_num_queries(12):
        response = client.get(url)
    assert len(response.json()["items"]) == 6


@pytest.mark.parametrize(
    ("days_ago", "vaccine", "shown"),
    [
        (100, "astrazeneca", "was due by"),  # due 84 days after: 16 days late
        (10, "pfizer", "due on"),  # earliest and due the same day (21 days after)
        (10, "astrazeneca", "due by"),  # from day 56, due by day 84
    ],
)
def test_next_dose_says_overdue_or_when_it_falls_due(
    citizen, citizen_person, district_officer, vaccines, login, days_ago, vaccine, shown
):
    import datetime

    from django.conf import settings
    from django.utils import timezone

    services.dose_record_elsewhere(
        actor=district_officer,
        person=citizen_person,
        vaccine=vaccines[vaccine],
        administered_on=timezone.localdate() - datetime.timedelta(days=days_ago),
        place="Bệnh viện Bạch Mai, Hà Nội",
        evidence_note="Giấy xác nhận tiêm chủng số 123",
    )
    client = login(citizen)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/vaccination/me/").content.decode()
    sentences = {"was due by": "as soon as you can", "due on": ": due on ", "due by": ", due by "}
    assert sentences[shown] in html
    assert all(text not in html for key, text in sentences.items() if key != shown)
