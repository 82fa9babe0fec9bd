"""Issuing and verifying: round trips, PS256, rotation, revocation, time, forgery, QR."""

import hashlib
import io
import zlib
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import base45
import cbor2
import pytest
import segno
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from PIL import Image

from covidhub.certificates.dcc import (
    TEST_RESULT_NOT_DETECTED,
    TEST_TYPE_RAT,
    DocumentSigner,
    Hcert,
    KeyMaterialInvalid,
    PayloadInvalid,
    Reason,
    SigningKey,
    development_csca_generate,
    development_dsc_generate,
    hc1_decode,
    hc1_encode,
    hc1_issue,
    hc1_verify,
    hcert_build_recovery,
    hcert_build_test,
    hcert_build_vaccination,
    hcert_sign,
    qr_png,
    qr_svg,
    signer_from_keys,
    trust_list_build,
)
from covidhub.certificates.dcc.verify import NoteCode

NOW = datetime(2022, 3, 1, 8, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=2)
YEAR = timedelta(days=365)


@pytest.fixture(scope="module")
def csca():
    return development_csca_generate(now=NOW - timedelta(days=30))


@pytest.fixture(scope="module")
def dsc(csca):
    return development_dsc_generate(csca=csca, now=NOW - timedelta(days=1))


@pytest.fixture(scope="module")
def signer(dsc):
    return signer_from_keys(
        private_key=dsc.private_key, certificate=dsc.certificate, allow_development=True
    )


@pytest.fixture(scope="module")
def trust_list(dsc):
    return trust_list_build([dsc.certificate])


def _vaccination() -> Hcert:
    return hcert_build_vaccination(
        family_name="Nguyễn",
        given_name="Văn An",
        date_of_birth="1968-11-02",
        prophylaxis="28531000087107",
        medicinal_product="EU/1/21/1529",
        manufacturer="ORG-100001699",
        dose_number=2,
        total_doses=2,
        vaccination_date=date(2021, 10, 5),
        issuer="Sở Y tế tỉnh Hải Dương",
    )


def _test() -> Hcert:
    return hcert_build_test(
        family_name="Trần",
        given_name="Thu Hà",
        date_of_birth="2002-05",
        test_type=TEST_TYPE_RAT,
        rat_device="1232",
        sample_collected_at=NOW - timedelta(hours=3),
        result=TEST_RESULT_NOT_DETECTED,
        issuer="Sở Y tế tỉnh Hải Dương",
    )


def _recovery() -> Hcert:
    return hcert_build_recovery(
        family_name="Đỗ",
        given_name="Minh",
        date_of_birth="1990",
        first_positive_on=date(2022, 1, 3),
        valid_from=date(2022, 1, 14),
        valid_until=date(2022, 7, 1),
        issuer="Sở Y tế tỉnh Hải Dương",
    )


def _issue(
    signer: DocumentSigner, hcert: Hcert, *, issued_at: datetime = NOW, lifetime: timedelta = YEAR
) -> str:
    return hc1_issue(
        hcert=hcert, signer=signer, issued_at=issued_at, expires_at=issued_at + lifetime
    )


