"""Payload building and validation: schema, value sets, and the stricter issuing rules."""

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from covidhub.certificates.dcc import (
    TEST_RESULT_NOT_DETECTED,
    TEST_TYPE_NAAT,
    TEST_TYPE_RAT,
    Hcert,
    PayloadInvalid,
    hcert_build_recovery,
    hcert_build_test,
    hcert_build_vaccination,
    hcert_issuable_check,
    hcert_schema_check,
    hcert_schema_issues,
    uvci_validate,
    value_sets_load,
)
from covidhub.certificates.dcc.valuesets import vaccination_codes_consistency_check
from covidhub.certificates.tests.dcc_data import SCHEMA_REPOSITORY, TESTDATA

VN_SAMPLE = TESTDATA / "dcc-quality-assurance/VN/1.3.0/VAC_VN.derived.json"

COMIRNATY = {
    "prophylaxis": "1119349007",
    "medicinal_product": "EU/1/20/1528",
    "manufacturer": "ORG-100030215",
}


def _vaccination(**overrides: Any) -> Hcert:
    arguments: dict[str, Any] = {
        "family_name": "Nguyễn",
        "given_name": "Thị Bảo Ngọc",
        "date_of_birth": "1990-04-30",
        **COMIRNATY,
        "dose_number": 2,
        "total_doses": 2,
        "vaccination_date": date(2021, 9, 14),
        "issuer": "Sở Y tế tỉnh Hải Dương",
    }
    return hcert_build_vaccination(**(arguments | overrides))


def test_vaccination_payload_has_printed_and_icao_names():
    hcert = _vaccination(family_name="Nguyễn", given_name="Thị  Bảo Ngọc ")
    assert hcert["ver"] == "1.3.0"
    assert hcert["nam"] == {
        "fn": "Nguyễn",
        "fnt": "NGUYEN",
        "gn": "Thị Bảo Ngọc",
        "gnt": "THI<BAO<NGOC",
    }
    entry = hcert["v"][0]
    assert entry["co"] == "VN"
    assert entry["tg"] == "840539006"
    assert entry["dt"] == "2021-09-14"
    uvci_validate(entry["ci"])
    hcert_schema_check(hcert)


def test_given_uvci_is_kept_when_reissuing():
    first = _vaccination()
    again = _vaccination(uvci=first["v"][0]["ci"])
    assert again["v"][0]["ci"] == first["v"][0]["ci"]


def test_uvci_with_wrong_checksum_is_refused():
    with pytest.raises(PayloadInvalid) as caught:
        _vaccination(uvci="URN:UVCI:01:VN:ABCDEFGHIJ#A")
    assert caught.value.code == "uvci_invalid"


@pytest.mark.parametrize("date_of_birth", ["1950", "1950-07", "1950-07-31", "", date(2001, 2, 3)])
def test_partial_and_unknown_dates_of_birth_are_accepted(date_of_birth):
    hcert = _vaccination(date_of_birth=date_of_birth)
    expected = date_of_birth.isoformat() if isinstance(date_of_birth, date) else date_of_birth
    assert hcert["dob"] == expected


@pytest.mark.parametrize("date_of_birth", ["1899-12-31", "1950-02-30", "31/07/1950", "1950-7"])
def test_malformed_dates_of_birth_are_refused(date_of_birth):
    with pytest.raises(PayloadInvalid) as caught:
        _vaccination(date_of_birth=date_of_birth)
    assert caught.value.code == "dob_invalid"


def test_only_one_name_is_enough_but_one_is_required():
    assert _vaccination(given_name="")["nam"] == {"fn": "Nguyễn", "fnt": "NGUYEN"}
    with pytest.raises(PayloadInvalid) as caught:
        _vaccination(family_name=" ", given_name="")
    assert caught.value.code == "name_missing"


def test_name_without_icao_letters_is_refused():
    with pytest.raises(PayloadInvalid) as caught:
        _vaccination(family_name="阮", given_name="")
    assert caught.value.code == "name_invalid"


