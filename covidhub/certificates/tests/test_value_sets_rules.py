"""Value-set releases (command, public list) and the acceptance rule sets (shipped data,
EU rule format, evaluation, versions with preview, public list)."""

import json
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from covidhub.certificates import acceptance, value_sets
from covidhub.certificates.dcc.rules import RuleStatus, rules_parse
from covidhub.certificates.models import AcceptanceRuleSet, ValueSetRelease
from covidhub.certificates.tests.dcc_data import SCHEMA_REPOSITORY
from covidhub.core.errors import InvalidInput

VALUE_SET_FOLDER = SCHEMA_REPOSITORY / "valuesets"
NOW = datetime(2022, 3, 1, 12, tzinfo=UTC)
VACCINATION = {
    "ver": "1.3.0",
    "nam": {"fn": "Nguyễn", "fnt": "NGUYEN", "gn": "An", "gnt": "AN"},
    "dob": "1990-01-01",
    "v": [
        {
            "tg": "840539006",
            "vp": "1119349007",
            "mp": "EU/1/20/1528",
            "ma": "ORG-100030215",
            "dn": 2,
            "sd": 2,
            "dt": "2022-01-10",
            "co": "VN",
            "is": "Sở Y tế Hải Dương",
            "ci": "URN:UVCI:01:VN:ABC#X",
        }
    ],
}


def _full_device_list(tmp_path: Path, devices: int = 1200) -> Path:
    """A device list in the EU value-set format as long as the gateway's (the repository's
    file is only an example)."""
    document = json.loads((VALUE_SET_FOLDER / "test-manf-example.json").read_text())
    document["valueSetDate"] = "2023-06-30"
    for number in range(devices):
        document["valueSetValues"][str(900000 + number)] = {
            "display": f"Device {number}",
            "lang": "en",
            "active": True,
            "system": "https://covid-19-diagnostics.jrc.ec.europa.eu/devices",
            "version": "2023-06-30",
        }
    path = tmp_path / "test-manf.json"
    path.write_text(json.dumps(document))
    return path


@pytest.mark.django_db
def test_command_loads_value_set_files_as_versioned_releases(tmp_path, client):
    out = StringIO()
    call_command("certificates_value_sets_load", str(VALUE_SET_FOLDER), stdout=out)
    # The same content as the packaged copy: no release.
    assert "unchanged: packaged" in out.getvalue()
    assert not ValueSetRelease.objects.exists()

    call_command("certificates_value_sets_load", str(_full_device_list(tmp_path)), stdout=out)
    release = ValueSetRelease.objects.get()
    assert release.version == 1
    devices = release.documents["covid-19-lab-test-manufacturer-and-name"]["valueSetValues"]
    assert len(devices) == 88 + 1200
    # The other sets are kept from the release it was merged into.
    assert len(release.documents["country-2-codes"]["valueSetValues"]) == 250
    value_sets.value_sets_cache_clear()
    current = value_sets.value_sets_current()
    assert current.version == "release-1"
    assert current.entry(value_set="test-manf", code="901000") is not None

    call_command("certificates_value_sets_load", str(tmp_path), stdout=out)
    assert ValueSetRelease.objects.count() == 1  # unchanged: no second version
    body = client.get("/certificates/value-sets.json").json()
    assert body["version"] == "release-1"
    assert body["dates"]["covid-19-lab-test-manufacturer-and-name"] == "2023-06-30"


@pytest.mark.django_db
def test_a_file_that_is_not_a_value_set_changes_nothing(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"valueSetId": "x", "valueSetDate": "soon", "valueSetValues": {}}))
    with pytest.raises(CommandError, match="value_set_invalid"):
        call_command("certificates_value_sets_load", str(_full_device_list(tmp_path)), str(bad))
    assert not ValueSetRelease.objects.exists()
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(CommandError, match="not JSON"):
        call_command("certificates_value_sets_load", str(broken))