def _raw_es256_sign(private_key: SigningKey, data: bytes) -> bytes:
    assert isinstance(private_key, ec.EllipticCurvePrivateKey)
    r, s = decode_dss_signature(private_key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _cose_by_hand(
    *,
    private_key: SigningKey,
    protected: dict[int, Any],
    unprotected: dict[int, Any],
    claims: dict[int, Any],
    tag: int = 18,
) -> str:
    """A COSE_Sign1 built without pycose, to place headers where pycose would not."""
    protected_bytes = cbor2.dumps(protected) if protected else b""
    payload = cbor2.dumps(claims)
    to_be_signed = cbor2.dumps(["Signature1", protected_bytes, b"", payload])
    message = [protected_bytes, unprotected, payload, _raw_es256_sign(private_key, to_be_signed)]
    return hc1_encode(cbor2.dumps(cbor2.CBORTag(tag, message)))


def _claims(
    hcert: Mapping[str, Any], *, issued_at: datetime = NOW, lifetime: timedelta = YEAR
) -> dict[int, Any]:
    return {
        1: "VN",
        6: int(issued_at.timestamp()),
        4: int((issued_at + lifetime).timestamp()),
        -260: {1: hcert},
    }


@pytest.mark.parametrize(("build", "kind"), [(_vaccination, "v"), (_test, "t"), (_recovery, "r")])
def test_round_trip_for_each_kind(signer, trust_list, build, kind):
    hcert = build()
    text = _issue(signer, hcert)
    assert text.startswith("HC1:")
    result = hc1_verify(text=text, trust_list=trust_list, now=LATER)
    assert result.valid, result
    assert result.reason is Reason.VALID
    assert result.failures == ()
    assert result.payload == hcert
    assert result.certificate_type == kind
    assert result.family_name == hcert["nam"]["fn"]
    assert result.given_name_icao == hcert["nam"]["gnt"]
    assert result.date_of_birth == hcert["dob"]
    assert result.uvci == hcert[kind][0]["ci"]
    assert result.kid == signer.kid
    assert result.issuer_country == "VN"
    assert result.issued_at == NOW
    assert result.expires_at == NOW + YEAR


def test_cose_carries_alg_and_kid_in_protected_header_and_cwt_claims(signer):
    hcert = _vaccination()
    cose = hc1_decode(_issue(signer, hcert))
    message = cbor2.loads(cose)
    assert message.tag == 18
    protected = cbor2.loads(message.value[0])
    assert protected == {1: -7, 4: signer.kid}
    assert message.value[1] == {}
    claims = cbor2.loads(message.value[2])
    assert claims == _claims(hcert)


def test_ps256_round_trip(csca):
    rsa_dsc = development_dsc_generate(csca=csca, now=NOW - timedelta(days=1), algorithm="PS256")
    rsa_signer = signer_from_keys(
        private_key=rsa_dsc.private_key, certificate=rsa_dsc.certificate, allow_development=True
    )
    text = _issue(rsa_signer, _vaccination())
    assert cbor2.loads(cbor2.loads(hc1_decode(text)).value[0])[1] == -37
    result = hc1_verify(text=text, trust_list=trust_list_build([rsa_dsc.certificate]), now=LATER)
    assert result.valid, result


def test_key_rotation_old_and_new_dsc_both_verify(csca, dsc, signer):
    new_dsc = development_dsc_generate(csca=csca, now=NOW)
    new_signer = signer_from_keys(
        private_key=new_dsc.private_key, certificate=new_dsc.certificate, allow_development=True
    )
    assert new_signer.kid != signer.kid
    old_text = _issue(signer, _vaccination())
    new_text = _issue(new_signer, _vaccination())
    both = trust_list_build([dsc.certificate, new_dsc.certificate])
    assert hc1_verify(text=old_text, trust_list=both, now=LATER).valid
    assert hc1_verify(text=new_text, trust_list=both, now=LATER).valid
    # Once the old DSC leaves the published trust list, its certificates stop verifying.
    only_new = trust_list_build([new_dsc.certificate])
    assert hc1_verify(text=old_text, trust_list=only_new, now=LATER).reason is Reason.UNKNOWN_KID


def test_certificates_sharing_a_kid_are_all_tried(csca, dsc, signer):
    impostor = development_dsc_generate(csca=csca, now=NOW)
    shared = {signer.kid: [impostor.certificate, dsc.certificate]}
    assert hc1_verify(text=_issue(signer, _test()), trust_list=shared, now=LATER).valid
    only_impostor = {signer.kid: [impostor.certificate]}
    result = hc1_verify(text=_issue(signer, _test()), trust_list=only_impostor, now=LATER)
    assert result.reason is Reason.SIGNATURE_INVALID


def test_revocation_by_uvci(signer, trust_list):
    hcert = _recovery()
    text = _issue(signer, hcert)
    uvci = hcert["r"][0]["ci"]
    result = hc1_verify(text=text, trust_list=trust_list, now=LATER, revoked_uvcis={uvci})
    assert result.reason is Reason.REVOKED
    assert result.uvci == uvci
    other = hc1_verify(
        text=text, trust_list=trust_list, now=LATER, revoked_uvcis={"URN:UVCI:01:VN:X#A"}
    )
    assert other.valid


def test_lower_case_uvci_matches_upper_case_revocation_entry(dsc, signer, trust_list):
    hcert = _recovery()
    uvci = hcert["r"][0]["ci"]
    hcert["r"][0]["ci"] = uvci.lower()
    text = _cose_by_hand(
        private_key=dsc.private_key,
        protected={1: -7, 4: signer.kid},
        unprotected={},
        claims=_claims(hcert),
    )
    assert hc1_verify(text=text, trust_list=trust_list, now=LATER).valid
    result = hc1_verify(text=text, trust_list=trust_list, now=LATER, revoked_uvcis={uvci})
    assert result.reason is Reason.REVOKED


def test_revocation_by_kid(signer, trust_list):
    text = _issue(signer, _vaccination())
    result = hc1_verify(text=text, trust_list=trust_list, now=LATER, revoked_kids={signer.kid})
    assert result.reason is Reason.KEY_REVOKED
    assert not result.valid


def test_expired_and_not_yet_valid(signer, trust_list):
    text = _issue(signer, _test(), lifetime=timedelta(hours=72))
    assert hc1_verify(text=text, trust_list=trust_list, now=NOW + timedelta(hours=72)).valid
    expired = hc1_verify(text=text, trust_list=trust_list, now=NOW + timedelta(hours=72, seconds=1))
    assert expired.reason is Reason.EXPIRED
    early = hc1_verify(text=text, trust_list=trust_list, now=NOW - timedelta(hours=1))
    assert early.reason is Reason.NOT_YET_VALID


def test_issued_at_leeway_tolerates_a_slow_verifier_clock(signer, trust_list):
    text = _issue(signer, _test())
    assert hc1_verify(text=text, trust_list=trust_list, now=NOW - timedelta(minutes=4)).valid
    strict = hc1_verify(
        text=text,
        trust_list=trust_list,
        now=NOW - timedelta(minutes=4),
        issued_at_leeway=timedelta(0),
    )
    assert strict.reason is Reason.NOT_YET_VALID


def test_expired_dsc_invalidates_its_certificates(csca):
    short = development_dsc_generate(csca=csca, now=NOW, valid_for=timedelta(days=10))
    short_signer = signer_from_keys(
        private_key=short.private_key, certificate=short.certificate, allow_development=True
    )
    text = _issue(short_signer, _vaccination(), lifetime=timedelta(days=10))
    trust = trust_list_build([short.certificate])
    result = hc1_verify(text=text, trust_list=trust, now=NOW + timedelta(days=10, hours=1))
    assert Reason.DSC_EXPIRED in result.failures
    assert Reason.EXPIRED in result.failures
    assert result.reason is Reason.DSC_EXPIRED


def test_signing_beyond_dsc_validity_is_refused(csca):
    short = development_dsc_generate(csca=csca, now=NOW, valid_for=timedelta(days=10))
    short_signer = signer_from_keys(
        private_key=short.private_key, certificate=short.certificate, allow_development=True
    )
    with pytest.raises(KeyMaterialInvalid) as caught:
        hcert_sign(hcert=_vaccination(), signer=short_signer, issued_at=NOW, expires_at=NOW + YEAR)
    assert caught.value.code == "dsc_validity_exceeded"
    with pytest.raises(KeyMaterialInvalid) as caught:
        hcert_sign(
            hcert=_vaccination(),
            signer=short_signer,
            issued_at=NOW - timedelta(days=1),
            expires_at=NOW + timedelta(days=1),
        )
    assert caught.value.code == "dsc_not_valid"


def test_dsc_restricted_to_vaccination_cannot_sign_tests(csca):
    vaccination_dsc = development_dsc_generate(csca=csca, now=NOW, usages=("v",))
    vaccination_signer = signer_from_keys(
        private_key=vaccination_dsc.private_key,
        certificate=vaccination_dsc.certificate,
        allow_development=True,
    )
    trust = trust_list_build([vaccination_dsc.certificate])
    accepted = hc1_verify(
        text=_issue(vaccination_signer, _vaccination()), trust_list=trust, now=LATER
    )
    assert accepted.valid
    result = hc1_verify(text=_issue(vaccination_signer, _test()), trust_list=trust, now=LATER)
    assert result.reason is Reason.DSC_USAGE


def test_dsc_without_usage_oids_may_sign_every_kind(csca):
    unrestricted = development_dsc_generate(csca=csca, now=NOW, usages=None)
    unrestricted_signer = signer_from_keys(
        private_key=unrestricted.private_key,
        certificate=unrestricted.certificate,
        allow_development=True,
    )
    trust = trust_list_build([unrestricted.certificate])
    for build in (_vaccination, _test, _recovery):
        assert hc1_verify(
            text=_issue(unrestricted_signer, build()), trust_list=trust, now=LATER
        ).valid


def test_forged_payload_fails_signature(signer, trust_list):
    hcert = _vaccination()
    message = cbor2.loads(hc1_decode(_issue(signer, hcert)))
    claims = cbor2.loads(message.value[2])
    claims[-260][1]["v"][0]["dn"] = 3
    claims[4] += 10 * 365 * 86400
    message.value[2] = cbor2.dumps(claims)
    result = hc1_verify(text=hc1_encode(cbor2.dumps(message)), trust_list=trust_list, now=LATER)
    assert result.reason is Reason.SIGNATURE_INVALID
    assert not result.valid


def test_signature_by_another_key_under_our_kid_fails(csca, signer, trust_list):
    forger = development_dsc_generate(csca=csca, now=NOW)
    text = _cose_by_hand(
        private_key=forger.private_key,
        protected={1: -7, 4: signer.kid},
        unprotected={},
        claims=_claims(_vaccination()),
    )
    assert (
        hc1_verify(text=text, trust_list=trust_list, now=LATER).reason is Reason.SIGNATURE_INVALID
    )


def test_unknown_kid(signer):
    other_csca = development_csca_generate(now=NOW - timedelta(days=1))
    other = development_dsc_generate(csca=other_csca, now=NOW - timedelta(days=1))
    text = _issue(signer, _vaccination())
    result = hc1_verify(text=text, trust_list=trust_list_build([other.certificate]), now=LATER)
    assert result.reason is Reason.UNKNOWN_KID
    assert result.payload is not None  # decoded for diagnostics, but not valid


def test_kid_in_unprotected_header_is_a_fallback_only(dsc, signer, trust_list):
    claims = _claims(_vaccination())
    fallback = _cose_by_hand(
        private_key=dsc.private_key, protected={1: -7}, unprotected={4: signer.kid}, claims=claims
    )
    assert hc1_verify(text=fallback, trust_list=trust_list, now=LATER).valid
    protected_wins = _cose_by_hand(
        private_key=dsc.private_key,
        protected={1: -7, 4: b"wrongkid"},
        unprotected={4: signer.kid},
        claims=claims,
    )
    result = hc1_verify(text=protected_wins, trust_list=trust_list, now=LATER)
    assert result.reason is Reason.UNKNOWN_KID


def test_cwt_tag_around_cose_and_untagged_cose_are_accepted(dsc, signer, trust_list):
    claims = _claims(_vaccination())
    tagged = _cose_by_hand(
        private_key=dsc.private_key, protected={1: -7, 4: signer.kid}, unprotected={}, claims=claims
    )
    message = cbor2.loads(hc1_decode(tagged))
    cwt = hc1_encode(cbor2.dumps(cbor2.CBORTag(61, message)))
    untagged = hc1_encode(cbor2.dumps(message.value))
    assert hc1_verify(text=cwt, trust_list=trust_list, now=LATER).valid
    assert hc1_verify(text=untagged, trust_list=trust_list, now=LATER).valid
    wrong_tag = hc1_encode(cbor2.dumps(cbor2.CBORTag(98, message.value)))
    assert (
        hc1_verify(text=wrong_tag, trust_list=trust_list, now=LATER).reason is Reason.COSE_INVALID
    )


def test_unsupported_algorithm(dsc, signer, trust_list):
    text = _cose_by_hand(
        private_key=dsc.private_key,
        protected={1: -35, 4: signer.kid},
        unprotected={},
        claims=_claims(_vaccination()),
    )
    result = hc1_verify(text=text, trust_list=trust_list, now=LATER)
    assert result.reason is Reason.UNSUPPORTED_ALGORITHM


def test_missing_time_claims_are_cbor_invalid(dsc, signer, trust_list):
    claims = _claims(_vaccination())
    del claims[4]
    text = _cose_by_hand(
        private_key=dsc.private_key, protected={1: -7, 4: signer.kid}, unprotected={}, claims=claims
    )
    assert hc1_verify(text=text, trust_list=trust_list, now=LATER).reason is Reason.CBOR_INVALID


@pytest.mark.parametrize("bad_time", [2**1100, float("nan"), float("inf"), "2023-01-01", True])
def test_out_of_range_or_mistyped_time_claims_are_cbor_invalid(dsc, signer, trust_list, bad_time):
    claims = _claims(_vaccination())
    claims[4] = bad_time
    text = _cose_by_hand(
        private_key=dsc.private_key, protected={1: -7, 4: signer.kid}, unprotected={}, claims=claims
    )
    assert hc1_verify(text=text, trust_list=trust_list, now=LATER).reason is Reason.CBOR_INVALID


def test_signed_payload_with_non_json_data_is_schema_invalid(dsc, signer, trust_list):
    hcert = _vaccination()
    hcert["v"][0]["dn"] = b"\x02"  # a byte string: nothing JSON (or the schema) knows
    text = _cose_by_hand(
        private_key=dsc.private_key,
        protected={1: -7, 4: signer.kid},
        unprotected={},
        claims=_claims(hcert),
    )
    result = hc1_verify(text=text, trust_list=trust_list, now=LATER)
    assert result.reason is Reason.SCHEMA_INVALID
    assert result.payload is None


def test_tag_0_sample_time_verifies_as_its_text(dsc, signer, trust_list):
    """The schema README: timestamps, if tagged, use tag 0, and validators MUST read both."""
    hcert = _test()
    sampled = datetime(2022, 3, 1, 5, 0, tzinfo=UTC)
    hcert["t"][0]["sc"] = cbor2.CBORTag(0, "2022-03-01T05:00:00Z")
    text = _cose_by_hand(
        private_key=dsc.private_key,
        protected={1: -7, 4: signer.kid},
        unprotected={},
        claims=_claims(hcert),
    )
    result = hc1_verify(text=text, trust_list=trust_list, now=LATER)
    assert result.valid, (result.failures, result.detail)
    assert result.payload is not None
    assert result.payload["t"][0]["sc"] == "2022-03-01T05:00:00Z"
    # Tag 1 (epoch seconds) too.
    hcert["t"][0]["sc"] = cbor2.CBORTag(1, int(sampled.timestamp()))
    text = _cose_by_hand(
        private_key=dsc.private_key,
        protected={1: -7, 4: signer.kid},
        unprotected={},
        claims=_claims(hcert),
    )
    result = hc1_verify(text=text, trust_list=trust_list, now=LATER)
    assert result.valid, (result.failures, result.detail)
    assert result.payload is not None
    assert result.payload["t"][0]["sc"] == "2022-03-01T05:00:00Z"


def test_a_certificate_we_sign_with_a_datetime_sample_time_verifies(signer, trust_list):
    hcert = _test()
    hcert["t"][0]["sc"] = datetime(2022, 3, 1, 12, 30, tzinfo=UTC)
    text = _issue(signer, hcert)
    claims = cbor2.loads(cbor2.loads(hc1_decode(text)).value[2])
    assert isinstance(claims[-260][1]["t"][0]["sc"], datetime)  # signed as CBOR tag 0
    result = hc1_verify(text=text, trust_list=trust_list, now=LATER)
    assert result.valid, (result.failures, result.detail)
    assert result.payload is not None
    assert result.payload["t"][0]["sc"] == "2022-03-01T12:30:00Z"
    hcert["t"][0]["sc"] = datetime(2022, 3, 1, 12, 30)  # noqa: DTZ001 - the point
    with pytest.raises(PayloadInvalid) as caught:
        _issue(signer, hcert)
    assert caught.value.code == "naive_datetime"


@pytest.mark.parametrize("written", ["2021-10-05T00:00:00Z", "2021-10-05T00:00:00.000+00:00"])
def test_date_time_where_a_date_belongs_verifies_with_a_note(dsc, signer, trust_list, written):
    hcert = _vaccination()
    hcert["v"][0]["dt"] = written
    text = _cose_by_hand(
        private_key=dsc.private_key,
        protected={1: -7, 4: signer.kid},
        unprotected={},
        claims=_claims(hcert),
    )
    result = hc1_verify(text=text, trust_list=trust_list, now=LATER)
    assert result.valid, (result.failures, result.detail)
    assert result.payload is not None
    assert result.payload["v"][0]["dt"] == "2021-10-05"
    assert [(note.code, note.field, note.value) for note in result.notes] == [
        (NoteCode.DATE_TIME_AS_DATE, "v/0/dt", written)
    ]
    # A tag-0 date-time in dt: read, then read as its date.
    hcert["v"][0]["dt"] = datetime(2021, 10, 5, tzinfo=UTC)
    text = _cose_by_hand(
        private_key=dsc.private_key,
        protected={1: -7, 4: signer.kid},
        unprotected={},
        claims=_claims(hcert),
    )
    result = hc1_verify(text=text, trust_list=trust_list, now=LATER)
    assert result.valid, (result.failures, result.detail)
    assert result.payload is not None
    assert result.payload["v"][0]["dt"] == "2021-10-05"


def test_signed_payload_with_unknown_code_is_genuine_and_left_to_the_rules(dsc, signer, trust_list):
    hcert = _vaccination()
    hcert["v"][0]["mp"] = "EU/9/99/9999"
    text = _cose_by_hand(
        private_key=dsc.private_key,
        protected={1: -7, 4: signer.kid},
        unprotected={},
        claims=_claims(hcert),
    )
    result = hc1_verify(text=text, trust_list=trust_list, now=LATER)
    assert result.valid  # signature, key, times and revocation hold
    assert [(issue.field, issue.code) for issue in result.code_issues] == [
        ("v/0/mp", "EU/9/99/9999")
    ]
    assert result.value_sets_version == "packaged-2.12.0"


def test_issued_before_its_dsc_is_refused_and_expiry_beyond_it_noted(csca, dsc, signer, trust_list):
    before = dsc.certificate.not_valid_before_utc - timedelta(hours=1)
    text = _cose_by_hand(
        private_key=dsc.private_key,
        protected={1: -7, 4: signer.kid},
        unprotected={},
        claims=_claims(_vaccination(), issued_at=before),
    )
    result = hc1_verify(text=text, trust_list=trust_list, now=LATER)
    assert result.reason is Reason.ISSUED_BEFORE_DSC
    beyond = _cose_by_hand(
        private_key=dsc.private_key,
        protected={1: -7, 4: signer.kid},
        unprotected={},
        claims=_claims(_vaccination(), lifetime=3 * YEAR),
    )
    result = hc1_verify(text=beyond, trust_list=trust_list, now=LATER)
    assert result.valid
    assert [note.code for note in result.notes] == [NoteCode.EXPIRES_AFTER_DSC]


def _dsc_with_key(csca, private_key):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "XX")])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(csca.certificate.subject)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + YEAR)
        .sign(csca.private_key, hashes.SHA256())
    )


