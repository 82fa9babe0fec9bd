"""Who sees what: the neighbouring officer gets 404s, a citizen their household only, site
staff no patient; reads are audited, refusals too; the citizen's download page."""

from __future__ import annotations

from typing import Any

import pytest

from covidhub.accounts.services import api_token_issue
from covidhub.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _ids(response: Any) -> set[str]:
    assert response.status_code == 200, response.content
    return {e["resource"]["id"] for e in response.json().get("entry", [])}


def _clinical_paths(person: Any, made: dict[str, Any]) -> list[str]:
    dose = made["doses"][0]
    result = made["results"][0]
    return [
        f"/fhir/Patient/{person.uuid}",
        f"/fhir/Patient/{person.uuid}/$everything",
        f"/fhir/Immunization/{dose.uuid}",
        f"/fhir/Observation/{result.uuid}",
        f"/fhir/DiagnosticReport/{result.uuid}",
        f"/fhir/Specimen/{result.sample.tube.uuid}",
    ]


def test_neighbouring_officer_gets_404_for_every_resource_and_it_is_audited(
    login, commune_officer, neighbour_officer, make_person, make_records
):
    person = make_person()
    made = make_records(person, doses=1, results=1)
    neighbour = login(neighbour_officer)
    officer = login(commune_officer)
    for path in _clinical_paths(person, made):
        assert officer.get(path).status_code == 200, path
        response = neighbour.get(path)
        assert response.status_code == 404, path
        assert response.json()["resourceType"] == "OperationOutcome"
    assert (
        AuditEvent.objects.filter(actor=neighbour_officer, action="security.access.denied").count()
        == 6
    )
    for kind in ("Patient", "Immunization", "Observation", "DiagnosticReport", "Specimen"):
        assert _ids(neighbour.get(f"/fhir/{kind}")) == set(), kind
    assert _ids(neighbour.get("/fhir/Immunization", {"patient": str(person.uuid)})) == set()


def test_district_officer_sees_the_communes_below(
    login, district_officer, make_person, make_records, area_tree
):
    here = make_person()
    there = make_person(commune=area_tree["far_commune"], full_name="Phạm Văn Xa")
    make_records(here, doses=1, results=0)
    make_records(there, doses=1, results=0)
    ids = _ids(login(district_officer).get("/fhir/Patient"))
    assert str(here.uuid) in ids and str(there.uuid) not in ids


def test_site_staff_see_no_patient(login, make_staff, make_person, make_records, places):
    person = make_person()
    made = make_records(person, doses=1, results=1)
    vaccinator = make_staff(
        "vaccinator", "vaccinator", unit_kind="vaccination_site", unit_uuid=places["vsite"].uuid
    )
    client = login(vaccinator)
    assert client.get(f"/fhir/Patient/{person.uuid}").status_code == 404
    assert client.get(f"/fhir/Immunization/{made['doses'][0].uuid}").status_code == 404
    # Places are public information.
    assert client.get(f"/fhir/Organization/vs-{places['vsite'].uuid}").status_code == 200


def test_citizen_sees_their_household_only_by_session_and_by_token(
    client, login, make_citizen, make_person, make_records
):
    citizen = make_citizen("+84912000001")
    own = citizen.people.get()
    child = make_person(
        managed_by=citizen, relationship="child", full_name="Nguyễn Văn Bé", birth="01/01/2015"
    )
    stranger = make_person(full_name="Đỗ Thị Lạ", sex="F")
    make_records(own, doses=2, results=1)
    make_records(child, doses=0, results=1)
    stranger_records = make_records(stranger, doses=1, results=1)

    by_session = login(citizen)
    token = api_token_issue(user=citizen).token
    for reader in (
        lambda path, **kw: by_session.get(path, **kw),
        lambda path, **kw: client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}", **kw),
    ):
        assert _ids(reader("/fhir/Patient")) == {str(own.uuid), str(child.uuid)}
        assert reader(f"/fhir/Patient/{child.uuid}/$everything").status_code == 200
        for path in _clinical_paths(stranger, stranger_records):
            assert reader(path).status_code == 404, path
    # A citizen reading their own household is not on their trail; a staff read is.
    assert not AuditEvent.objects.filter(actor=citizen, action__startswith="fhir.").exists()


def test_staff_reads_show_on_the_citizens_access_log(
    login, commune_officer, make_citizen, make_records
):
    citizen = make_citizen("+84912000002")
    person = citizen.people.get()
    made = make_records(person, doses=1, results=1)
    officer = login(commune_officer)
    officer.get(f"/fhir/Observation/{made['results'][0].uuid}")
    event = AuditEvent.objects.get(action="fhir.observation.read")
    assert event.person_uuid == person.uuid
    assert event.actor == commune_officer
    assert event.object_type == "testing.result"


def test_citizen_downloads_records_from_their_page(
    login, make_citizen, make_person, make_records, validate
):
    citizen = make_citizen("+84912000003")
    own = citizen.people.get()
    make_records(own, doses=2, results=1)
    stranger = make_person(full_name="Đỗ Thị Lạ", sex="F")
    page = login(citizen)
    household = page.get("/me/household/")
    assert b"/me/health-records/" in household.content
    listing = page.get("/me/health-records/")
    assert listing.status_code == 200
    download_url = f"/me/health-records/{own.uuid}/fhir.json"
    assert download_url.encode() in listing.content
    response = page.get(download_url)
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    bundle = response.json()
    validate(bundle)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds.count("Immunization") == 2 and kinds.count("Observation") == 1
    assert page.get(f"/me/health-records/{stranger.uuid}/fhir.json").status_code == 404
