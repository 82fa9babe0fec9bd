"""The checkpoint verifier: cryptographic result and rule outcome reported separately,
descriptions in the reader's language, versions of the rules and value sets shown."""

import json
from datetime import UTC, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from covidhub.certificates.dcc import hcert_sign
from covidhub.certificates.dcc.codec import hc1_encode
from covidhub.certificates.keystore import signer_current
from covidhub.certificates.models import ValueSetRelease
from covidhub.certificates.services import certificate_issue_vaccination
from covidhub.certificates.tests.dcc_data import SCHEMA_REPOSITORY

pytestmark = pytest.mark.django_db
URL = "/api/v1/certificates/verify"
VALUE_SET_FOLDER = SCHEMA_REPOSITORY / "valuesets"


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


def _jrc_device_list(example: dict, *, today) -> dict:
    """The shipped device list (the only one in the EU repository: an 88-device example)
    written as the JRC database publishes its HSC common list, with 1,200 devices more
    (the gateway's list was about that long) and the cases the conversion must get right."""
    day = today.isoformat()
    devices = []
    for code, value in example["valueSetValues"].items():
        manufacturer, _comma, product = value["display"].partition(", ")
        devices.append(
            {
                "id_device": code,
                "commercial_name": product,
                "manufacturer": {"id_manufacturer": "1", "name": manufacturer},
                "hsc_common_list": value["active"],
                "hsc_mutual_recognition": value["active"],
                "last_updated": f"{value['version']} 10:00:00 CET",
                "hsc_list_history": [
                    {
                        "list_date": f"{value['version']} 00:00:00 CET",
                        "in_common_list": value["active"],
                        "in_mutual_recognition": value["active"],
                    }
                ],
            }
        )
    for number in range(1200):
        devices.append(
            {
                "id_device": str(900000 + number),
                "commercial_name": f"Antigen test {number}",
                "manufacturer": {"id_manufacturer": "2", "name": "Maker"},
                "hsc_common_list": True,
                "hsc_mutual_recognition": True,
                "last_updated": f"{day} 10:00:00 CET",
                "hsc_list_history": [
                    {"list_date": "2022-01-10 00:00:00 CET", "in_common_list": True},
                ],
            }
        )
    history = [
        # Never on the list: not a value.
        ("800001", []),
        # Taken off the list: known, not active.
        ("800002", [("2021-06-01", True), ("2022-02-01", False)]),
        # Comes off the list in ten days: active until then.
        ("800003", [("2021-06-01", True), ((today + timedelta(days=10)).isoformat(), False)]),
    ]
    for code, entries in history:
        devices.append(
            {
                "id_device": code,
                "commercial_name": "Special",
                "manufacturer": {"id_manufacturer": "3", "name": "Maker"},
                "hsc_common_list": False,
                "hsc_mutual_recognition": False,
                "last_updated": f"{day} 10:00:00 CET",
                "hsc_list_history": [
                    {"list_date": f"{when} 00:00:00 CET", "in_common_list": on}
                    for when, on in entries
                ],
            }
        )
    return {"extracted_on": f"{day} 06:00:00 CET", "deviceList": devices}


def _rapid_test(device: str) -> dict:
    sampled = (timezone.now() - timedelta(hours=3)).replace(microsecond=0)
    return {
        "ver": "1.3.0",
        "nam": {"fn": "Lò", "fnt": "LO", "gn": "Văn Páo", "gnt": "VAN<PAO"},
        "dob": "1985-04-04",
        "t": [
            {
                "tg": "840539006",
                "tt": "LP217198-3",
                "ma": device,
                "sc": sampled.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                "tr": "260415000",
                "tc": "Trạm y tế xã",
                "co": "VN",
                "is": "Sở Y tế Hải Dương",
                "ci": f"URN:UVCI:01:VN:RAT{device}#Q",
            }
        ],
    }


def test_a_jrc_device_list_becomes_the_value_set_the_verifier_names(
    verifier, signing_key, tmp_path, django_capture_on_commit_callbacks
):
    today = timezone.localdate()
    shipped = json.loads((VALUE_SET_FOLDER / "test-manf-example.json").read_text())
    text = _signed(_rapid_test("900123"))
    # Control: with the shipped list the device is unknown, a rule outcome naming it.
    before = _verify(verifier, text, purpose="travel", language="en")
    assert before["valid"] and before["value_sets_version"] == "packaged-2.12.0"
    lines = {rule["identifier"]: rule for rule in before["rules"]}
    assert lines["VS-t/0/ma"]["status"] == "open" and "900123" in lines["VS-t/0/ma"]["description"]
    assert lines["TR-VN-0003"]["status"] == "failed"

    folder = tmp_path / "jrc"
    folder.mkdir()
    (folder / "hsc-common-recognition-rat.json").write_text(
        json.dumps(_jrc_device_list(shipped, today=today))
    )
    (folder / "notes.json").write_text("{}")  # neither format: left out of a folder
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("certificates_value_sets_load", str(folder), stdout=out)
    assert "1 value sets read; new release: release-1" in out.getvalue()
    devices = ValueSetRelease.objects.get().documents["covid-19-lab-test-manufacturer-and-name"]
    assert devices["valueSetDate"] == today.isoformat()
    values = devices["valueSetValues"]
    assert len(values) == 88 + 1200 + 2 and "800001" not in values
    for code, value in shipped["valueSetValues"].items():
        assert values[code]["display"] == value["display"]
        assert values[code]["active"] is value["active"]
        assert values[code]["version"] == value["version"][:10]
    assert values["800002"]["active"] is False and values["800002"]["version"] == "2022-02-01"
    assert values["800003"]["active"] is True
    assert values["800003"]["validUntil"] == (today + timedelta(days=10)).isoformat()
    assert values["900123"]["display"] == "Maker, Antigen test 123"

    after = _verify(verifier, text, purpose="travel", language="en")
    assert after["value_sets_version"] == "release-1"
    assert after["verdict"] == "accepted", after["rules"]
    page = verifier.post(
        "/staff/certificates/verify/", {"text": text, "purpose": "travel"}
    ).content.decode()
    assert "release-1" in page and 'data-rule="TR-VN-0003" data-status="passed"' in page

    # The same list again changes nothing: no second version.
    with django_capture_on_commit_callbacks(execute=True):
        call_command("certificates_value_sets_load", str(folder), stdout=out)
    assert ValueSetRelease.objects.count() == 1


def test_a_broken_jrc_device_list_changes_nothing(tmp_path):
    broken = tmp_path / "rat.json"
    broken.write_text(json.dumps({"deviceList": [{"id_device": "1", "manufacturer": {}}]}))
    with pytest.raises(CommandError, match="value_set_invalid"):
        call_command("certificates_value_sets_load", str(broken))
    assert not ValueSetRelease.objects.exists()
