"""Fuzzing the verifier: it never raises, and never accepts a changed meaning.

Mutations are applied at three depths, so that each parser is reached: the QR text
(Base45 layer), the COSE bytes re-wrapped in valid zlib/Base45 (CBOR/COSE layer), and
arbitrary CBOR claims under a *valid* signature (claims, schema and value-set layer).
"""

import functools
import zlib
from datetime import UTC, date, datetime, timedelta

import base45
import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from covidhub.certificates.dcc import (
    Hcert,
    Reason,
    SigningKey,
    TrustList,
    VerificationResult,
    development_csca_generate,
    development_dsc_generate,
    hc1_decode,
    hc1_encode,
    hc1_issue,
    hc1_verify,
    hcert_build_vaccination,
    signer_from_keys,
    trust_list_build,
)

NOW = datetime(2022, 3, 1, 8, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


def _fuzz(max_examples: int) -> settings:
    # No example database: it would write a .hypothesis folder into the work tree.
    return settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


BASE45_AND_NEIGHBOURS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:abcz#\n\x00é"


@functools.cache
def _issued() -> tuple[str, TrustList, SigningKey, bytes, Hcert]:
    """One genuine certificate: (text, trust list, dsc key, kid, hcert)."""
    csca = development_csca_generate(now=NOW - timedelta(days=1))
    dsc = development_dsc_generate(csca=csca, now=NOW - timedelta(days=1))
    signer = signer_from_keys(
        private_key=dsc.private_key, certificate=dsc.certificate, allow_development=True
    )
    hcert = hcert_build_vaccination(
        family_name="Nguyễn",
        given_name="Thị Lan",
        date_of_birth="1985-06-01",
        prophylaxis="1119349007",
        medicinal_product="EU/1/20/1528",
        manufacturer="ORG-100030215",
        dose_number=1,
        total_doses=2,
        vaccination_date=date(2021, 8, 20),
        issuer="Sở Y tế tỉnh Hải Dương",
    )
    text = hc1_issue(
        hcert=hcert, signer=signer, issued_at=NOW, expires_at=NOW + timedelta(days=365)
    )
    return text, trust_list_build([dsc.certificate]), dsc.private_key, signer.kid, hcert


def _assert_same_meaning_if_valid(result: VerificationResult) -> None:
    _, _, _, kid, hcert = _issued()
    assert isinstance(result.reason, Reason)
    if result.valid:
        assert result.payload == hcert
        assert result.kid == kid
        assert result.issued_at == NOW
        assert result.expires_at == NOW + timedelta(days=365)


def test_genuine_certificate_is_valid():
    text, trust_list, *_ = _issued()
    assert hc1_verify(text=text, trust_list=trust_list, now=LATER).valid


def _mutate_sequence[T: (str, bytes)](data: T, operations: list[tuple[str, int, T]]) -> T:
    for kind, position, replacement in operations:
        index = position % (len(data) + 1)
        if kind == "replace" and index < len(data):
            data = data[:index] + replacement + data[index + 1 :]
        elif kind == "insert":
            data = data[:index] + replacement + data[index:]
        elif kind == "delete":
            data = data[:index] + data[index + 1 :]
        elif kind == "truncate":
            data = data[:index]
        elif kind == "swap" and index + 1 < len(data):
            data = (
                data[:index]
                + data[index + 1 : index + 2]
                + data[index : index + 1]
                + data[index + 2 :]
            )
    return data


_TEXT_OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["replace", "insert", "delete", "truncate", "swap"]),
        st.integers(min_value=0, max_value=5000),
        st.sampled_from(BASE45_AND_NEIGHBOURS),
    ),
    min_size=1,
    max_size=4,
)


@_fuzz(3000)
@given(operations=_TEXT_OPERATIONS)
def test_mutated_qr_text_never_raises_nor_changes_meaning(operations):
    text, trust_list, *_ = _issued()
    mutated = _mutate_sequence(text, operations)
    result = hc1_verify(text=mutated, trust_list=trust_list, now=LATER)
    _assert_same_meaning_if_valid(result)


_BYTE_OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["replace", "insert", "delete", "truncate", "swap"]),
        st.integers(min_value=0, max_value=2000),
        st.binary(min_size=1, max_size=1),
    ),
    min_size=1,
    max_size=4,
)


