"""SMART Health Cards and WHO DDCC:VS: produced from a certificate and checked by
independent decoders (jwcrypto for the JWS and the published key set, fhir.resources for
the FHIR documents), key custody and rotation, scoping and refusals."""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from datetime import date
from typing import Any

import cbor2
import pytest
from fhir.resources.R4B.bundle import Bundle
from jwcrypto import jwk, jws

from covidhub.certificates.dcc import hc1_decode
from covidhub.certificates.healthcard_keys import healthcard_key_rotate
from covidhub.certificates.healthcards import shc
from covidhub.certificates.services import (
    certificate_issue_test,
    certificate_issue_vaccination,
    uvci_revoke,
)
from covidhub.certificates.tests.ddcc_profile import ddcc_vs_issues

pytestmark = pytest.mark.django_db


def _api(client: Any, certificate: Any, what: str) -> Any:
    return client.get(f"/api/v1/certificates/{certificate.uuid}/{what}")


def _jwks(client: Any) -> jwk.JWKSet:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    return jwk.JWKSet.from_json(response.content)


def _decode_card(text_jws: str, key_set: jwk.JWKSet) -> dict[str, Any]:
    """Verify with jwcrypto and inflate the raw-DEFLATE payload (not our code)."""
    token = jws.JWS()
    token.deserialize(text_jws)
    header = token.jose_header
    assert header["alg"] == "ES256" and header["zip"] == "DEF"
    key = key_set.get_key(header["kid"])
    assert key is not None, "kid not in the published key set"
    assert key.thumbprint() == header["kid"]
    token.verify(key)
    return json.loads(zlib.decompress(token.payload, wbits=-15))


def _numeric_to_jws(texts: list[str]) -> str:
    out = ""
    for text in texts:
        digits = text.removeprefix("shc:/").split("/")[-1]
        out += "".join(chr(int(digits[i : i + 2]) + 45) for i in range(0, len(digits), 2))
    return out


@pytest.fixture
def two_doses(signing_key, health_card_key, citizen_person, vaccination_facts):
    certificate_issue_vaccination(
        facts=vaccination_facts(citizen_person, dose=1, on=date(2021, 8, 1))
    )
    return certificate_issue_vaccination(
        facts=vaccination_facts(citizen_person, dose=2, on=date(2021, 9, 1))
    )


def test_health_card_verifies_with_jwcrypto_and_its_bundle_is_valid_fhir(
    client, login, citizen, citizen_person, two_doses, settings
):
    body = _api(login(citizen), two_doses, "health-card").json()
    assert body["issuer"] == settings.SITE_URL.rstrip("/")
    assert _numeric_to_jws(body["qr"]) == body["jws"]
    assert len(body["qr"]) == 1 and body["qr"][0].startswith("shc:/5")
    payload = _decode_card(body["jws"], _jwks(client))
    assert payload["iss"] == body["issuer"]
    assert payload["nbf"] == int(two_doses.issued_at.timestamp())
    assert "https://smarthealth.cards#health-card" in payload["vc"]["type"]
    subject = payload["vc"]["credentialSubject"]
    assert subject["fhirVersion"] == "4.0.1"
    bundle = Bundle.model_validate(subject["fhirBundle"])
    assert bundle.type == "collection"
    patient = bundle.entry[0].resource
    assert bundle.entry[0].fullUrl == "resource:0"
    assert patient.name[0].family == "Nguyễn" and patient.name[0].given == ["Văn", "Thử"]
    assert str(patient.birthDate) == "1985-03-15"
    doses = [entry.resource for entry in bundle.entry[1:]]
    assert [str(dose.occurrenceDateTime)[:10] for dose in doses] == ["2021-08-01", "2021-09-01"]
    for dose in doses:
        assert dose.status == "completed" and dose.patient.reference == "resource:0"
        coding = dose.vaccineCode.coding[0]
        assert (coding.system, coding.code) == ("http://hl7.org/fhir/sid/cvx", "208")
    # Minimised as the specification requires: no ids, metadata, narrative or coding
    # displays (a performer's display is what the profile asks for).
    text = json.dumps(subject["fhirBundle"])
    for member in ('"id"', '"meta"', '"text"'):
        assert member not in text
    assert all("display" not in coding for dose in doses for coding in dose.vaccineCode.coding)
    assert doses[0].performer[0].actor.display == "Sở Y tế tỉnh Hải Dương"


