"""Venues: registered by their owner or a commune officer of their area, an A4 poster in
Vietnamese with English, venue staff managed by the owner; nobody else sees them."""

from __future__ import annotations

import unicodedata

import pytest

from covidhub.audit.models import AuditEvent
from covidhub.declarations.models import Venue, VenueStaff

pytestmark = pytest.mark.django_db

VENUE = {
    "name": unicodedata.normalize("NFD", "Siêu thị Bình Hàn"),
    "kind": "shop",
    "address_line": "Số 1 Nguyễn Lương Bằng",
    "commune": "10510",
    "contact_name": "Trần Văn Quản",
    "contact_phone": "0912 333 444",
}


def test_an_owner_registers_a_venue_and_gets_its_poster(owner, login):
    client = login(owner)
    response = client.post("/api/v1/declarations/venues", VENUE, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    venue = Venue.objects.get()
    assert venue.name == "Siêu thị Bình Hàn"  # NFC, whatever the phone sent
    assert venue.owner == owner and body["can_manage"] is True
    assert body["url"].endswith(f"/v/{venue.code}/")
    for url in (
        f"/declarations/venues/{venue.uuid}/poster.pdf",
        f"/api/v1/declarations/venues/{venue.uuid}/poster.pdf",
    ):
        pdf = client.get(url)
        assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF") and b"DejaVuSans" in pdf.content
        assert b"/MediaBox [0 0 595.28 841.89]" in pdf.content  # A4
    page = client.get(f"/declarations/venues/{venue.uuid}/")
    assert page.status_code == 200 and venue.code_display in page.content.decode()


def test_bad_venue_input_gets_field_messages_and_nothing_is_saved(owner, login):
    client = login(owner)
    response = client.post(
        "/api/v1/declarations/venues",
        {**VENUE, "name": "", "kind": "casino", "contact_phone": "123", "commune": "30"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert set(response.json()["details"]["fields"]) == {"name", "kind", "contact_phone", "commune"}
    page = client.post("/declarations/venues/new/", {**VENUE, "name": ""})
    assert page.status_code == 200 and 'id="id_name_errors"' in page.content.decode()
    assert not Venue.objects.exists()


def test_a_commune_officer_registers_venues_only_in_their_area(commune_officer, login):
    client = login(commune_officer)
    refused = client.post("/api/v1/declarations/venues", VENUE, content_type="application/json")
    assert refused.status_code == 422 and "commune" in refused.json()["details"]["fields"]
    ok = client.post(
        "/api/v1/declarations/venues",
        {**VENUE, "commune": "10507"},
        content_type="application/json",
    )
    assert ok.status_code == 201 and ok.json()["can_manage"] is True
    assert AuditEvent.objects.filter(action="declarations.venue.registered").exists()


def test_owner_manages_staff_and_outsiders_get_404(
    venue, owner, make_citizen, neighbour_officer, commune_officer, login
):
    worker = make_citizen("+84912000888", full_name="Nhân Viên")
    stranger = make_citizen("+84912000999", full_name="Người Lạ")
    client = login(owner)
    missing = client.post(
        f"/api/v1/declarations/venues/{venue.uuid}/staff",
        {"phone": "0912 000 555"},
        content_type="application/json",
    )
    assert missing.status_code == 422 and "phone" in missing.json()["details"]["fields"]
    added = client.post(
        f"/api/v1/declarations/venues/{venue.uuid}/staff",
        {"phone": "0912 000 888"},
        content_type="application/json",
    )
    assert added.status_code == 201
    assert VenueStaff.objects.filter(venue=venue, user=worker).exists()
    # Staff may scan but not manage; strangers and the neighbouring officer see nothing.
    assert login(worker).get(f"/api/v1/declarations/venues/{venue.uuid}").status_code == 200
    assert login(worker).get(f"/api/v1/declarations/venues/{venue.uuid}/staff").status_code == 404
    for outsider in (stranger, neighbour_officer):
        assert login(outsider).get(f"/api/v1/declarations/venues/{venue.uuid}").status_code == 404
        assert login(outsider).get(f"/declarations/venues/{venue.uuid}/scan/").status_code == 404
    assert (
        login(commune_officer).get(f"/api/v1/declarations/venues/{venue.uuid}/staff").status_code
        == 200
    )
    listed = login(worker).get("/api/v1/declarations/venues").json()["items"]
    assert [v["uuid"] for v in listed] == [str(venue.uuid)]
    removed = client.delete(f"/api/v1/declarations/venues/{venue.uuid}/staff/{worker.uuid}")
    assert removed.status_code == 204
    assert login(worker).get(f"/api/v1/declarations/venues/{venue.uuid}").status_code == 404
    lookup = login(stranger).post(
        "/api/v1/declarations/venues/lookup", {"code": venue.code}, content_type="application/json"
    )
    assert lookup.status_code == 200 and lookup.json()["name"] == venue.name
