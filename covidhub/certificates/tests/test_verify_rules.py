"""The checkpoint verifier: cryptographic result and rule outcome reported separately,
descriptions in the reader's language, versions of the rules and value sets shown."""

from datetime import timedelta

import pytest
from django.utils import timezone

from covidhub.certificates.dcc import hcert_sign
from covidhub.certificates.dcc.codec import hc1_encode
from covidhub.certificates.keystore import signer_current
from covidhub.certificates.services import certificate_issue_vaccination

pytestmark = pytest.mark.django_db
URL = "/api/v1/certificates/verify"


@pytest.fixture
def verifier(login, make_staff, area_tree):
    import uuid

    return login(make_staff("checkpoint", "sampler", unit_kind="site", unit_uuid=uuid.uuid4()))


def _verify(client, text, *, purpose="venue", language="vi"):
    response = client.post(
        URL,
        {"text": text, "purpose": purpose},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 200, response.content
    return response.json()


def _signed(payload):
    """Our own key signing a payload that skips the issuing checks (as a foreign issuer's
    certificate would): the cryptography is sound, the content is for the rules."""
    now = timezone.now()
    _key, signer = signer_current(now=now)
    cose = hcert_sign(
        hcert=payload, signer=signer, issued_at=now, expires_at=now + timedelta(days=30)
    )
    return hc1_encode(cose)


def test_our_certificate_meets_the_venue_rules(
    verifier, signing_key, make_person, vaccination_facts
):
    person = make_person(full_name="Đặng Thị Hà")
    on = timezone.localdate() - timedelta(days=30)
    certificate = certificate_issue_vaccination(facts=vaccination_facts(person, on=on))
    body = _verify(verifier, certificate.hc1)
    assert body["valid"] is True
    assert body["verdict"] == "accepted"
    assert body["rules_version"] == 0
    assert body["value_sets_version"] == "packaged-2.12.0"
    statuses = {rule["identifier"]: rule["status"] for rule in body["rules"]}
    assert statuses["VR-VN-0004"] == "passed"
    assert "TR-VN-0002" not in statuses
    descriptions = {rule["identifier"]: rule["description"] for rule in body["rules"]}
    assert descriptions["VR-VN-0004"].startswith("Đã tiêm đủ liều cơ bản")
    english = _verify(verifier, certificate.hc1, language="en")
    assert {rule["identifier"]: rule["description"] for rule in english["rules"]}[
        "VR-VN-0004"
    ].startswith("The primary vaccination series is complete")


def test_an_unknown_product_is_a_rule_outcome_not_invalid(
    verifier, signing_key, make_person, vaccination_facts
):
    person = make_person(full_name="Lê Văn Nam")
    on = timezone.localdate() - timedelta(days=30)
    payload = dict(certificate_issue_vaccination(facts=vaccination_facts(person, on=on)).payload)
    payload["v"] = [{**payload["v"][0], "mp": "EU/1/99/999"}]
    body = _verify(verifier, _signed(payload), language="en")
    assert body["valid"] is True and body["reason"] == "valid"  # genuine
    assert body["verdict"] == "refused"
    rules = {rule["identifier"]: rule for rule in body["rules"]}
    assert rules["VR-VN-0001"]["status"] == "failed"
    assert rules["VR-VN-0001"]["values"] == "v.0.mp = EU/1/99/999"
    assert rules["VS-v/0/mp"]["status"] == "open"
    assert rules["VS-v/0/mp"]["description"] == "Unknown vaccine product EU/1/99/999"
    assert body["rules"][0]["status"] == "failed"  # failed rules come first


def test_a_date_time_vaccination_date_is_noted_and_the_purpose_changes_the_rules(
    verifier, signing_key, make_person, vaccination_facts
):
    person = make_person(full_name="Phạm Thu")
    on = timezone.localdate() - timedelta(days=300)
    payload = dict(certificate_issue_vaccination(facts=vaccination_facts(person, on=on)).payload)
    payload["v"] = [{**payload["v"][0], "dt": f"{on.isoformat()}T00:00:00Z"}]
    text = _signed(payload)
    venue = _verify(verifier, text, language="en")
    assert venue["valid"] is True and venue["verdict"] == "accepted"
    assert venue["notes"] == [
        f"v/0/dt was written as a date-time ({on.isoformat()}T00:00:00Z); read as its date."
    ]
    travel = _verify(verifier, text, purpose="travel")
    assert travel["verdict"] == "refused"  # a primary series older than 270 days
    assert {rule["identifier"]: rule["status"] for rule in travel["rules"]}["VR-VN-0006"] == (
        "failed"
    )
    assert _verify_status(verifier, text, purpose="moon") == 422


def _verify_status(client, text, *, purpose):
    return client.post(
        URL, {"text": text, "purpose": purpose}, content_type="application/json"
    ).status_code


def test_verifier_page_lists_rules_in_the_readers_language(
    verifier, signing_key, make_person, vaccination_facts
):
    person = make_person(full_name="Vũ Minh")
    on = timezone.localdate() - timedelta(days=30)
    certificate = certificate_issue_vaccination(facts=vaccination_facts(person, on=on))
    page = verifier.post(
        "/staff/certificates/verify/",
        {"text": certificate.hc1, "purpose": "event"},
        HTTP_ACCEPT_LANGUAGE="vi",
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-verdict="accepted"' in html
    assert 'data-rule="VR-VN-0004" data-status="passed"' in html
    assert "Đã tiêm đủ liều cơ bản" in html
    assert 'value="event" selected' in html