def test_unknown_vaccine_code_is_refused():
    with pytest.raises(PayloadInvalid) as caught:
        _vaccination(medicinal_product="EU/9/99/9999")
    assert caught.value.code == "unknown_code"
    assert caught.value.details["field"] == "v/0/mp"


def test_deprecated_code_is_refused_for_issuing():
    # Vero Cell was replaced by BBIBP-CorV in the value sets.
    with pytest.raises(PayloadInvalid) as caught:
        _vaccination(
            prophylaxis="1157024006",
            medicinal_product="Inactivated-SARS-CoV-2-Vero-Cell",
            manufacturer="ORG-100010771",
        )
    assert caught.value.code == "inactive_code"
    hcert = _vaccination(
        prophylaxis="1157024006", medicinal_product="BBIBP-CorV", manufacturer="ORG-100020693"
    )
    assert hcert["v"][0]["mp"] == "BBIBP-CorV"


def test_vaccine_product_and_manufacturer_must_agree():
    with pytest.raises(PayloadInvalid) as caught:
        _vaccination(medicinal_product="EU/1/21/1529")  # Vaxzevria with BioNTech as ma
    assert caught.value.code == "inconsistent_codes"


def test_public_vn_sample_would_not_be_issued():
    """The only public VN DCC pairs Vaxzevria with BioNTech and a deprecated vp code."""
    hcert = json.loads(VN_SAMPLE.read_text())["JSON"]
    hcert_schema_check(hcert)
    with pytest.raises(PayloadInvalid) as caught:
        hcert_issuable_check(hcert=hcert)
    assert caught.value.code == "inactive_code"
    with pytest.raises(PayloadInvalid) as caught:
        vaccination_codes_consistency_check(
            medicinal_product=hcert["v"][0]["mp"],
            manufacturer=hcert["v"][0]["ma"],
            prophylaxis="28531000087107",
            value_sets=value_sets_load(),
        )
    assert caught.value.code == "inconsistent_codes"


def _test_certificate(**overrides: Any) -> Hcert:
    arguments: dict[str, Any] = {
        "family_name": "Lê",
        "given_name": "Văn Hưng",
        "date_of_birth": "1975",
        "test_type": TEST_TYPE_NAAT,
        "sample_collected_at": datetime(2021, 8, 2, 7, 30, tzinfo=timezone(timedelta(hours=7))),
        "result": TEST_RESULT_NOT_DETECTED,
        "issuer": "Sở Y tế tỉnh Hải Dương",
        "naa_test_name": "Roche cobas SARS-CoV-2",
        "testing_centre": "CDC Hải Dương",
    }
    return hcert_build_test(**(arguments | overrides))


def test_test_payload_stores_sample_time_in_utc():
    entry = _test_certificate()["t"][0]
    assert entry["sc"] == "2021-08-02T00:30:00Z"
    assert entry["tt"] == TEST_TYPE_NAAT
    assert entry["nm"] == "Roche cobas SARS-CoV-2"
    assert "ma" not in entry


def test_rapid_test_needs_a_known_device():
    rat = _test_certificate(test_type=TEST_TYPE_RAT, naa_test_name=None, rat_device="1232")
    assert rat["t"][0]["ma"] == "1232"
    with pytest.raises(PayloadInvalid) as caught:
        _test_certificate(test_type=TEST_TYPE_RAT, naa_test_name=None)
    assert caught.value.code == "rat_device_required"
    with pytest.raises(PayloadInvalid) as caught:
        _test_certificate(test_type=TEST_TYPE_RAT, rat_device="99999")
    assert caught.value.code == "unknown_code"
    with pytest.raises(PayloadInvalid) as caught:
        _test_certificate(rat_device="1232")
    assert caught.value.code == "rat_device_unexpected"


def test_test_result_and_type_must_be_coded():
    with pytest.raises(PayloadInvalid) as caught:
        _test_certificate(result="negative")
    assert caught.value.code == "unknown_code"