def test_a_tampered_card_is_refused_by_jwcrypto(client, login, citizen, two_doses):
    body = _api(login(citizen), two_doses, "health-card").json()
    header, payload, signature = body["jws"].split(".")
    token = jws.JWS()
    forged = zlib.compressobj(wbits=-15)
    changed = zlib.decompress(shc.b64url_decode(payload), wbits=-15).replace(
        b"2021-09-01", b"2021-09-02"
    )
    forged_payload = shc.b64url(forged.compress(changed) + forged.flush())
    token.deserialize(f"{header}.{forged_payload}.{signature}")
    key = _jwks(client).get_key(token.jose_header["kid"])
    with pytest.raises(jws.InvalidJWSSignature):
        token.verify(key)


def test_rotation_keeps_old_cards_verifiable_and_keys_encrypted(
    client, login, citizen, two_doses, health_card_key
):
    assert health_card_key.private_key_encrypted.startswith("-----BEGIN ENCRYPTED PRIVATE KEY")
    old = _api(login(citizen), two_doses, "health-card").json()
    new_key = healthcard_key_rotate(actor=None)
    new = _api(login(citizen), two_doses, "health-card").json()
    assert old["kid"] == health_card_key.kid and new["kid"] == new_key.kid != old["kid"]
    key_set = _jwks(client)
    assert {key.kid for key in key_set} == {old["kid"], new["kid"]}
    for card in (old, new):
        assert _decode_card(card["jws"], key_set)["vc"]["credentialSubject"]["fhirBundle"]
    for key in json.loads(client.get("/.well-known/jwks.json").content)["keys"]:
        assert set(key) == {"kty", "kid", "use", "alg", "crv", "x", "y", "crlVersion"}  # no "d"
    from covidhub.audit.models import AuditEvent

    assert AuditEvent.objects.filter(action="certificates.health_card_key.rotated").count() == 2


def _hcert(certificate: Any) -> dict[str, Any]:
    message = cbor2.loads(hc1_decode(certificate.hc1))
    return cbor2.loads(message.value[2])[-260][1]


def test_ddcc_vs_is_a_valid_fhir_document_saying_what_the_dcc_says(login, citizen, two_doses):
    response = _api(login(citizen), two_doses, "ddcc-vs")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    document = response.json()
    bundle = Bundle.model_validate(document)
    assert bundle.type == "document" and bundle.timestamp is not None
    resources = {entry.fullUrl: entry.resource for entry in bundle.entry}
    kinds = [entry.resource.get_resource_type() for entry in bundle.entry]
    assert kinds == ["Composition", "Patient", "Organization", "Immunization"]
    composition = bundle.entry[0].resource
    assert composition.type.coding[0].code == "82593-5"
    assert composition.category[0].coding[0].code == "ddcc-vs"
    assert composition.section[0].code.coding[0].code == "11369-6"
    # Every reference resolves inside the document.
    for reference in (
        composition.subject.reference,
        composition.author[0].reference,
        composition.attester[0].party.reference,
        composition.section[0].focus.reference,
    ):
        assert reference in resources
    dcc = _hcert(two_doses)["v"][0]
    immunization = bundle.entry[3].resource
    assert composition.identifier.value == dcc["ci"] == bundle.identifier.value
    assert str(immunization.occurrenceDateTime)[:10] == dcc["dt"]
    applied = immunization.protocolApplied[0]
    assert (applied.doseNumberPositiveInt, applied.seriesDosesPositiveInt) == (dcc["dn"], dcc["sd"])
    assert applied.targetDisease[0].coding[0].code == "RA01"
    extensions = {ext.url.rsplit("/", 1)[-1]: ext for ext in immunization.extension}
    assert extensions["DDCCEventBrand"].valueCoding.code == dcc["mp"]
    assert extensions["DDCCVaccineMarketAuthorization"].valueCoding.code == dcc["ma"]
    assert extensions["DDCCCountryOfEvent"].valueCode == "VNM"
    assert immunization.vaccineCode.coding[0].code == "XM0GQ8"  # mRNA vaccine
    patient = resources[immunization.patient.reference]
    assert str(patient.birthDate) == _hcert(two_doses)["dob"]
    # The same certificate gives the same document (resource ids are derived, not random).
    assert _api(login(citizen), two_doses, "ddcc-vs").json() == document
    # And it meets the WHO DDCC:VS profiles, which fhir.resources does not know.
    assert ddcc_vs_issues(document) == []


