"""Building the health certificate payload (the `hcert` JSON) for v, t and r entries.

Each builder returns a plain dict ready for CBOR, validated against the schema and the
value sets with the stricter issuing rules (no deprecated codes, consistent vaccine
codes, a UVCI with checksum), so that nothing we sign can be refused abroad for its
content.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, Final

from .errors import PayloadInvalid, UvciInvalid
from .names import ICAO_NAME_MAX_LENGTH, name_normalize, name_transliterate_icao
from .schema import PAYLOAD_VERSION, hcert_schema_check
from .uvci import uvci_generate, uvci_validate
from .valuesets import (
    TEST_TYPE_RAT,
    ValueSets,
    hcert_codes_check,
    hcert_entry_kind,
    vaccination_codes_consistency_check,
    value_sets_load,
)

type Hcert = dict[str, Any]

DISEASE_COVID_19: Final = "840539006"
TEST_TYPE_NAAT: Final = "LP6464-4"
TEST_RESULT_NOT_DETECTED: Final = "260415000"
TEST_RESULT_DETECTED: Final = "260373001"
COUNTRY_VIET_NAM: Final = "VN"

_DOB_PATTERN = re.compile(r"^(?:19|20)\d\d(?:-\d\d(?:-\d\d)?)?$")


def _person_name(*, family_name: str, given_name: str) -> dict[str, str]:
    family = name_normalize(family_name)
    given = name_normalize(given_name)
    name: dict[str, str] = {}
    for field, printed in (("fn", family), ("gn", given)):
        if not printed:
            continue
        if len(printed) > ICAO_NAME_MAX_LENGTH:
            raise PayloadInvalid(
                f"The name is longer than {ICAO_NAME_MAX_LENGTH} characters.",
                code="name_invalid",
                details={"field": field},
            )
        standardised = name_transliterate_icao(printed)
        if not standardised:
            raise PayloadInvalid(
                "The name has no letter that ICAO 9303 can represent.",
                code="name_invalid",
                details={"field": field},
            )
        name[field] = printed
        name[f"{field}t"] = standardised
    if not name:
        raise PayloadInvalid("A family name or a given name is required.", code="name_missing")
    return name


def _date_of_birth(value: date | str) -> str:
    """`date` or a partial ISO date (YYYY, YYYY-MM) for people who know only the year."""
    if isinstance(value, datetime):
        raise PayloadInvalid("The date of birth must be a date, not a time.", code="dob_invalid")
    if isinstance(value, date):
        text = value.isoformat()
    else:
        text = value.strip()
        if text and not _DOB_PATTERN.fullmatch(text):
            raise PayloadInvalid(
                "The date of birth must be YYYY, YYYY-MM or YYYY-MM-DD.", code="dob_invalid"
            )
        if len(text) == 10:
            try:
                date.fromisoformat(text)
            except ValueError as error:
                raise PayloadInvalid(
                    "The date of birth is not a calendar date.", code="dob_invalid"
                ) from error
    if text and not 1900 <= int(text[:4]) <= 2099:
        raise PayloadInvalid("The date of birth must be in 1900-2099.", code="dob_invalid")
    return text


def _uvci(uvci: str | None, *, country: str) -> str:
    if uvci is None:
        return uvci_generate(country=country)
    try:
        uvci_validate(uvci, require_checksum=True)
    except UvciInvalid as error:
        raise PayloadInvalid(error.message, code="uvci_invalid") from error
    return uvci


def _utc_timestamp(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise PayloadInvalid("The sample time must be timezone-aware.", code="naive_datetime")
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _hcert(
    *,
    family_name: str,
    given_name: str,
    date_of_birth: date | str,
    kind: str,
    entry: dict[str, Any],
    value_sets: ValueSets | None,
) -> Hcert:
    hcert: Hcert = {
        "ver": PAYLOAD_VERSION,
        "nam": _person_name(family_name=family_name, given_name=given_name),
        "dob": _date_of_birth(date_of_birth),
        kind: [entry],
    }
    hcert_issuable_check(hcert=hcert, value_sets=value_sets)
    return hcert


def _timestamps_as_text(hcert: Mapping[str, Any]) -> Mapping[str, Any]:
    """`hcert` with each test's `datetime` sample time as the text it is signed as."""
    tests = hcert.get("t")
    if not isinstance(tests, list) or not any(
        isinstance(entry, dict) and isinstance(entry.get("sc"), datetime) for entry in tests
    ):
        return hcert
    entries = []
    for entry in tests:
        if isinstance(entry, dict) and isinstance(entry.get("sc"), datetime):
            entry = {**entry, "sc": _utc_timestamp(entry["sc"])}
        entries.append(entry)
    return {**hcert, "t": entries}