def test_a_key_the_spec_does_not_allow_is_unsupported_not_forged(csca):
    from cryptography.hazmat.primitives.asymmetric import rsa

    p384 = ec.generate_private_key(ec.SECP384R1())
    certificate = _dsc_with_key(csca, p384)
    trust = trust_list_build([certificate])
    kid = next(iter(trust))
    protected = cbor2.dumps({1: -7, 4: kid})
    payload = cbor2.dumps(_claims(_vaccination()))
    to_be_signed = cbor2.dumps(["Signature1", protected, b"", payload])
    r, s = decode_dss_signature(p384.sign(to_be_signed, ec.ECDSA(hashes.SHA256())))
    signature = r.to_bytes(48, "big") + s.to_bytes(48, "big")
    text = hc1_encode(cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, signature])))
    result = hc1_verify(text=text, trust_list=trust, now=LATER)
    assert result.reason is Reason.UNSUPPORTED_KEY
    # A small RSA key for PS256: unsupported as well.
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the point
    trust = trust_list_build([_dsc_with_key(csca, small)])
    kid = next(iter(trust))
    protected = cbor2.dumps({1: -37, 4: kid})
    text = hc1_encode(cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, b"\0" * 128])))
    assert hc1_verify(text=text, trust_list=trust, now=LATER).reason is Reason.UNSUPPORTED_KEY