@_fuzz(2000)
@given(operations=_BYTE_OPERATIONS)
def test_mutated_cose_bytes_never_raise_nor_change_meaning(operations):
    text, trust_list, *_ = _issued()
    cose = hc1_decode(text)
    mutated = _mutate_sequence(cose, operations)
    result = hc1_verify(text=hc1_encode(mutated), trust_list=trust_list, now=LATER)
    _assert_same_meaning_if_valid(result)


@_fuzz(500)
@given(text=st.text(max_size=300))
def test_arbitrary_text_is_refused_without_raising(text):
    _, trust_list, *_ = _issued()
    assert not hc1_verify(text=text, trust_list=trust_list, now=LATER).valid
    assert not hc1_verify(text="HC1:" + text, trust_list=trust_list, now=LATER).valid


@_fuzz(500)
@given(data=st.binary(max_size=600))
def test_arbitrary_bytes_in_valid_transport_are_refused(data):
    _, trust_list, *_ = _issued()
    as_cose = hc1_verify(text=hc1_encode(data), trust_list=trust_list, now=LATER)
    assert not as_cose.valid
    as_compressed = "HC1:" + base45.b45encode(data).decode()
    assert not hc1_verify(text=as_compressed, trust_list=trust_list, now=LATER).valid


_CBOR_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.binary(max_size=20),
    st.sampled_from(["v", "t", "r", "nam", "dob", "ver", "1.3.0", "840539006"]),
    st.builds(cbor2.CBORTag, st.sampled_from([0, 1, 2, 18, 61, 258, 1000]), st.text(max_size=5)),
)
_CBOR_VALUES = st.recursive(
    _CBOR_LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.text(max_size=4), st.integers(-300, 300), st.sampled_from(["v", "nam"])),
            children,
            max_size=4,
        ),
    ),
    max_leaves=25,
)


def _signed(private_key: SigningKey, kid: bytes, claims_bytes: bytes) -> str:
    assert isinstance(private_key, ec.EllipticCurvePrivateKey)
    protected = cbor2.dumps({1: -7, 4: kid})
    to_be_signed = cbor2.dumps(["Signature1", protected, b"", claims_bytes])
    r, s = decode_dss_signature(private_key.sign(to_be_signed, ec.ECDSA(hashes.SHA256())))
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return hc1_encode(cbor2.dumps(cbor2.CBORTag(18, [protected, {}, claims_bytes, signature])))


@_fuzz(300)
@given(
    hcert=_CBOR_VALUES,
    issued_at=st.one_of(st.integers(), st.floats(), _CBOR_LEAVES),
    expires_at=st.one_of(st.integers(), st.floats(), _CBOR_LEAVES),
)
def test_validly_signed_arbitrary_claims_never_raise(hcert, issued_at, expires_at):
    _, trust_list, private_key, kid, _ = _issued()
    try:
        claims_bytes = cbor2.dumps({1: "VN", 4: expires_at, 6: issued_at, -260: {1: hcert}})
    except (ValueError, TypeError, OverflowError):
        return  # not encodable by cbor2 itself; nothing to verify
    result = hc1_verify(
        text=_signed(private_key, kid, claims_bytes), trust_list=trust_list, now=LATER
    )
    # A signature alone never makes garbage valid: the schema must accept the payload.
    assert not result.valid


def test_deeply_nested_and_self_referencing_cbor_are_refused():
    _, trust_list, private_key, kid, _ = _issued()
    nested = b"\x81" * 5000 + b"\x00"
    # Tag 28 marks a shareable value, tag 29 refers back to it: a map containing itself.
    cyclic = b"\xd8\x1c\xa1\x61\x76\xd8\x1d\x00"
    for hcert_bytes in (nested, cyclic):
        claims_bytes = (
            b"\xa4\x01\x62VN\x04\x1a\x70\x00\x00\x00\x06\x1a\x60\x00\x00\x00\x39\x01\x03\xa1\x01"
            + hcert_bytes
        )
        signed = _signed(private_key, kid, claims_bytes)
        assert not hc1_verify(text=signed, trust_list=trust_list, now=LATER).valid
        bare = hc1_encode(nested)
        assert hc1_verify(text=bare, trust_list=trust_list, now=LATER).reason is Reason.COSE_INVALID


def test_large_zlib_ratio_inside_limits_is_bounded():
    _, trust_list, *_ = _issued()
    text = "HC1:" + base45.b45encode(zlib.compress(b"\xa0" * 70_000, 9)).decode()
    assert hc1_verify(text=text, trust_list=trust_list, now=LATER).reason is Reason.INPUT_TOO_LARGE