@pytest.mark.django_db
def test_public_lists_for_offline_verifiers(client):
    for url in ("/certificates/value-sets.json", "/api/v1/certificates/value-sets"):
        response = client.get(url)
        assert response.status_code == 200
        body = response.json()
        assert body["version"] == "packaged-2.12.0"
        assert "vaccines-covid-19-names" in body["valueSets"]
    response = client.get("/certificates/rules.json")
    assert response["Access-Control-Allow-Origin"] == "*"
    body = response.json()
    assert body == client.get("/api/v1/certificates/acceptance-rules").json()
    assert set(body["purposes"]) == {"venue", "event", "travel"}
    assert body["purposes"]["travel"]["version"] == 0
    assert len(body["purposes"]["travel"]["rules"]) == 20


@pytest.mark.parametrize("purpose", ["venue", "event", "travel"])
def test_shipped_rule_sets_are_eu_format_with_both_languages(purpose):
    rules = rules_parse(acceptance.shipped_rule_documents(purpose))
    assert rules
    for rule in rules:
        assert {"vi", "en"} <= set(rule.descriptions)
        assert rule.country == "VN"


def _outcomes(payload, purpose="venue"):
    return {
        outcome.rule.identifier: outcome
        for outcome in acceptance.rules_check(
            purpose=purpose,
            payload=payload,
            kind="v",
            now=NOW,
            issued_at=NOW,
            expires_at=datetime(2023, 1, 1, tzinfo=UTC),
            rules=rules_parse(acceptance.shipped_rule_documents(purpose)),
            value_sets=value_sets.value_sets_load(),
        ).outcomes
    }


def test_a_complete_vaccination_passes_the_venue_rules():
    outcomes = _outcomes(VACCINATION)
    assert {outcome.status for outcome in outcomes.values()} == {RuleStatus.PASSED}
    assert "TR-VN-0002" not in outcomes  # test rules do not apply to a vaccination


def test_an_unknown_product_is_a_failed_rule_naming_the_code():
    payload = json.loads(json.dumps(VACCINATION))
    payload["v"][0]["mp"] = "EU/1/99/999"
    payload["v"][0]["dt"] = "not a date"
    outcomes = _outcomes(payload)
    assert outcomes["VR-VN-0001"].status is RuleStatus.FAILED
    assert outcomes["VR-VN-0001"].values == {"v.0.mp": "EU/1/99/999"}
    # A date the rule cannot read leaves it open rather than failing it.
    assert outcomes["VR-VN-0005"].status is RuleStatus.OPEN


@pytest.mark.django_db
def test_rule_change_is_a_new_version_with_preview(
    signing_key, make_person, vaccination_facts, province_admin, commune_officer, area_tree
):
    from covidhub.certificates.services import certificate_issue_vaccination

    today = timezone.localdate()
    near = make_person(full_name="Gần Đây")
    certificate_issue_vaccination(facts=vaccination_facts(near, on=today - timedelta(days=60)))
    far = make_person(full_name="Xa Xôi", commune=area_tree["far_commune"])
    certificate_issue_vaccination(facts=vaccination_facts(far, on=today - timedelta(days=20)))
    documents = acceptance.shipped_rule_documents("travel")
    stricter = json.loads(json.dumps(documents))
    for rule in stricter:
        if rule["Identifier"] == "VR-VN-0006":
            rule["Version"] = "1.1.0"
            rule["Logic"]["if"][2]["not-after"][1]["plusTime"][1] = 30
    row = acceptance.acceptance_rules_draft_create(
        actor=province_admin, purpose="travel", documents=stricter, note="30 days"
    )
    assert row.version == 1
    assert row.state == AcceptanceRuleSet.State.DRAFT
    preview = acceptance.acceptance_rules_preview(
        actor=province_admin, purpose="travel", candidate=rules_parse(stricter)
    )
    assert preview.certificates == 2
    assert preview.current == {"passed": 2, "failed": 0, "open": 0}
    assert preview.candidate == {"passed": 1, "failed": 1, "open": 0}
    assert preview.transitions == {"passed→failed": 1}
    local = acceptance.acceptance_rules_preview(
        actor=commune_officer, purpose="travel", candidate=rules_parse(stricter)
    )
    assert local.certificates == 1
    acceptance.acceptance_rules_activate(actor=province_admin, rule_set=row)
    acceptance.acceptance_rules_cache_clear()
    assert acceptance.acceptance_rules_active("travel")[0] == 1
    bad = json.loads(json.dumps(documents))
    bad[0]["Logic"] = {"nonsense": [1]}
    with pytest.raises(InvalidInput) as caught:
        acceptance.acceptance_rules_draft_create(
            actor=province_admin, purpose="travel", documents=bad
        )
    assert caught.value.code == "rule_invalid"
    assert AcceptanceRuleSet.objects.count() == 1


