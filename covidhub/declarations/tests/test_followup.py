"""The commune health station's follow-up list: scoped to the officer's communes (the
neighbouring commune's officer gets 404), the district sees its communes, newest and most
urgent first, calls recorded with their outcome; every access audited."""

from __future__ import annotations

import pytest

from covidhub.audit.models import AuditEvent
from covidhub.declarations.models import FollowUp, FollowUpCall
from covidhub.declarations.services import declaration_submit
from covidhub.declarations.validation import declaration_input_clean

from .conftest import answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def make_item(citizen, citizen_person):
    def make(commune="10507", **overrides):
        declaration = declaration_submit(
            actor=citizen,
            person=citizen_person,
            data=declaration_input_clean(
                answers(commune=commune, no_symptoms=False, **{"symptoms": ["fever"], **overrides})
            ),
        )
        return declaration.followup

    return make


def test_the_neighbouring_officer_gets_404_and_nothing_is_audited(
    make_item, neighbour_officer, login
):
    item = make_item()
    client = login(neighbour_officer)
    for url in (
        f"/staff/declarations/followups/{item.uuid}/",
        f"/api/v1/declarations/staff/followups/{item.uuid}",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert item.person.full_name not in response.content.decode()
    response = client.post(
        f"/api/v1/declarations/staff/followups/{item.uuid}/calls",
        {"outcome": "no_action"},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert client.get("/api/v1/declarations/staff/followups").json()["items"] == []
    assert not AuditEvent.objects.filter(person_uuid=item.person.uuid).exists()
    assert not FollowUpCall.objects.exists()


def test_commune_and_district_officers_see_the_item_and_reads_are_audited(
    make_item, commune_officer, district_officer, make_staff, area_tree, login
):
    item = make_item()
    for officer in (commune_officer, district_officer):
        client = login(officer)
        assert client.get(f"/staff/declarations/followups/{item.uuid}/").status_code == 200
        detail = client.get(f"/api/v1/declarations/staff/followups/{item.uuid}").json()
        assert detail["answers"]["symptoms"] == ["fever"]
        assert (
            AuditEvent.objects.filter(
                actor=officer, action="declarations.followup.viewed", person_uuid=item.person.uuid
            ).count()
            == 2
        )
    far = make_staff("chilinh", "district_officer", area_tree["other_district"])
    assert login(far).get(f"/api/v1/declarations/staff/followups/{item.uuid}").status_code == 404
    sampler = make_staff("sampler", "sampler", unit_kind="site", unit_uuid=item.uuid)
    assert login(sampler).get(f"/staff/declarations/followups/{item.uuid}/").status_code == 404


def test_the_list_is_open_first_most_urgent_and_newest_first_without_n_plus_1(
    make_item, district_officer, login, django_assert_num_queries
):
    low = make_item(symptoms=["fatigue"])
    urgent = make_item(symptoms=["pneumonia"])
    newer_low = make_item(commune="10510", symptoms=["cough"])
    client = login(district_officer)
    client.get("/api/v1/declarations/staff/followups")  # warm the session
    # Six, and the page's count: the same number whatever the length of the list.
    with django_assert_num_queries(7):
        listed = client.get("/api/v1/declarations/staff/followups").json()["items"]
    assert [i["uuid"] for i in listed] == [str(urgent.uuid), str(newer_low.uuid), str(low.uuid)]
    for _ in range(5):
        make_item()
    with django_assert_num_queries(7):
        assert len(client.get("/api/v1/declarations/staff/followups").json()["items"]) == 8
    assert AuditEvent.objects.filter(action="declarations.followup.listed").count() == 3 + 3 + 8
    page = client.get("/staff/declarations/followups/")
    assert page.status_code == 200


def test_recording_calls_and_the_outcome(make_item, commune_officer, login, settings):
    item = make_item()
    client = login(commune_officer)
    response = client.post(
        f"/api/v1/declarations/staff/followups/{item.uuid}/calls",
        {"outcome": "not_reached"},
        content_type="application/json",
    )
    assert response.status_code == 201 and response.json()["followup_status"] == "open"
    bad = client.post(
        f"/api/v1/declarations/staff/followups/{item.uuid}/calls",
        {"outcome": "maybe"},
        content_type="application/json",
    )
    assert bad.status_code == 422 and "outcome" in bad.json()["details"]["fields"]
    response = client.post(
        f"/staff/declarations/followups/{item.uuid}/",
        {"outcome": "advised_test", "note": "Hẹn lấy mẫu sáng mai"},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == FollowUp.Status.CLOSED and item.outcome == "advised_test"
    assert item.calls == 2
    page = client.get(f"/staff/declarations/followups/{item.uuid}/").content.decode()
    # Testing's registration once it exists, else the page that says it is coming.
    assert "/testing/" in page or "/tasks/test_register/" in page or "test_register" in page
    assert AuditEvent.objects.filter(action="declarations.followup.call_recorded").count() == 2


def test_the_followup_keeps_its_reasons_after_the_declaration_is_deleted(make_item):
    item = make_item(contact_case=True)
    item.declaration.delete()
    item.refresh_from_db()
    assert item.declaration is None and "contact_case" in item.reasons
