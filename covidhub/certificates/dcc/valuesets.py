"""The eHN DCC value sets, and the checks of a payload's coded fields against them.

The JSON schema only says that `tg`, `vp`, `mp`, `ma`, `tt`, `tr` and `co` are strings;
which strings are allowed lives in the value sets. The copies in `data/valuesets` are the
final public release (2.12.0, 2023-07-12); `value_sets_load(directory=...)` reads newer
copies, e.g. a full RAT device list (`test-manf.json`) downloaded from a gateway.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final

from .errors import PayloadInvalid

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
# The public repository only has an example RAT device list (JRC, 2021-07-01); the live
# one came from the EU gateway. A directory with a real `test-manf.json` takes precedence.
_FILE_CANDIDATES = {"test-manf": ("test-manf.json", "test-manf-example.json")}


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
    by_name: Mapping[str, ValueSet]
    vaccine_encodings: Mapping[str, VaccineEncoding]

    def entry(self, *, value_set: str, code: str) -> ValueSetEntry | None:
        return self.by_name[value_set].entries.get(code)


def _value_set_read(path: Path) -> ValueSet:
    document = json.loads(path.read_text(encoding="utf-8"))
    return ValueSet(
        value_set_id=document["valueSetId"],
        value_set_date=document["valueSetDate"],
        entries={
            code: ValueSetEntry(display=value["display"], active=bool(value["active"]))
            for code, value in document["valueSetValues"].items()
        },
    )


def _vaccine_encodings_read(path: Path) -> dict[str, VaccineEncoding]:
    document = json.loads(path.read_text(encoding="utf-8"))
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


def value_sets_load(*, directory: Path | None = None) -> ValueSets:
    """Read the value sets from `directory`, or the packaged copies when it is None."""
    if directory is None:
        return _packaged_value_sets()
    return _value_sets_read(directory)


def _value_sets_read(directory: Path) -> ValueSets:
    names = {name for fields in _FIELD_VALUE_SETS.values() for name in fields.values()}
    by_name: dict[str, ValueSet] = {}
    for name in sorted(names):
        candidates = _FILE_CANDIDATES.get(name, (f"{name}.json",))
        path = next(directory / file for file in candidates if (directory / file).exists())
        by_name[name] = _value_set_read(path)
    encodings = _vaccine_encodings_read(directory / "vaccine-encoding-instructions.json")
    return ValueSets(by_name=by_name, vaccine_encodings=encodings)


@cache
def _packaged_value_sets() -> ValueSets:
    return _value_sets_read(VALUE_SET_DIRECTORY)


def hcert_entry_kind(hcert: Mapping[str, Any]) -> str | None:
    """'v', 't' or 'r' when exactly one of the three groups is present, else None."""
    kinds = [kind for kind in ("v", "t", "r") if kind in hcert]
    return kinds[0] if len(kinds) == 1 else None


def hcert_codes_check(
    *, hcert: Mapping[str, Any], value_sets: ValueSets, allow_inactive: bool
) -> None:
    """Raise `PayloadInvalid` if a coded field holds a code outside its value set.

    Issuing passes `allow_inactive=False`: a deprecated code (e.g. Vero Cell, replaced by
    BBIBP-CorV) must not appear on a new certificate. Verifying passes True, because a
    certificate issued while the code was active stays genuine. Call this on a payload
    that passed the schema; it trusts the schema for the shape.
    """
    for kind, fields in _FIELD_VALUE_SETS.items():
        for index, entry in enumerate(hcert.get(kind, ())):
            for field, value_set in fields.items():
                if field not in entry:
                    continue
                if kind == "t" and field == "ma" and entry.get("tt") != TEST_TYPE_RAT:
                    # `ma` names a rapid-test device; on a NAA test it has no meaning and
                    # some issuers leave it empty (the Swiss PCR sample has "ma": "").
                    continue
                code = entry[field]
                found = value_sets.entry(value_set=value_set, code=code)
                location = f"{kind}/{index}/{field}"
                if found is None:
                    raise PayloadInvalid(
                        f"{location}: {code!r} is not in the value set {value_set}.",
                        code="unknown_code",
                        details={"field": location, "code": code, "value_set": value_set},
                    )
                if not found.active and not allow_inactive:
                    raise PayloadInvalid(
                        f"{location}: {code!r} is deprecated in the value set {value_set}.",
                        code="inactive_code",
                        details={"field": location, "code": code, "value_set": value_set},
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