def test_a_dsc_with_der_default_fields_parses_and_its_certificates_verify(csca, dsc, signer):
    from covidhub.certificates.dcc import certificate_load, kid_for_certificate
    from covidhub.certificates.tests.dcc_der import explicit_default_dsc

    published = explicit_default_dsc(csca=csca, dsc=dsc)
    from cryptography import x509

    with pytest.raises(ValueError, match="EncodedDefault"):
        x509.load_der_x509_certificate(published)  # cryptography alone refuses it
    certificate = certificate_load(published)
    assert kid_for_certificate(certificate) == hashlib.sha256(published).digest()[:8]
    assert certificate.public_key() == dsc.certificate.public_key()
    # A certificate signed with that DSC's key under the published kid verifies.
    kid = kid_for_certificate(certificate)
    text = _cose_by_hand(
        private_key=dsc.private_key,
        protected={1: -7, 4: kid},
        unprotected={},
        claims=_claims(_vaccination()),
    )
    result = hc1_verify(text=text, trust_list=trust_list_build([certificate]), now=LATER)
    assert result.valid, (result.failures, result.detail)


def test_payload_is_validated_before_signing(signer):
    hcert = _vaccination()
    hcert["v"][0]["co"] = "XX"
    with pytest.raises(PayloadInvalid) as caught:
        _issue(signer, hcert)
    assert caught.value.code == "unknown_code"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", Reason.BAD_PREFIX),
        ("HC2:NCFOXN", Reason.BAD_PREFIX),
        ("hc1:NCFOXN", Reason.BAD_PREFIX),
        ("HC1:abc", Reason.BASE45_INVALID),
        ("HC1:" + "A" * 9000, Reason.INPUT_TOO_LARGE),
        ("HC1:" + base45.b45encode(b"\x00\x01\x02").decode(), Reason.ZLIB_INVALID),
        ("HC1:" + base45.b45encode(zlib.compress(b"\xff")).decode(), Reason.COSE_INVALID),
    ],
)
def test_malformed_transport_layers(text, reason, trust_list):
    result = hc1_verify(text=text, trust_list=trust_list, now=LATER)
    assert result.reason is reason
    assert result.failures == (reason,)