def hcert_issuable_check(*, hcert: Mapping[str, Any], value_sets: ValueSets | None = None) -> None:
    """Raise `PayloadInvalid` unless we may sign `hcert`: schema, active codes, consistency.

    Also the entry point for a payload built elsewhere (e.g. re-issuing a stored one). A
    timezone-aware `datetime` as the sample time is accepted: it is signed as a CBOR
    tag-0 timestamp, which the schema README allows and every validator must read.
    """
    hcert_schema_check(_timestamps_as_text(hcert))
    sets = value_sets if value_sets is not None else value_sets_load()
    hcert_codes_check(hcert=hcert, value_sets=sets, allow_inactive=False)
    kind = hcert_entry_kind(hcert)
    entry = hcert[kind][0] if kind is not None else {}
    if kind == "v":
        vaccination_codes_consistency_check(
            medicinal_product=entry["mp"],
            manufacturer=entry["ma"],
            prophylaxis=entry["vp"],
            value_sets=sets,
        )
    if kind == "t" and entry["tt"] == TEST_TYPE_RAT and "ma" not in entry:
        raise PayloadInvalid(
            "A rapid antigen test needs its device code.", code="rat_device_required"
        )
    if kind == "t" and entry["tt"] != TEST_TYPE_RAT and "ma" in entry:
        raise PayloadInvalid(
            "Only a rapid antigen test names a device (ma).", code="rat_device_unexpected"
        )
    if kind == "r" and not entry["fr"] <= entry["df"] <= entry["du"]:
        raise PayloadInvalid(
            "Recovery dates must satisfy first positive ≤ valid from ≤ valid until.",
            code="dates_out_of_order",
        )


def hcert_build_vaccination(
    *,
    family_name: str,
    given_name: str,
    date_of_birth: date | str,
    prophylaxis: str,
    medicinal_product: str,
    manufacturer: str,
    dose_number: int,
    total_doses: int,
    vaccination_date: date,
    issuer: str,
    country: str = COUNTRY_VIET_NAM,
    uvci: str | None = None,
    value_sets: ValueSets | None = None,
) -> Hcert:
    """A vaccination certificate payload (one dose: the DCC carries only the latest).

    `uvci=None` draws a new random UVCI; pass the stored one when re-issuing.
    """
    entry = {
        "tg": DISEASE_COVID_19,
        "vp": prophylaxis,
        "mp": medicinal_product,
        "ma": manufacturer,
        "dn": dose_number,
        "sd": total_doses,
        "dt": vaccination_date.isoformat(),
        "co": country,
        "is": issuer,
        "ci": _uvci(uvci, country=COUNTRY_VIET_NAM),
    }
    return _hcert(
        family_name=family_name,
        given_name=given_name,
        date_of_birth=date_of_birth,
        kind="v",
        entry=entry,
        value_sets=value_sets,
    )


def hcert_build_test(
    *,
    family_name: str,
    given_name: str,
    date_of_birth: date | str,
    test_type: str,
    sample_collected_at: datetime,
    result: str,
    issuer: str,
    naa_test_name: str | None = None,
    rat_device: str | None = None,
    testing_centre: str | None = None,
    country: str = COUNTRY_VIET_NAM,
    uvci: str | None = None,
    value_sets: ValueSets | None = None,
) -> Hcert:
    """A test certificate payload; `sample_collected_at` must be timezone-aware."""
    entry: dict[str, Any] = {
        "tg": DISEASE_COVID_19,
        "tt": test_type,
        "sc": _utc_timestamp(sample_collected_at),
        "tr": result,
        "co": country,
        "is": issuer,
        "ci": _uvci(uvci, country=COUNTRY_VIET_NAM),
    }
    if naa_test_name:
        entry["nm"] = naa_test_name
    if rat_device:
        entry["ma"] = rat_device
    if testing_centre:
        entry["tc"] = testing_centre
    return _hcert(
        family_name=family_name,
        given_name=given_name,
        date_of_birth=date_of_birth,
        kind="t",
        entry=entry,
        value_sets=value_sets,
    )


def hcert_build_recovery(
    *,
    family_name: str,
    given_name: str,
    date_of_birth: date | str,
    first_positive_on: date,
    valid_from: date,
    valid_until: date,
    issuer: str,
    country: str = COUNTRY_VIET_NAM,
    uvci: str | None = None,
    value_sets: ValueSets | None = None,
) -> Hcert:
    """A recovery certificate payload; dates must be in order fr ≤ df ≤ du."""
    entry = {
        "tg": DISEASE_COVID_19,
        "fr": first_positive_on.isoformat(),
        "co": country,
        "is": issuer,
        "df": valid_from.isoformat(),
        "du": valid_until.isoformat(),
        "ci": _uvci(uvci, country=COUNTRY_VIET_NAM),
    }
    return _hcert(
        family_name=family_name,
        given_name=given_name,
        date_of_birth=date_of_birth,
        kind="r",
        entry=entry,
        value_sets=value_sets,
    )
