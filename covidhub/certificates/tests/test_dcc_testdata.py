"""The public EU DCC test data (dgc-testdata subset + the VN sample) against our verifier.

Every file is verified with its own TESTCTX.CERTIFICATE as the trust list at its
TESTCTX.VALIDATIONCLOCK, and every EXPECTED* flag it carries is asserted: a `false` flag
must show up as one of the reason codes of that step, a `true` flag must show none of
them (nor a failure of the decoding chain in front of it). The verifier reports every
failed check, not only the first, so files that are expected to fail one step (e.g. an
expired certificate) still prove the steps they pass.

Principled deviations, each asserted precisely rather than skipped:
- EXPECTEDPICTUREDECODE: reading a PNG is the scanner's job (camera or USB scanner in
  the browser/app); the verifier takes text and there is no QR image decoder in our stack.
- common/CO15: its DSC has an empty ExtendedKeyUsage, which RFC 5280 forbids; our
  `certificate_load` refuses such a certificate for a trust list (fail closed), so its
  KEYUSAGE=true cannot hold. "No usage OID means every kind" is tested with our own DSC.
- SG/4: recovery dates written as date-times ("2022-01-01T00:00:00.000Z"). JSON Schema
  `format` is an annotation in the DCC schemas, so the verifier reads them as their dates
  and notes it (issue 20); the payload it returns is the normalised one, and the issuing
  check (`hcert_schema_issues`) still refuses such dates in what we sign.
- Schema versions: the files declare payload versions 1.0.0-1.3.0; the 1.3.3 schema we
  ship accepts all their schema-valid payloads unchanged, so no version gating is needed
  (asserted by the SCHEMAVALIDATION=true cases themselves).
"""

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cbor2
import pytest

from covidhub.certificates.dcc import (
    KeyMaterialInvalid,
    Reason,
    TrustList,
    certificate_load,
    hc1_decode,
    hc1_verify,
    hcert_schema_issues,
    trust_list_build,
)
from covidhub.certificates.dcc.verify import NoteCode
from covidhub.certificates.tests.dcc_data import TESTDATA

DECODING_CHAIN = {
    Reason.INPUT_TOO_LARGE,
    Reason.BAD_PREFIX,
    Reason.BASE45_INVALID,
    Reason.ZLIB_INVALID,
    Reason.COSE_INVALID,
    Reason.CBOR_INVALID,
}
SIGNATURE = {
    Reason.COSE_INVALID,
    Reason.CBOR_INVALID,
    Reason.UNKNOWN_KID,
    Reason.UNSUPPORTED_ALGORITHM,
    Reason.SIGNATURE_INVALID,
}
# Which of our reason codes a failing step must produce.
FLAG_REASONS = {
    "EXPECTEDUNPREFIX": {Reason.BAD_PREFIX, Reason.INPUT_TOO_LARGE},
    "EXPECTEDB45DECODE": {Reason.BASE45_INVALID},
    "EXPECTEDCOMPRESSION": {Reason.ZLIB_INVALID},
    "EXPECTEDDECODE": {Reason.COSE_INVALID, Reason.CBOR_INVALID},
    "EXPECTEDVALIDJSON": DECODING_CHAIN,
    "EXPECTEDVERIFY": SIGNATURE,
    "EXPECTEDEXPIRATIONCHECK": {Reason.EXPIRED, Reason.NOT_YET_VALID},
    "EXPECTEDKEYUSAGE": {Reason.DSC_USAGE},
    "EXPECTEDSCHEMAVALIDATION": {Reason.SCHEMA_INVALID},
}
# The decoding steps in order: a step that passed proves nothing about later ones, so a
# `true` flag is blocked only by failures up to its own step. Every other step needs the
# whole chain decoded, and key usage also needs the verified signature.
DECODING_STEPS = [
    "EXPECTEDUNPREFIX",
    "EXPECTEDB45DECODE",
    "EXPECTEDCOMPRESSION",
    "EXPECTEDDECODE",
]
NEEDS_SIGNATURE = {"EXPECTEDKEYUSAGE"}


def _blocking_reasons(flag: str) -> set[Reason]:
    if flag in DECODING_STEPS:
        steps = DECODING_STEPS[: DECODING_STEPS.index(flag) + 1]
        return set().union(*(FLAG_REASONS[step] for step in steps))
    return DECODING_CHAIN | (SIGNATURE if flag in NEEDS_SIGNATURE else set())


# Flags about the JSON/CBOR fields of the file rather than the QR text.
CODE_GENERATION_FLAGS = {"EXPECTEDVALIDOBJECT", "EXPECTEDENCODE"}
NOT_APPLICABLE_FLAGS = {"EXPECTEDPICTUREDECODE"}
REFUSED_CERTIFICATES = {"common/2DCode/raw/CO15.json"}
FORMAT_ANNOTATION_ONLY = {"SG/2DCode/raw/4.json"}
# The VN sample has no public DSC and no clock; only its decoding flags are set.
CLOCK_WHEN_ABSENT = datetime(2022, 5, 1, tzinfo=UTC)


def _cases() -> list[Path]:
    return sorted(
        path
        for path in TESTDATA.rglob("*.json")
        if "EXPECTEDRESULTS" in json.loads(path.read_text(encoding="utf-8"))
    )


def _case_id(path: Path) -> str:
    return str(path.relative_to(TESTDATA))


def test_all_test_files_are_found():
    # 38 common cases, 21 country files (AT, CH, DE, SG, UA), the VN sample.
    assert len(_cases()) == 60