def test_zlib_bomb_is_refused_without_inflating(trust_list):
    bomb = zlib.compress(b"\x00" * (4 * 1024 * 1024), 9)
    text = "HC1:" + base45.b45encode(bomb).decode()
    assert len(text) < 8192
    result = hc1_verify(text=text, trust_list=trust_list, now=LATER)
    assert result.reason is Reason.INPUT_TOO_LARGE


def test_trailing_data_after_zlib_or_cose_is_refused(signer, trust_list):
    cose = hc1_decode(_issue(signer, _vaccination()))
    after_zlib = "HC1:" + base45.b45encode(zlib.compress(cose) + b"\x00").decode()
    assert (
        hc1_verify(text=after_zlib, trust_list=trust_list, now=LATER).reason is Reason.ZLIB_INVALID
    )
    after_cose = hc1_encode(cose + b"\x00")
    assert (
        hc1_verify(text=after_cose, trust_list=trust_list, now=LATER).reason is Reason.COSE_INVALID
    )


def test_scanner_enter_key_is_ignored(signer, trust_list):
    text = _issue(signer, _vaccination())
    assert hc1_verify(text=text + "\r\n", trust_list=trust_list, now=LATER).valid


def test_naive_now_is_a_programming_error(trust_list):
    with pytest.raises(ValueError, match="timezone-aware"):
        hc1_verify(text="HC1:", trust_list=trust_list, now=datetime(2022, 1, 1))  # noqa: DTZ001