def test_the_ddcc_profile_check_catches_what_the_profiles_forbid(login, citizen, two_doses):
    """Control: each breach of a profile rule is named (so the check above can fail)."""
    document = _api(login(citizen), two_doses, "ddcc-vs").json()
    assert ddcc_vs_issues(document) == []

    def broken(change: Any) -> list[str]:
        copy = json.loads(json.dumps(document))
        change(copy)
        Bundle.model_validate(copy)  # still valid FHIR R4: only the profile is broken
        return ddcc_vs_issues(copy)

    composition = 0
    patient, immunization = 1, 3

    def second_coding(d: Any) -> None:
        d["entry"][immunization]["resource"]["vaccineCode"]["coding"].append(
            {"system": "http://snomed.info/sct", "code": "1119349007"}
        )

    def old_brand_url(d: Any) -> None:
        d["entry"][immunization]["resource"]["extension"][0]["url"] = (
            "http://worldhealthorganization.github.io/ddcc/StructureDefinition/DDCCVaccineBrand"
        )

    def no_official_name(d: Any) -> None:
        del d["entry"][patient]["resource"]["name"][0]["use"]

    def second_section(d: Any) -> None:
        sections = d["entry"][composition]["resource"]["section"]
        sections.append(json.loads(json.dumps(sections[0])))

    def no_location(d: Any) -> None:
        del d["entry"][immunization]["resource"]["location"]

    def other_title(d: Any) -> None:
        d["entry"][composition]["resource"]["title"] = "Vaccination certificate"

    def dangling_subject(d: Any) -> None:
        d["entry"][composition]["resource"]["subject"]["reference"] = "urn:uuid:nobody"

    def no_publication_link(d: Any) -> None:
        d["link"] = []

    def old_category(d: Any) -> None:
        d["entry"][composition]["resource"]["category"][0]["coding"][0]["system"] = (
            "http://worldhealthorganization.github.io/ddcc/CodeSystem/"
            "DDCC-Composition-Category-CodeSystem"
        )

    expected = {
        second_coding: "vaccineCode.coding 1..1",
        old_brand_url: "extension[vaccineBrand] 1..1",
        no_official_name: "use official",
        second_section: "exactly the vaccination section",
        no_location: "location.display",
        other_title: "title is fixed",
        dangling_subject: "'urn:uuid:nobody' must resolve to Patient",
        no_publication_link: "link[hcid]",
        old_category: "ddcc-vs",
    }
    for change, message in expected.items():
        issues = broken(change)
        assert any(message in issue for issue in issues), (change.__name__, issues)


def test_only_live_vaccination_certificates_have_other_formats(
    login, citizen, citizen_person, signing_key, health_card_key, test_facts, vaccination_facts
):
    client = login(citizen)
    test_certificate = certificate_issue_test(facts=test_facts(citizen_person))
    for what in ("health-card", "ddcc-vs"):
        response = _api(client, test_certificate, what)
        assert response.status_code == 404
        assert response.json()["code"] == "not_vaccination"
    revoked = certificate_issue_vaccination(facts=vaccination_facts(citizen_person))
    uvci_revoke(uvci=revoked.uvci, reason="test", actor=None)
    assert _api(client, revoked, "health-card").status_code == 409


def test_without_an_issuer_key_the_answer_says_so(
    login, citizen, citizen_person, signing_key, vaccination_facts
):
    certificate = certificate_issue_vaccination(facts=vaccination_facts(citizen_person))
    response = _api(login(citizen), certificate, "health-card")
    assert response.status_code == 503
    assert response.json()["code"] == "no_health_card_key"
    assert _api(login(citizen), certificate, "ddcc-vs").status_code == 200


def test_scoping_officer_reads_are_audited_neighbour_gets_404(
    login, commune_officer, neighbour_officer, make_citizen, two_doses
):
    from covidhub.audit.models import AuditEvent

    stranger = login(make_citizen(phone="+84987654321"))
    for what in ("health-card", "ddcc-vs"):
        assert _api(login(neighbour_officer), two_doses, what).status_code == 404
        assert _api(stranger, two_doses, what).status_code == 404
        assert _api(login(commune_officer), two_doses, what).status_code == 200
    assert (
        AuditEvent.objects.filter(
            action="certificates.certificate.viewed", person_uuid=two_doses.person.uuid
        ).count()
        == 2
    )