def test_naive_sample_time_is_refused():
    with pytest.raises(PayloadInvalid) as caught:
        _test_certificate(sample_collected_at=datetime(2021, 8, 2, 7, 30))  # noqa: DTZ001
    assert caught.value.code == "naive_datetime"


def test_recovery_payload_and_date_order():
    hcert = hcert_build_recovery(
        family_name="Phạm",
        given_name="Thu",
        date_of_birth="2001-02-03",
        first_positive_on=date(2021, 7, 1),
        valid_from=date(2021, 7, 12),
        valid_until=date(2021, 12, 28),
        issuer="Sở Y tế tỉnh Hải Dương",
    )
    assert hcert["r"][0]["fr"] == "2021-07-01"
    with pytest.raises(PayloadInvalid) as caught:
        hcert_build_recovery(
            family_name="Phạm",
            given_name="Thu",
            date_of_birth="2001-02-03",
            first_positive_on=date(2021, 7, 1),
            valid_from=date(2021, 12, 28),
            valid_until=date(2021, 7, 12),
            issuer="Sở Y tế tỉnh Hải Dương",
        )
    assert caught.value.code == "dates_out_of_order"


def test_issuer_longer_than_schema_allows_is_schema_invalid():
    with pytest.raises(PayloadInvalid) as caught:
        _vaccination(issuer="Sở Y tế " * 20)
    assert caught.value.code == "schema_invalid"
    assert "v/0/is" in caught.value.message


def test_two_entries_in_one_certificate_break_the_schema():
    hcert = _vaccination()
    hcert["r"] = [
        {
            "tg": "840539006",
            "fr": "2021-07-01",
            "co": "VN",
            "is": "x",
            "df": "2021-07-12",
            "du": "2021-12-28",
            "ci": "URN:UVCI:01:VN:A#A",
        }
    ]
    assert hcert_schema_issues(hcert)


@pytest.mark.parametrize(
    ("field", "value"),
    [("dt", "2021-09-14T00:00:00Z"), ("dt", "14.09.2021"), ("dt", "2021-02-30")],
)
def test_dates_are_format_checked(field, value):
    hcert = _vaccination()
    hcert["v"][0][field] = value
    issues = hcert_schema_issues(hcert)
    assert [issue.keyword for issue in issues] == ["format"]


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("2021-08-02T00:30:00Z", True),
        ("2021-08-02T07:30:00.123+07:00", True),
        ("2021-08-02T07:30:00+0700", True),
        ("2021-08-02T07:30:00+07", True),
        ("2021-08-02T00:30:00", False),
        ("2021-08-02T07:30:00+7", False),
        ("2021-08-02 00:30:00Z", False),
        ("2021-08-32T00:30:00Z", False),
    ],
)
def test_sample_time_is_iso8601_checked(value, valid):
    hcert = _test_certificate()
    hcert["t"][0]["sc"] = value
    assert (hcert_schema_issues(hcert) == []) is valid


def _schema_repository_cases(folder: str) -> list[Path]:
    return sorted((SCHEMA_REPOSITORY / folder).rglob("*.json"))


def _relative_to_schema_repository(path: Path) -> str:
    return str(path.relative_to(SCHEMA_REPOSITORY))


@pytest.mark.parametrize(
    "path",
    _schema_repository_cases("examples") + _schema_repository_cases("test/valid"),
    ids=_relative_to_schema_repository,
)
def test_schema_repository_valid_examples_pass(path):
    assert hcert_schema_issues(json.loads(path.read_text())) == []


@pytest.mark.parametrize(
    "path",
    _schema_repository_cases("test/invalid"),
    ids=_relative_to_schema_repository,
)
def test_schema_repository_invalid_examples_fail(path):
    assert hcert_schema_issues(json.loads(path.read_text())) != []


def test_schema_repository_cases_were_found():
    assert len(_schema_repository_cases("examples")) >= 20
    assert len(_schema_repository_cases("test/invalid")) >= 5