def test_qr_svg_and_png_use_error_level_q(signer):
    text = _issue(signer, _vaccination())
    svg = qr_svg(hc1_text=text)
    assert svg.startswith(b"<?xml")
    assert b"<svg" in svg
    scale, border = 2, 4
    png = qr_png(hc1_text=text, scale=scale, border=border)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(png)) as image:
        modules = image.width // scale - 2 * border
    # The symbol size gives the version, which depends on the error level used.
    level_q = segno.make_qr(text, error="q", boost_error=False)
    level_l = segno.make_qr(text, error="l", boost_error=False)
    assert modules == level_q.symbol_size(scale=1, border=0)[0]
    assert modules != level_l.symbol_size(scale=1, border=0)[0]


def test_es256_output_verifies_with_pycose(dsc, signer):
    """Our OpenSSL ES256 path must produce what the reference COSE library accepts."""
    from pycose.keys.curves import P256
    from pycose.keys.ec2 import EC2Key
    from pycose.messages.sign1message import Sign1Message

    cose = hc1_decode(_issue(signer, _vaccination()))
    message = Sign1Message.decode(cose)
    numbers = dsc.certificate.public_key().public_numbers()
    message.key = EC2Key(crv=P256, x=numbers.x.to_bytes(32, "big"), y=numbers.y.to_bytes(32, "big"))
    assert message.verify_signature()
    tampered = Sign1Message.decode(cose)
    tampered.key = message.key
    tampered.payload = tampered.payload[:-1] + bytes([tampered.payload[-1] ^ 1])
    assert not tampered.verify_signature()
