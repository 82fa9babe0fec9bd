"""The verification API: the public test data, each kind of bad input, a fuzz run, and
the published trust and revocation lists."""

import base64
import json
import random
import zlib
from datetime import timedelta

import base45
import cbor2
import pytest
from django.utils import timezone

from covidhub.certificates import verification
from covidhub.certificates.dcc import (
    Reason,
    certificate_load,
    development_csca_generate,
    development_dsc_generate,
    hc1_decode,
    hc1_encode,
    hc1_issue,
    hcert_build_vaccination,
    signer_from_keys,
)
from covidhub.certificates.facts import TestFacts
from covidhub.certificates.keystore import signing_key_create_development, trust_list_import
from covidhub.certificates.models import TrustedCertificate
from covidhub.certificates.services import certificate_issue, certificate_issue_vaccination
from covidhub.certificates.tests.test_dcc_testdata import (
    FLAG_REASONS,
    REFUSED_CERTIFICATES,
    _case_id,
    _cases,
    _clock,
)

pytestmark = pytest.mark.django_db
URL = "/api/v1/certificates/verify"


@pytest.fixture
def verifier(login, make_staff, area_tree):
    import uuid

    return login(make_staff("checkpoint", "sampler", unit_kind="site", unit_uuid=uuid.uuid4()))


def _verify(client, text):
    response = client.post(URL, {"text": text}, content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def test_verify_requires_staff(client, citizen, login):
    assert client.post(URL, {"text": "HC1:"}, content_type="application/json").status_code == 401
    assert (
        login(citizen).post(URL, {"text": "x"}, content_type="application/json").status_code == 401
    )


def test_valid_certificate_shows_person_and_is_audited(
    verifier, signing_key, make_person, vaccination_facts
):
    from covidhub.audit.models import AuditEvent

    person = make_person(full_name="Đặng Thị Hà", birth="02/09/1990")
    certificate = certificate_issue_vaccination(facts=vaccination_facts(person))
    body = _verify(verifier, certificate.hc1)
    assert body["valid"] is True and body["reason"] == "valid"
    assert (body["family_name"], body["given_name"]) == ("Đặng", "Thị Hà")
    assert body["date_of_birth"] == "1990-09-02"
    assert body["certificate_type"] == "v"
    event = AuditEvent.objects.get(action="certificates.certificate.verified")
    assert event.person_uuid == person.uuid
    assert event.details == {"reason": "valid"}


@pytest.mark.parametrize("path", _cases(), ids=_case_id)
def test_public_test_data_through_the_api(path, verifier, monkeypatch):
    case = json.loads(path.read_text(encoding="utf-8"))
    name = _case_id(path)
    encoded = case["TESTCTX"].get("CERTIFICATE")
    TrustedCertificate.objects.all().delete()
    if encoded and name not in REFUSED_CERTIFICATES:
        trust_list_import(actor=None, certificates_data=[base64.b64decode(encoded)])
    verification.trust_list_cache_clear()
    clock = _clock(case)
    monkeypatch.setattr(verification.timezone, "now", lambda: clock)
    body = _verify(verifier, case["PREFIX"])
    expected = case["EXPECTEDRESULTS"]
    failures = set(body["failures"])
    for flag, reasons in FLAG_REASONS.items():
        if expected.get(flag) is False:
            assert failures & {str(reason) for reason in reasons}, (flag, body)
    judged = {flag: value for flag, value in expected.items() if flag in FLAG_REASONS}
    fully_valid = {"EXPECTEDVERIFY", "EXPECTEDEXPIRATIONCHECK"} <= set(judged) and all(
        judged.values()
    )
    if fully_valid and name not in REFUSED_CERTIFICATES:
        assert body["valid"], body
    if not body["valid"]:
        assert body["family_name"] == "" and body["date_of_birth"] == ""
        assert body["message"]


def _foreign_signer():
    now = timezone.now() - timedelta(days=1)
    csca = development_csca_generate(now=now)
    dsc = development_dsc_generate(csca=csca, now=now)
    return signer_from_keys(
        private_key=dsc.private_key, certificate=dsc.certificate, allow_development=True
    )


def _payload():
    return hcert_build_vaccination(
        family_name="Nguyễn",
        given_name="Văn An",
        date_of_birth="1980-01-01",
        prophylaxis="1119349007",
        medicinal_product="EU/1/20/1528",
        manufacturer="ORG-100030215",
        dose_number=1,
        total_doses=2,
        vaccination_date=timezone.localdate(),
        issuer="Sở Y tế",
    )


def test_each_kind_of_bad_input_is_refused_for_the_right_reason(
    verifier, make_person, vaccination_facts
):
    signing_key_create_development(actor=None, now=timezone.now() - timedelta(days=10))
    person = make_person()
    good = certificate_issue_vaccination(facts=vaccination_facts(person)).hc1
    cose = hc1_decode(good)
    message = cbor2.loads(cose)
    claims = cbor2.loads(message.value[2])
    claims[-260][1]["nam"]["fn"] = "Kẻ Giả"
    forged = hc1_encode(
        cbor2.dumps(
            cbor2.CBORTag(18, [message.value[0], {}, cbor2.dumps(claims), message.value[3]])
        )
    )
    expired = certificate_issue(
        facts=TestFacts(
            person=person,
            source_type="t",
            source_id="expired",
            test_type="LP6464-4",
            positive=False,
            sample_collected_at=timezone.now() - timedelta(days=9),
        ),
        now=timezone.now() - timedelta(days=9),
    ).hc1
    future = certificate_issue(
        facts=TestFacts(
            person=person,
            source_type="t",
            source_id="future",
            test_type="LP6464-4",
            positive=False,
            sample_collected_at=timezone.now(),
        ),
        now=timezone.now() + timedelta(days=1),
    ).hc1
    unknown = hc1_issue(
        hcert=_payload(),
        signer=_foreign_signer(),
        issued_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=1),
    )
    revoked = certificate_issue_vaccination(facts=vaccination_facts(person, dose=1, total=1))
    from covidhub.certificates.services import uvci_revoke

    uvci_revoke(uvci=revoked.uvci, reason="test", actor=None)
    cases = {
        "malformed": ("HC1:!!!not base45", Reason.BASE45_INVALID),
        "truncated": (good[:-7], None),
        "wrong prefix": ("HC2:" + good[4:], Reason.BAD_PREFIX),
        "no prefix": (good[4:], Reason.BAD_PREFIX),
        "wrongly compressed": (
            "HC1:" + base45.b45encode(cose).decode(),
            Reason.ZLIB_INVALID,
        ),
        "not cbor": (
            "HC1:" + base45.b45encode(zlib.compress(b"\xff\xff")).decode(),
            Reason.COSE_INVALID,
        ),
        "forged": (forged, Reason.SIGNATURE_INVALID),
        "expired": (expired, Reason.EXPIRED),
        "not yet valid": (future, Reason.NOT_YET_VALID),
        "revoked": (revoked.hc1, Reason.REVOKED),
        "unknown key": (unknown, Reason.UNKNOWN_KID),
        "too long": ("HC1:" + "A" * 9000, Reason.INPUT_TOO_LARGE),
        "empty": ("", Reason.BAD_PREFIX),
    }
    for label, (text, reason) in cases.items():
        body = _verify(verifier, text)
        assert body["valid"] is False, label
        if reason is not None:
            assert body["reason"] == str(reason), (label, body)
        else:
            assert body["reason"] in {"base45_invalid", "zlib_invalid"}, (label, body)
    assert _verify(verifier, good)["valid"] is True


