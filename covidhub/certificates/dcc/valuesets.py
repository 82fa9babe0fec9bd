"""The eHN DCC value sets, and the checks of a payload's coded fields against them.

The JSON schema only says that `tg`, `vp`, `mp`, `ma`, `tt`, `tr` and `co` are strings;
which strings are allowed lives in the value sets. The copies in `data/valuesets` are the
final public release (2.12.0, 2023-07-12); `value_sets_load(directory=...)` reads newer
copies, e.g. a full RAT device list (`test-manf.json`) downloaded from a gateway.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Final

from .errors import DccError, PayloadInvalid

TEST_TYPE_RAT: Final = "LP217198-3"

DATA_DIRECTORY = Path(__file__).resolve().parent / "data"
VALUE_SET_DIRECTORY = DATA_DIRECTORY / "valuesets"

# Which value set each coded field of an entry is checked against.
_FIELD_VALUE_SETS: Mapping[str, Mapping[str, str]] = {
    "v": {
        "tg": "disease-agent-targeted",
        "vp": "vaccine-prophylaxis",
        "mp": "vaccine-medicinal-product",
        "ma": "vaccine-mah-manf",
        "co": "country-2-codes",
    },
    "t": {
        "tg": "disease-agent-targeted",
        "tt": "test-type",
        "ma": "test-manf",
        "tr": "test-result",
        "co": "country-2-codes",
    },
    "r": {"tg": "disease-agent-targeted", "co": "country-2-codes"},
}
# The valueSetId inside each file, by the file name we use for it. A release must hold
# all of them; other value sets in a release are kept (rules may read them).
VALUE_SET_IDS: Final[Mapping[str, str]] = {
    "country-2-codes": "country-2-codes",
    "disease-agent-targeted": "disease-agent-targeted",
    "test-manf": "covid-19-lab-test-manufacturer-and-name",
    "test-result": "covid-19-lab-result",
    "test-type": "covid-19-lab-test-type",
    "vaccine-mah-manf": "vaccines-covid-19-auth-holders",
    "vaccine-medicinal-product": "vaccines-covid-19-names",
    "vaccine-prophylaxis": "sct-vaccines-covid-19",
}
VACCINE_ENCODING_ID: Final = "vaccines-covid-19-encoding-instructions"
PACKAGED_VERSION: Final = "packaged-2.12.0"
MAX_VALUE_SET_CODES: Final = 20_000
"""Far above the longest real list (the RAT device list had about 1,000 devices)."""


class CodeList(list[str]):
    """A value set's codes as CertLogic sees them (a JSON array), with membership answered
    from a set: rules ask "is this device in the list" on every scan, and the antigen-test
    device list holds a thousand codes. Built once per release, never changed."""

    __slots__ = ("_members",)

    def __init__(self, codes: Iterable[str]) -> None:
        super().__init__(codes)
        self._members = frozenset(self)

    def __contains__(self, value: object) -> bool:
        try:
            return value in self._members
        except TypeError:  # an unhashable operand is in no list of codes
            return False


class ValueSetInvalid(DccError):
    """A value-set file is not in the EU value-set format. Code: `value_set_invalid`."""


@dataclass(frozen=True, slots=True)
class ValueSetEntry:
    display: str
    active: bool


@dataclass(frozen=True, slots=True)
class ValueSet:
    value_set_id: str
    value_set_date: str
    entries: Mapping[str, ValueSetEntry]


@dataclass(frozen=True, slots=True)
class VaccineEncoding:
    """Annex A of the value-set guidelines: which `ma` and `vp` go with a product `mp`."""

    medicinal_product: str
    manufacturer: str
    prophylaxis_codes: frozenset[str]


@dataclass(frozen=True, slots=True)
class ValueSets:
    """One release of the value sets; `version` names it on every verification."""

    by_name: Mapping[str, ValueSet]
    vaccine_encodings: Mapping[str, VaccineEncoding]
    version: str = PACKAGED_VERSION
    codes_by_id: Mapping[str, CodeList] = field(default_factory=dict)
    """Every value set's codes by valueSetId: CertLogic's `external.valueSets`."""
    dates_by_id: Mapping[str, str] = field(default_factory=dict)

    def entry(self, *, value_set: str, code: str) -> ValueSetEntry | None:
        return self.by_name[value_set].entries.get(code)


def _text(value: object, *, what: str) -> str:
    if not isinstance(value, str):
        raise ValueSetInvalid(f"{what} must be a text.", code="value_set_invalid")
    return value


def value_set_document_check(document: object) -> str:
    """The valueSetId of an EU value-set file, or `ValueSetInvalid` (format of
    DCC.ValueSets.valueset-file.schema.json, bounded; Annex A has its own shape)."""
    if not isinstance(document, dict):
        raise ValueSetInvalid("A value-set file is a JSON object.", code="value_set_invalid")
    value_set_id = _text(document.get("valueSetId"), what="valueSetId")
    date_text = _text(document.get("valueSetDate"), what="valueSetDate")
    try:
        date.fromisoformat(date_text)
    except ValueError as error:
        raise ValueSetInvalid(
            "valueSetDate must be a date (YYYY-MM-DD).", code="value_set_invalid"
        ) from error
    values = document.get("valueSetValues")
    if not isinstance(values, dict) or not 0 < len(values) <= MAX_VALUE_SET_CODES:
        raise ValueSetInvalid(
            "valueSetValues must be a non-empty object.", code="value_set_invalid"
        )
    for code, value in values.items():
        if not isinstance(value, dict):
            raise ValueSetInvalid(f"{code}: not an object.", code="value_set_invalid")
        if value_set_id == VACCINE_ENCODING_ID:
            if not isinstance(value.get("vaccine-code"), str) or not isinstance(
                value.get("sct-codes"), list
            ):
                raise ValueSetInvalid(f"{code}: not an encoding.", code="value_set_invalid")
            continue
        if not isinstance(value.get("display"), str) or not isinstance(value.get("active"), bool):
            raise ValueSetInvalid(
                f"{code}: display and active are required.", code="value_set_invalid"
            )
    return value_set_id


JRC_DEVICE_SYSTEM: Final = "https://covid-19-diagnostics.jrc.ec.europa.eu/devices"
TEST_MANF_ID: Final = "covid-19-lab-test-manufacturer-and-name"


def _jrc_day(value: object, *, what: str) -> date:
    """The day of a JRC time ("2021-05-10 13:04:00 CET"): the list changes by day."""
    try:
        return date.fromisoformat(_text(value, what=what)[:10])
    except ValueError as error:
        raise ValueSetInvalid(f"{what} is not a date.", code="value_set_invalid") from error


def value_set_from_jrc_devices(document: object, *, today: date) -> dict[str, Any]:
    """The EU antigen-test device value set from the JRC database's HSC common list
    (`{"extracted_on", "deviceList": [{"id_device", "commercial_name", "manufacturer":
    {"name"}, "hsc_list_history": [{"list_date", "in_common_list"}]}]}`), as the EU
    gateway derives it: every device with a list history, named "manufacturer, product",
    active as its latest history entry up to `today` says (a device whose only entries
    lie ahead is not active yet), `validUntil` the date of an entry still ahead. Devices
    without a history never were on the list and are left out. `ValueSetInvalid` if the
    document is not in that format.
    """
    if not isinstance(document, dict) or not isinstance(document.get("deviceList"), list):
        raise ValueSetInvalid("A JRC device list has a deviceList.", code="value_set_invalid")
    devices = document["deviceList"]
    if not 0 < len(devices) <= MAX_VALUE_SET_CODES:
        raise ValueSetInvalid("The deviceList is empty or too long.", code="value_set_invalid")
    values: dict[str, Any] = {}
    for device in devices:
        if not isinstance(device, dict):
            raise ValueSetInvalid("A device is not an object.", code="value_set_invalid")
        code = _text(device.get("id_device"), what="id_device")
        manufacturer = device.get("manufacturer")
        name = _text(
            manufacturer.get("name") if isinstance(manufacturer, dict) else None,
            what=f"{code}: manufacturer.name",
        )
        product = _text(device.get("commercial_name"), what=f"{code}: commercial_name")
        history = device.get("hsc_list_history") or []
        if not isinstance(history, list):
            raise ValueSetInvalid(f"{code}: a bad hsc_list_history.", code="value_set_invalid")
        entries = []
        for entry in history:
            if not isinstance(entry, dict) or not isinstance(entry.get("in_common_list"), bool):
                raise ValueSetInvalid(f"{code}: a bad history entry.", code="value_set_invalid")
            day = _jrc_day(entry.get("list_date"), what=f"{code}: list_date")
            entries.append((day, entry["in_common_list"]))
        if not entries:
            continue
        entries.sort(key=lambda item: item[0])
        past = [item for item in entries if item[0] <= today]
        value: dict[str, Any] = {
            "display": f"{name}, {product}",
            "lang": "en",
            "active": past[-1][1] if past else False,
            "system": JRC_DEVICE_SYSTEM,
            "version": (past[-1][0] if past else entries[0][0]).isoformat(),
        }
        if entries[-1][0] > today:
            value["validUntil"] = entries[-1][0].isoformat()
        values[code] = value
    if not values:
        raise ValueSetInvalid("No device has a list history.", code="value_set_invalid")
    extracted = document.get("extracted_on")
    return {
        "valueSetId": TEST_MANF_ID,
        "valueSetDate": _jrc_day(extracted, what="extracted_on").isoformat()
        if extracted is not None
        else today.isoformat(),
        "valueSetValues": values,
    }


def is_jrc_device_list(document: object) -> bool:
    return isinstance(document, dict) and "deviceList" in document and "valueSetId" not in document


def _value_set_from(document: Mapping[str, Any]) -> ValueSet:
    return ValueSet(
        value_set_id=document["valueSetId"],
        value_set_date=document["valueSetDate"],
        entries={
            code: ValueSetEntry(display=value["display"], active=bool(value["active"]))
            for code, value in document["valueSetValues"].items()
        },
    )


def _vaccine_encodings_from(document: Mapping[str, Any]) -> dict[str, VaccineEncoding]:
    encodings: dict[str, VaccineEncoding] = {}
    for value in document["valueSetValues"].values():
        encoding = VaccineEncoding(
            # Deprecated products carry the marker in the code field: "VLA2001 (deprecated)".
            medicinal_product=value["vaccine-code"].removesuffix(" (deprecated)"),
            manufacturer=value["vaccine-manufacturer"],
            prophylaxis_codes=frozenset(value["sct-codes"]),
        )
        encodings[encoding.medicinal_product] = encoding
    return encodings


def value_sets_from_documents(
    documents: Mapping[str, Mapping[str, Any]], *, version: str
) -> ValueSets:
    """A release from EU value-set documents keyed by valueSetId (each already checked
    with `value_set_document_check`); `ValueSetInvalid` if a required one is missing."""
    missing = sorted(set(VALUE_SET_IDS.values()) - set(documents))
    if missing:
        raise ValueSetInvalid(
            f"The release lacks the value sets {', '.join(missing)}.",
            code="value_set_invalid",
            details={"missing": missing},
        )
    by_name = {name: _value_set_from(documents[vs_id]) for name, vs_id in VALUE_SET_IDS.items()}
    encoding = documents.get(VACCINE_ENCODING_ID)
    return ValueSets(
        by_name=by_name,
        vaccine_encodings=_vaccine_encodings_from(encoding) if encoding else {},
        version=version,
        codes_by_id={
            vs_id: CodeList(document["valueSetValues"])
            for vs_id, document in documents.items()
            if vs_id != VACCINE_ENCODING_ID
        },
        dates_by_id={vs_id: document["valueSetDate"] for vs_id, document in documents.items()},
    )


def value_set_documents_read(directory: Path) -> dict[str, dict[str, Any]]:
    """Every EU value-set file in `directory` keyed by valueSetId (files that are not
    value sets, e.g. the file schema, are skipped; a real `test-manf.json` wins over the
    example list)."""
    documents: dict[str, dict[str, Any]] = {}
    # Sorted, "test-manf-example.json" comes before "test-manf.json", which replaces it.
    for path in sorted(directory.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(document, dict) or "valueSetId" not in document:
            continue
        value_set_id = value_set_document_check(document)
        if path.name == "test-manf-example.json" and value_set_id in documents:
            continue
        documents[value_set_id] = document
    return documents


def value_sets_load(*, directory: Path | None = None) -> ValueSets:
    """Read the value sets from `directory`, or the packaged copies when it is None."""
    if directory is None:
        return _packaged_value_sets()
    return value_sets_from_documents(
        value_set_documents_read(directory), version=f"directory:{directory.name}"
    )


@cache
def packaged_value_set_documents() -> dict[str, dict[str, Any]]:
    return value_set_documents_read(VALUE_SET_DIRECTORY)


@cache
def _packaged_value_sets() -> ValueSets:
    return value_sets_from_documents(packaged_value_set_documents(), version=PACKAGED_VERSION)


def hcert_entry_kind(hcert: Mapping[str, Any]) -> str | None:
    """'v', 't' or 'r' when exactly one of the three groups is present, else None."""
    found = None
    for kind in ("v", "t", "r"):
        if kind in hcert:
            if found is not None:
                return None
            found = kind
    return found


@dataclass(frozen=True, slots=True)
class CodeIssue:
    """A coded field whose code is outside its value set, or deprecated there."""

    field: str
    code: str
    value_set: str
    known: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "code": self.code,
            "value_set": self.value_set,
            "known": self.known,
        }


def hcert_code_issues(*, hcert: Mapping[str, Any], value_sets: ValueSets) -> list[CodeIssue]:
    """Every coded field of `hcert` that is unknown or deprecated in `value_sets`.

    Call this on a payload that passed the schema; it trusts the schema for the shape.
    """
    issues: list[CodeIssue] = []
    by_name = value_sets.by_name
    for kind, fields in _FIELD_VALUE_SETS.items():
        entries = hcert.get(kind)
        if not entries:
            continue
        for index, entry in enumerate(entries):
            for field_name, value_set in fields.items():
                code = entry.get(field_name)
                if code is None:
                    continue
                if kind == "t" and field_name == "ma" and entry.get("tt") != TEST_TYPE_RAT:
                    # `ma` names a rapid-test device; on a NAA test it has no meaning and
                    # some issuers leave it empty (the Swiss PCR sample has "ma": "").
                    continue
                found = by_name[value_set].entries.get(code)
                if found is None or not found.active:
                    issues.append(
                        CodeIssue(
                            field=f"{kind}/{index}/{field_name}",
                            code=code,
                            value_set=value_set,
                            known=found is not None,
                        )
                    )
    return issues


def hcert_codes_check(
    *, hcert: Mapping[str, Any], value_sets: ValueSets, allow_inactive: bool
) -> None:
    """Raise `PayloadInvalid` if a coded field holds a code outside its value set.

    Issuing passes `allow_inactive=False`: a deprecated code (e.g. Vero Cell, replaced by
    BBIBP-CorV) must not appear on a new certificate. A verifier does not call this: an
    unknown code there is a rule outcome, not a refusal (`hcert_code_issues`).
    """
    for issue in hcert_code_issues(hcert=hcert, value_sets=value_sets):
        details = {"field": issue.field, "code": issue.code, "value_set": issue.value_set}
        if not issue.known:
            raise PayloadInvalid(
                f"{issue.field}: {issue.code!r} is not in the value set {issue.value_set}.",
                code="unknown_code",
                details=details,
            )
        if not allow_inactive:
            raise PayloadInvalid(
                f"{issue.field}: {issue.code!r} is deprecated in the value set {issue.value_set}.",
                code="inactive_code",
                details=details,
            )


def vaccination_codes_consistency_check(
    *, medicinal_product: str, manufacturer: str, prophylaxis: str, value_sets: ValueSets
) -> None:
    """Raise `PayloadInvalid` if mp, ma and vp contradict Annex A of the guidelines.

    A certificate that names Vaxzevria with BioNTech as manufacturer decodes everywhere
    but is rejected by business rules abroad; we refuse to issue one. Products that Annex
    A does not list are not checked here (membership is checked separately).
    """
    encoding = value_sets.vaccine_encodings.get(medicinal_product)
    if encoding is None:
        return
    if manufacturer != encoding.manufacturer or prophylaxis not in encoding.prophylaxis_codes:
        raise PayloadInvalid(
            f"{medicinal_product} is encoded with ma {encoding.manufacturer} and vp in "
            f"{sorted(encoding.prophylaxis_codes)}, not ma {manufacturer} / vp {prophylaxis}.",
            code="inconsistent_codes",
            details={"mp": medicinal_product, "ma": manufacturer, "vp": prophylaxis},
        )
