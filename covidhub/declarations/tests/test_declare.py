"""Declaring for oneself and family: answers kept as submitted, follow-up on risk, bad or
contradictory input refused field by field with nothing saved, retries create nothing twice."""

from __future__ import annotations

import pytest
from django.utils import timezone

from covidhub.core.testing import form_tokens_in
from covidhub.declarations.models import Declaration, FollowUp

from .conftest import answers

pytestmark = pytest.mark.django_db


def post(client, person, **overrides):
    return client.post(
        "/api/v1/declarations/declarations",
        {"person": str(person.uuid), **answers(**overrides)},
        content_type="application/json",
    )


def test_a_declaration_without_risk_is_kept_as_submitted_and_creates_no_follow_up(
    citizen, citizen_person, login
):
    response = post(login(citizen), citizen_person, travelled=True, travel_places="Hà Nội")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["follow_up"] is False
    declaration = Declaration.objects.get()
    assert declaration.person == citizen_person
    assert declaration.answers["travel_places"] == "Hà Nội"
    assert declaration.answers["consent"] is True
    assert declaration.phone == "+84912345678"
    assert not FollowUp.objects.exists()
    # One statement stores the snapshot of the person and answers what the ORM would.
    assert (declaration.full_name, declaration.birth_year) == (
        citizen_person.full_name,
        citizen_person.birth_year,
    )
    assert declaration.submitted_by == citizen
    assert declaration.commune.code == "10507" and declaration.commune_path
    assert declaration.day == timezone.localdate(declaration.created_at)
    assert body["uuid"] == str(declaration.uuid)
    assert body["person"] == str(citizen_person.uuid)
    assert body["full_name"] == citizen_person.full_name
    assert body["commune_code"] == "10507"
    assert body["answers"] == declaration.answers


def test_symptoms_or_exposure_put_the_person_on_the_commune_follow_up_list(
    citizen, child, login, area_tree
):
    response = post(
        login(citizen),
        child,
        no_symptoms=False,
        symptoms=["cough", "shortness_of_breath"],
        commune="10510",
    )
    assert response.status_code == 201
    item = FollowUp.objects.get()
    assert item.person == child
    assert item.commune == area_tree["neighbour_commune"]
    assert item.urgency == FollowUp.Urgency.URGENT
    assert set(item.reasons) == {"cough", "shortness_of_breath"}
    post(login(citizen), child, contact_symptomatic=True)
    assert FollowUp.objects.order_by("id").last().urgency == FollowUp.Urgency.LOW


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"consent": False}, {"consent"}),
        ({"phone": "12"}, {"phone"}),
        ({"commune": "99999", "address_line": ""}, {"commune", "address_line"}),
        ({"travelled": True, "travel_places": ""}, {"travel_places"}),
        ({"travelled": False, "travel_places": "Đà Nẵng"}, {"travel_places"}),
        ({"travelled": None}, {"travelled"}),
        ({"no_symptoms": True, "symptoms": ["fever"]}, {"no_symptoms"}),
        ({"no_symptoms": False, "symptoms": []}, {"symptoms"}),
        ({"no_symptoms": False, "symptoms": ["headache"]}, {"symptoms"}),
        (
            {"contact_case": None, "contact_symptomatic": None},
            {"contact_case", "contact_symptomatic"},
        ),
    ],
)
def test_bad_or_contradictory_answers_get_field_messages_and_nothing_is_saved(
    citizen, citizen_person, login, overrides, fields
):
    response = post(login(citizen), citizen_person, **overrides)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["details"]["fields"]) == fields
    assert all(body["details"]["fields"][f][0] for f in fields)
    assert not Declaration.objects.exists()
    assert not FollowUp.objects.exists()


def test_the_form_shows_field_messages_in_vietnamese_and_saves_nothing(
    citizen, citizen_person, login
):
    client = login(citizen)
    page = client.get(f"/declarations/{citizen_person.uuid}/new/")
    assert page.status_code == 200
    assert "Số 5" not in page.content.decode()  # prefilled from the record (empty address)
    response = client.post(
        f"/declarations/{citizen_person.uuid}/new/",
        {
            "commune": "10507",
            "address_line": "Số 5",
            "travelled": "yes",
            "symptoms": ["fever"],
            "no_symptoms": "on",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    for field in ("travel_places", "no_symptoms", "consent", "phone", "contact_case"):
        assert f'id="id_{field}_errors"' in html, field
    assert "Xác nhận rằng" in html  # the consent message, in Vietnamese
    assert not Declaration.objects.exists()


def test_the_form_declares_for_a_family_member_and_the_next_one_is_prefilled(citizen, child, login):
    client = login(citizen)
    data = {
        "phone": "0912345678",
        "commune": "10507",
        "address_line": "Số 7 Phố Mới",
        "travelled": "no",
        "no_symptoms": "on",
        "contact_case": "no",
        "contact_outbreak_area": "no",
        "contact_symptomatic": "no",
        "chronic_conditions": "Hen suyễn",
        "consent": "on",
    }
    [data["form_token"]] = form_tokens_in(client.get(f"/declarations/{child.uuid}/new/"))
    response = client.post(f"/declarations/{child.uuid}/new/", data)
    assert response.status_code == 302
    again = client.post(f"/declarations/{child.uuid}/new/", data)  # the phone retried
    assert again.status_code == 303 and again["Location"] == response["Location"]
    assert Declaration.objects.filter(person=child).count() == 1
    page = client.get(f"/declarations/{child.uuid}/new/").content.decode()
    assert "Số 7 Phố Mới" in page and "Hen suyễn" in page


def test_a_retried_api_submission_with_the_same_key_exists_once(citizen, citizen_person, login):
    client = login(citizen)
    headers = {"HTTP_IDEMPOTENCY_KEY": "retry-after-lost-signal-1"}
    body = {"person": str(citizen_person.uuid), **answers(no_symptoms=False, symptoms=["fever"])}
    first = client.post(
        "/api/v1/declarations/declarations", body, content_type="application/json", **headers
    )
    second = client.post(
        "/api/v1/declarations/declarations", body, content_type="application/json", **headers
    )
    assert first.status_code == second.status_code == 201
    assert first.json()["uuid"] == second.json()["uuid"]
    assert Declaration.objects.count() == 1
    assert FollowUp.objects.count() == 1


def test_nobody_declares_for_a_person_outside_their_household(citizen, make_citizen, login):
    other = make_citizen("+84912999888").people.get()
    response = post(login(citizen), other)
    assert response.status_code == 404
    assert login(citizen).get(f"/declarations/{other.uuid}/new/").status_code == 404
    assert not Declaration.objects.exists()


def test_prefill_endpoint_and_list(citizen, citizen_person, login):
    client = login(citizen)
    prefill = client.get(f"/api/v1/declarations/people/{citizen_person.uuid}/prefill").json()
    assert prefill["commune"] == "10507"
    assert prefill["phone"] == "+84912345678"
    post(client, citizen_person, chronic_conditions="Tiểu đường")
    prefill = client.get(f"/api/v1/declarations/people/{citizen_person.uuid}/prefill").json()
    assert prefill["chronic_conditions"] == "Tiểu đường"
    listed = client.get("/api/v1/declarations/declarations").json()["items"]
    assert len(listed) == 1 and listed[0]["person"] == str(citizen_person.uuid)
