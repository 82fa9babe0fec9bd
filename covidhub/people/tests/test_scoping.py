"""Every page and endpoint that shows a person: the neighbouring officer gets 404, and
each access by staff is audited."""

from __future__ import annotations

import pytest

from covidhub.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def resident(make_person, area_tree):
    return make_person(
        full_name="Lê Thị Hoa",
        birth="02/02/1990",
        sex="F",
        commune=area_tree["commune"],
        id_type="cccd",
        id_number="030190123456",
    )


def person_urls(person):
    return [f"/staff/people/{person.uuid}/", f"/api/v1/staff/people/{person.uuid}"]


def test_commune_district_and_province_see_the_resident_and_it_is_audited(
    resident, commune_officer, district_officer, province_admin, login
):
    for staff in (commune_officer, district_officer, province_admin):
        client = login(staff)
        for url in person_urls(resident):
            before = AuditEvent.objects.filter(actor=staff, person_uuid=resident.uuid).count()
            response = client.get(url)
            assert response.status_code == 200, url
            assert "Lê Thị Hoa" in response.content.decode()
            events = AuditEvent.objects.filter(actor=staff, person_uuid=resident.uuid)
            assert events.count() == before + 1
            assert events.first().action == "people.person.viewed"


def test_neighbouring_officer_gets_404_everywhere(resident, neighbour_officer, login):
    client = login(neighbour_officer)
    for url in person_urls(resident):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Lê Thị Hoa" not in response.content.decode()
    response = client.put(
        f"/api/v1/staff/people/{resident.uuid}",
        {"full_name": "X", "birth": "1990", "sex": "F", "commune": "10507"},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert not AuditEvent.objects.filter(person_uuid=resident.uuid).exists()


def test_other_district_officer_gets_404(resident, make_staff, area_tree, login):
    officer = make_staff("chilinh", "district_officer", area_tree["other_district"])
    assert login(officer).get(f"/api/v1/staff/people/{resident.uuid}").status_code == 404


def test_search_is_scoped_audited_and_never_in_the_url(
    resident, make_person, area_tree, commune_officer, neighbour_officer, login
):
    make_person(
        full_name="Lê Thị Hoa", birth="1970", sex="F", commune=area_tree["neighbour_commune"]
    )
    response = login(commune_officer).post(
        "/api/v1/staff/people/search", {"q": "le thi hoa"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert [p["uuid"] for p in response.json()["items"]] == [str(resident.uuid)]
    assert AuditEvent.objects.filter(
        actor=commune_officer, action="people.person.listed", person_uuid=resident.uuid
    ).exists()
    response = login(neighbour_officer).post("/staff/people/", {"q": "030190123456"})
    assert response.status_code == 200 and "Lê Thị Hoa" not in response.content.decode()
    by_number = login(commune_officer).post("/staff/people/", {"q": "030190123456"})
    assert "Lê Thị Hoa" in by_number.content.decode()


def test_a_staff_member_without_an_officer_role_gets_404_on_people_pages(
    resident, make_staff, login
):
    import uuid

    sampler = make_staff("sampler", "sampler", unit_kind="site", unit_uuid=uuid.uuid4())
    client = login(sampler)
    assert client.get(f"/staff/people/{resident.uuid}/").status_code == 404
    assert client.get(f"/api/v1/staff/people/{resident.uuid}").status_code == 404


def test_staff_correction_is_audited_with_field_names_only(resident, commune_officer, login):
    response = login(commune_officer).put(
        f"/api/v1/staff/people/{resident.uuid}",
        {
            "full_name": "Lê Thị Hoà",
            "birth": "02/02/1990",
            "sex": "F",
            "commune": "10507",
            "id_type": "cccd",
            "id_number": "030190123456",
        },
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    event = AuditEvent.objects.filter(action="people.person.updated").get()
    assert event.actor == commune_officer and event.person_uuid == resident.uuid
    assert event.details == {"fields": ["full_name"]}
    assert "Hoà" not in str(event.details)


def test_citizen_sees_who_looked_at_their_record(citizen, citizen_person, commune_officer, login):
    login(commune_officer).get(f"/api/v1/staff/people/{citizen_person.uuid}")
    client = login(citizen)
    rows = client.get("/api/v1/household/access-log").json()["items"]
    assert (
        len(rows) == 1
        and rows[0]["actor"] == str(commune_officer)
        and rows[0]["role"] == "commune_officer"
    )
    page = client.get("/me/access-log/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert str(commune_officer) in page


def test_a_citizen_cannot_see_another_household(make_citizen, login):
    alice = make_citizen("+84912000011", full_name="Alice Nguyễn", sex="F")
    bob = make_citizen("+84912000022", full_name="Bob Trần")
    bob_person = bob.people.get()
    client = login(alice)
    assert client.get(f"/me/household/{bob_person.uuid}/").status_code == 404
    response = client.put(
        f"/api/v1/household/{bob_person.uuid}",
        {"full_name": "X Y", "birth": "1990", "sex": "M", "commune": "10507"},
        content_type="application/json",
    )
    assert response.status_code == 404