@pytest.mark.django_db
def test_rule_pages_draft_preview_and_activate(login, province_admin, commune_officer):
    admin = login(province_admin)
    page = admin.get("/staff/certificates/acceptance-rules/travel/", HTTP_ACCEPT_LANGUAGE="vi")
    assert page.status_code == 200
    assert "Liều cơ bản không quá 270 ngày" in page.content.decode()
    assert admin.get("/staff/certificates/acceptance-rules/moon/").status_code == 404
    refused = admin.post(
        "/staff/certificates/acceptance-rules/travel/", {"rules": "[{", "note": "x"}
    )
    assert refused.status_code == 200
    assert not AcceptanceRuleSet.objects.exists()
    broken = json.loads(json.dumps(acceptance.shipped_rule_documents("travel")))
    broken[0]["Description"] = []
    refused = admin.post(
        "/staff/certificates/acceptance-rules/travel/", {"rules": json.dumps(broken)}
    )
    assert refused.status_code == 200
    assert "Description" in refused.content.decode()
    assert not AcceptanceRuleSet.objects.exists()
    saved = admin.post(
        "/staff/certificates/acceptance-rules/travel/",
        {"rules": json.dumps(acceptance.shipped_rule_documents("travel")), "note": "copy"},
    )
    assert saved.status_code == 302
    assert saved["Location"].endswith("/staff/certificates/acceptance-rules/travel/1/")
    preview = admin.get(saved["Location"])
    assert preview.status_code == 200
    officer = login(commune_officer)
    assert officer.get(saved["Location"]).status_code == 200
    assert officer.post(saved["Location"]).status_code == 404  # may read, not activate
    assert admin.post(saved["Location"]).status_code == 302
    assert AcceptanceRuleSet.objects.get().state == AcceptanceRuleSet.State.ACTIVE


@pytest.mark.django_db
def test_rule_api_draft_preview_activate(login, province_admin, commune_officer):
    admin = login(province_admin)
    documents = acceptance.shipped_rule_documents("event")
    base = "/api/v1/certificates/acceptance-rules"
    created = admin.post(
        f"{base}/event", {"rules": documents, "note": "api"}, content_type="application/json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["version"] == 1
    bad = json.loads(json.dumps(documents))
    bad[0]["Logic"] = {"var": 3}
    refused = admin.post(f"{base}/event", {"rules": bad}, content_type="application/json")
    assert refused.status_code == 422
    assert AcceptanceRuleSet.objects.count() == 1
    preview = admin.get(f"{base}/event/1/preview")
    assert preview.status_code == 200
    assert preview.json()["certificates"] == 0
    officer = login(commune_officer)
    assert (
        officer.post(
            f"{base}/event", {"rules": documents}, content_type="application/json"
        ).status_code
        == 404
    )
    assert officer.post(f"{base}/event/1/activate").status_code == 404
    assert admin.post(f"{base}/event/1/activate").json()["state"] == "active"
    assert admin.get(f"{base}/event/versions").json()["items"][0]["version"] == 1
    # A path that names no purpose names nothing: the API's 404, as a malformed UUID.
    assert admin.get(f"{base}/moon/versions").status_code == 404
