"""Printing by a commune officer for a person without a phone: scoped to the officer's
area (the neighbouring officer gets 404 and prints nothing), and every print audited."""

from __future__ import annotations

import pytest

from covidhub.audit.models import AuditEvent
from covidhub.certificates.services import certificate_issue_vaccination, uvci_revoke

pytestmark = pytest.mark.django_db


@pytest.fixture
def phoneless(make_person, signing_key, vaccination_facts):
    person = make_person(full_name="Hoàng Văn Lộc", birth="01/01/1950")
    certificate = certificate_issue_vaccination(facts=vaccination_facts(person))
    return person, certificate


def _printed(certificate):
    return list(
        AuditEvent.objects.filter(
            action="certificates.certificate.printed", object_id=str(certificate.uuid)
        )
    )


def test_officer_finds_the_person_and_prints_pdf_and_qr(login, commune_officer, phoneless):
    person, certificate = phoneless
    client = login(commune_officer)
    found = client.post("/staff/certificates/print/", {"q": "Hoàng Văn Lộc"})
    assert f"/staff/certificates/print/people/{person.uuid}/".encode() in found.content
    page = client.get(f"/staff/certificates/print/people/{person.uuid}/")
    assert page.status_code == 200
    assert f"/staff/certificates/print/{certificate.uuid}/pdf/card/".encode() in page.content
    assert AuditEvent.objects.filter(
        action="certificates.print.person_viewed", actor=commune_officer
    ).exists()

    pdf = client.get(f"/staff/certificates/print/{certificate.uuid}/pdf/a4/")
    assert pdf.status_code == 200 and pdf.content[:4] == b"%PDF"
    assert pdf["Cache-Control"].startswith("no-store")
    qr = client.get(f"/staff/certificates/print/{certificate.uuid}/qr/")
    assert qr.status_code == 200 and b"<svg" in qr.content and b"data-print" in qr.content
    printed = _printed(certificate)
    assert sorted(event.details["printed"] for event in printed) == ["pdf-a4", "qr"]
    assert all(
        event.actor == commune_officer and event.person_uuid == person.uuid for event in printed
    )


def test_neighbouring_officer_gets_404_and_prints_nothing(
    login, neighbour_officer, phoneless, citizen
):
    person, certificate = phoneless
    client = login(neighbour_officer)
    found = client.post("/staff/certificates/print/", {"q": "Hoàng Văn Lộc"})
    assert str(person.uuid).encode() not in found.content
    for url in (
        f"/staff/certificates/print/people/{person.uuid}/",
        f"/staff/certificates/print/{certificate.uuid}/pdf/a4/",
        f"/staff/certificates/print/{certificate.uuid}/qr/",
    ):
        assert client.get(url).status_code == 404, url
    assert _printed(certificate) == []
    # A citizen is sent to the staff sign-in, never served.
    response = login(citizen).get(f"/staff/certificates/print/{certificate.uuid}/qr/")
    assert response.status_code in (302, 403, 404)
    assert _printed(certificate) == []


def test_bad_size_is_404_and_revoked_certificates_are_not_offered(
    login, commune_officer, phoneless
):
    person, certificate = phoneless
    client = login(commune_officer)
    assert client.get(f"/staff/certificates/print/{certificate.uuid}/pdf/a3/").status_code == 404
    uvci_revoke(uvci=certificate.uvci, reason="test", actor=None)
    page = client.get(f"/staff/certificates/print/people/{person.uuid}/")
    assert str(certificate.uuid).encode() not in page.content
    assert _printed(certificate) == []