def _trust_list(case: dict[str, Any], name: str) -> TrustList:
    encoded = case["TESTCTX"].get("CERTIFICATE")
    if not encoded:
        return {}
    der = base64.b64decode(encoded)
    if name in REFUSED_CERTIFICATES:
        with pytest.raises(KeyMaterialInvalid) as caught:
            certificate_load(der)
        assert caught.value.code == "certificate_invalid"
        return {}
    return trust_list_build([certificate_load(der)])


def _hcert_from_cbor_field(hex_text: str) -> Any:
    """Some countries put the whole CWT claims map in the CBOR field, others the hcert."""
    decoded = cbor2.loads(bytes.fromhex(hex_text))
    if isinstance(decoded, dict) and -260 in decoded:
        return decoded[-260][1]
    return decoded


def _clock(case: dict[str, Any]) -> datetime:
    clock = case["TESTCTX"].get("VALIDATIONCLOCK")
    return datetime.fromisoformat(clock) if clock else CLOCK_WHEN_ABSENT


@pytest.mark.parametrize("path", _cases(), ids=_case_id)
def test_eu_test_data_expected_results(path):
    name = _case_id(path)
    case = json.loads(path.read_text(encoding="utf-8"))
    expected = case["EXPECTEDRESULTS"]
    unknown_flags = set(expected) - set(FLAG_REASONS) - CODE_GENERATION_FLAGS - NOT_APPLICABLE_FLAGS
    assert not unknown_flags, f"a flag this test does not judge: {unknown_flags}"

    trust_list = _trust_list(case, name)
    result = hc1_verify(text=case["PREFIX"], trust_list=trust_list, now=_clock(case))
    failures = set(result.failures)

    for flag, reasons in FLAG_REASONS.items():
        if flag not in expected:
            continue
        if name in REFUSED_CERTIFICATES and flag in NEEDS_SIGNATURE:
            # The refused DSC leaves the kid unknown, so key usage is never reached.
            assert result.reason is Reason.UNKNOWN_KID
            continue
        if expected[flag]:
            blocking = _blocking_reasons(flag)
            assert not failures & (reasons | blocking), (flag, result.failures, result.detail)
        else:
            assert failures & reasons, (flag, result.failures, result.detail)

    if name in FORMAT_ANNOTATION_ONLY:
        noted = {(note.code, note.field) for note in result.notes}
        assert noted == {(NoteCode.DATE_TIME_AS_DATE, f"r/0/{name}") for name in ("fr", "df", "du")}
        assert {issue.keyword for issue in hcert_schema_issues(case["JSON"])} == {"format"}
        assert result.payload is not None
        assert result.payload["r"][0]["df"] == case["JSON"]["r"][0]["df"][:10]
    elif expected.get("EXPECTEDVALIDJSON"):
        assert result.payload == case["JSON"]
    if expected.get("EXPECTEDDECODE") and "CBOR" in case and name not in FORMAT_ANNOTATION_ONLY:
        assert result.payload == _hcert_from_cbor_field(case["CBOR"])
    if expected.get("EXPECTEDCOMPRESSION") and "COSE" in case:
        assert hc1_decode(case["PREFIX"]) == bytes.fromhex(case["COSE"])
    if expected.get("EXPECTEDVERIFY"):
        assert result.signer_certificate is not None
    if "EXPECTEDVALIDOBJECT" in expected:
        assert (hcert_schema_issues(case["JSON"]) == []) is expected["EXPECTEDVALIDOBJECT"]
    if "EXPECTEDENCODE" in expected:
        # Maps have no canonical order; compare decoded values (upstream README note 2).
        encoded_here = cbor2.loads(cbor2.dumps(case["JSON"]))
        assert (encoded_here == _hcert_from_cbor_field(case["CBOR"])) is expected["EXPECTEDENCODE"]

    # Beyond the flags: no certificate in the public data uses a code outside the value
    # sets (deprecated codes such as the VN sample's J07BX03 are accepted when verifying).
    assert Reason.UNKNOWN_CODE not in failures, result.detail
    assert result.code_issues == ()


def test_fully_valid_country_certificates_are_accepted():
    """Files whose every flag is true and that carry a clock: the whole verdict is valid."""
    accepted = []
    for path in _cases():
        case = json.loads(path.read_text(encoding="utf-8"))
        expected = case["EXPECTEDRESULTS"]
        flags = set(expected) - NOT_APPLICABLE_FLAGS
        if not ({"EXPECTEDVERIFY", "EXPECTEDEXPIRATIONCHECK"} <= flags):
            continue
        if not all(expected[flag] for flag in flags):
            continue
        result = hc1_verify(
            text=case["PREFIX"], trust_list=_trust_list(case, _case_id(path)), now=_clock(case)
        )
        assert result.valid, (_case_id(path), result.failures, result.detail)
        accepted.append(_case_id(path))
    # CH 1-3, DE 1-4, UA 1-5 and common/CO28.
    assert len(accepted) == 13


def test_fast_schema_check_never_passes_what_the_full_check_refuses():
    """`hcert_schema_issues` trusts the Rust validator's "valid"; on every payload of the
    public data (and their format-broken variants) it must agree with `jsonschema`."""
    from covidhub.certificates.dcc.schema import _fast_validator, _validator

    payloads = []
    for path in _cases():
        case = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(case.get("JSON"), dict):
            payloads.append(case["JSON"])
    broken = json.loads(json.dumps(payloads[0]))
    kind = next(kind for kind in ("v", "t", "r") if kind in broken)
    broken[kind][0]["co"] = 7
    payloads.append(broken)
    for payload in payloads:
        full = not list(_validator().iter_errors(payload))
        assert _fast_validator().is_valid(payload) <= full
    assert not _fast_validator().is_valid(broken)