def test_fuzzed_texts_are_never_accepted_and_never_a_server_error(
    verifier, signing_key, make_person, vaccination_facts
):
    good = certificate_issue_vaccination(facts=vaccination_facts(make_person())).hc1
    cose = hc1_decode(good)
    rng = random.Random(20210)
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
    reasons = {str(reason) for reason in Reason} - {"valid"}
    mutants = set()
    while len(mutants) < 300:
        kind = rng.randrange(5)
        if kind == 0:  # change characters of the text
            chars = list(good)
            for _ in range(rng.randint(1, 4)):
                chars[rng.randrange(4, len(chars))] = rng.choice(alphabet)
            text = "".join(chars)
        elif kind == 1:  # cut
            text = good[: rng.randrange(0, len(good) - 1)]
        elif kind == 2:  # flip bytes inside the COSE, re-wrapped properly
            data = bytearray(cose)
            for _ in range(rng.randint(1, 3)):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
            text = hc1_encode(bytes(data))
        elif kind == 3:  # random printable junk, sometimes with the prefix
            junk = "".join(rng.choice(alphabet + "abcé\u0000{}") for _ in range(rng.randint(0, 80)))
            text = ("HC1:" if rng.random() < 0.5 else "") + junk
        else:  # truncated or extended COSE
            data = cose[: rng.randrange(len(cose))] + bytes(rng.randrange(4))
            text = hc1_encode(data)
        if text != good:
            mutants.add(text)
    for text in mutants:
        if "\x00" in text:  # refused before the verifier by the input-cleaning step
            response = verifier.post(URL, {"text": text}, content_type="application/json")
            assert response.status_code == 400 and response.json()["code"] == "invalid_text"
            continue
        body = _verify(verifier, text)
        assert body["valid"] is False, text
        assert body["reason"] in reasons


def test_malformed_request_bodies_are_4xx_not_500(verifier):
    assert verifier.post(URL, "not json", content_type="application/json").status_code == 400
    assert verifier.post(URL, {"text": 5}, content_type="application/json").status_code == 422
    too_long = verifier.post(URL, {"text": "A" * 20_000}, content_type="application/json")
    assert too_long.status_code == 422


def test_public_trust_and_revocation_lists(client, signing_key, make_person, vaccination_facts):
    certificate = certificate_issue_vaccination(facts=vaccination_facts(make_person()))
    for url in ("/certificates/trust-list.json", "/api/v1/certificates/trust-list"):
        document = client.get(url).json()
        (entry,) = document["certificates"]
        assert base64.b64decode(entry["kid"]).hex() == signing_key.kid
        assert certificate_load(base64.b64decode(entry["certificate"]))
        assert entry["public_key"]
    from covidhub.certificates.services import certificate_revoke, signing_key_revoke

    certificate_revoke(certificate=certificate, reason="x", actor=None)
    signing_key_revoke(kid=signing_key.kid, reason="x", actor=None)
    for url in ("/certificates/revocations.json", "/api/v1/certificates/revocations"):
        document = client.get(url).json()
        assert verification.uvci_hash(certificate.uvci) in document["uvci_sha256"]
        assert document["kids"] == [base64.b64encode(bytes.fromhex(signing_key.kid)).decode()]
        assert certificate.uvci not in json.dumps(document)