def test_citizen_pages_offer_the_card_and_the_documents(login, citizen, two_doses, client):
    signed_in = login(citizen)
    detail = signed_in.get(f"/certificates/{two_doses.uuid}/").content.decode()
    assert f"/certificates/{two_doses.uuid}/health-card/" in detail
    assert f"/certificates/{two_doses.uuid}/ddcc-vs.json" in detail
    page = signed_in.get(f"/certificates/{two_doses.uuid}/health-card/")
    assert page.status_code == 200 and b"<svg" in page.content
    download = signed_in.get(f"/certificates/{two_doses.uuid}/health-card/download/")
    assert download["Content-Type"] == "application/smart-health-card"
    card = json.loads(download.content)["verifiableCredential"][0]
    assert _decode_card(card, _jwks(client))["iss"]
    ddcc = signed_in.get(f"/certificates/{two_doses.uuid}/ddcc-vs.json")
    assert Bundle.model_validate(json.loads(ddcc.content)).type == "document"
    # Signed out: the sign-in page, not the card.
    assert client.get(f"/certificates/{two_doses.uuid}/health-card/").status_code == 302


def test_long_cards_are_chunked_and_reassemble():
    from cryptography.hazmat.primitives.asymmetric import ec

    private_key = ec.generate_private_key(ec.SECP256R1())
    kid = shc.public_jwk(private_key.public_key())["kid"]
    # Incompressible text makes a JWS longer than one QR code holds.
    import secrets

    noise = secrets.token_urlsafe(2000)
    card = shc.card_issue(
        issuer="https://example.test",
        not_before=0,
        fhir_bundle={"resourceType": "Bundle", "type": "collection", "noise": noise},
        private_key=private_key,
        kid=kid,
    )
    assert len(card.jws) > shc.SINGLE_QR_MAX_JWS and len(card.qr_texts) >= 2
    count = len(card.qr_texts)
    for index, text in enumerate(card.qr_texts, start=1):
        assert text.startswith(f"shc:/{index}/{count}/")
        assert len(text.split("/")[-1]) <= 2 * shc.SINGLE_QR_MAX_JWS
    assert shc.jws_from_qr_texts(list(reversed(card.qr_texts))) == card.jws
    assert _numeric_to_jws(card.qr_texts) == card.jws
    with pytest.raises(shc.HealthCardInvalid):
        shc.jws_from_qr_texts(card.qr_texts[:-1])
    decoded = shc.jws_verify(jws=card.jws, public_key=private_key.public_key())
    assert decoded.payload["vc"]["credentialSubject"]["fhirBundle"]["noise"] == noise


def _rid(kid: str, uvci: str) -> str:
    digest = hashlib.sha256(f"{kid}:{uvci.upper()}".encode()).digest()[:8]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_a_revoked_certificate_puts_its_cards_in_the_crl_of_every_key(
    client, login, citizen, two_doses, health_card_key
):
    old = _decode_card(_api(login(citizen), two_doses, "health-card").json()["jws"], _jwks(client))
    assert old["vc"]["rid"] == _rid(health_card_key.kid, two_doses.uvci)
    new_key = healthcard_key_rotate(actor=None)
    crl_url = f"/.well-known/crl/{health_card_key.kid}.json"
    before = client.get(crl_url).json()
    assert before["method"] == "rid" and old["vc"]["rid"] not in before["rids"]
    version = json.loads(client.get("/.well-known/jwks.json").content)["keys"][0]["crlVersion"]

    uvci_revoke(uvci=two_doses.uvci, reason="test", actor=None)
    for kid in (health_card_key.kid, new_key.kid):
        crl = client.get(f"/.well-known/crl/{kid}.json")
        assert crl.status_code == 200 and crl["Access-Control-Allow-Origin"] == "*"
        body = crl.json()
        assert body["kid"] == kid and _rid(kid, two_doses.uvci) in body["rids"]
        assert body["ctr"] == before["ctr"] + 1
        # The list names no certificate.
        assert two_doses.uvci not in crl.content.decode()
    keys = json.loads(client.get("/.well-known/jwks.json").content)["keys"]
    assert [key["crlVersion"] for key in keys] == [version + 1, version + 1]
    assert client.get("/.well-known/crl/unknown.json").status_code == 404
