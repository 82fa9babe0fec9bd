"""FHIR R4 documents of a vaccination record: the SMART Health Card bundle and the WHO
DDCC:VS document.

Built from the signed EU DCC payload (`hcert` JSON), which is the record of truth: the
three formats say the same thing. Pure Python; `tests/test_healthcards.py` validates the
output with an independent FHIR model library.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from . import codes

DDCC_CANONICAL: Final = "http://smart.who.int/ddcc"
"""The canonical of the WHO DDCC implementation guide (1.0.0): profiles, extensions and
the composition category code system live under it."""
DDCC_TITLE: Final = "Digital Documentation of COVID-19 Certificate (DDCC)"
# Deterministic resource ids: the same certificate gives the same document each time.
_NAMESPACE: Final = uuid.UUID("6f1f3a4e-0c55-4a59-9a55-1f3c2b7d4e10")


@dataclass(frozen=True)
class VaccinationRecord:
    """One vaccination as a DCC `v` entry states it, plus the holder."""

    certificate_id: str
    family_name: str
    given_name: str
    birth_date: str
    product: str
    manufacturer: str
    prophylaxis: str
    dose_number: int
    total_doses: int
    vaccinated_on: str
    country: str
    issuer: str

    @property
    def full_name(self) -> str:
        return f"{self.family_name} {self.given_name}".strip()


def vaccination_record(hcert: dict[str, Any]) -> VaccinationRecord:
    """The record of a vaccination DCC payload; KeyError/IndexError if it is not one."""
    entry = hcert["v"][0]
    name = hcert.get("nam", {})
    return VaccinationRecord(
        certificate_id=entry["ci"],
        family_name=name.get("fn") or name.get("fnt", ""),
        given_name=name.get("gn") or name.get("gnt", ""),
        birth_date=hcert["dob"],
        product=entry["mp"],
        manufacturer=entry["ma"],
        prophylaxis=entry["vp"],
        dose_number=int(entry["dn"]),
        total_doses=int(entry["sd"]),
        vaccinated_on=entry["dt"],
        country=entry["co"],
        issuer=entry["is"],
    )


def _given(record: VaccinationRecord) -> list[str]:
    return [part for part in record.given_name.split(" ") if part]


def _patient_name(record: VaccinationRecord) -> dict[str, Any]:
    name: dict[str, Any] = {"family": record.family_name}
    given = _given(record)
    if given:
        name["given"] = given
    return name


def shc_bundle(records: list[VaccinationRecord]) -> dict[str, Any]:
    """The minimal bundle of the SMART Health Cards COVID-19 vaccination profile.

    `collection` bundle, `resource:N` full URLs and references, no ids, meta, narrative
    or display texts (the card must fit a QR code). `records` are one person's doses.
    """
    if not records:
        raise ValueError("no vaccination")
    first = records[0]
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": "resource:0",
            "resource": {
                "resourceType": "Patient",
                "name": [_patient_name(first)],
                "birthDate": first.birth_date,
            },
        }
    ]
    for index, record in enumerate(records, start=1):
        entries.append(
            {
                "fullUrl": f"resource:{index}",
                "resource": {
                    "resourceType": "Immunization",
                    "status": "completed",
                    "vaccineCode": {"coding": [codes.vaccine_coding_shc(record.product)]},
                    "patient": {"reference": "resource:0"},
                    "occurrenceDateTime": record.vaccinated_on,
                    "performer": [{"actor": {"display": record.issuer}}],
                },
            }
        )
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def _urn(certificate_id: str, kind: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{certificate_id}/{kind}')}"


def ddcc_vs_document(
    record: VaccinationRecord,
    *,
    identifier_system: str,
    issued_at: datetime,
    valid_until: datetime,
) -> dict[str, Any]:
    """The WHO DDCC:VS document (Bundle of type `document`) of one vaccination.

    Composition first (as a FHIR document requires), then Patient, Organization (the
    issuer: author, attester, performer and protocol authority) and Immunization with the
    DDCC extensions (brand, market authorisation holder, country of vaccination).
    """
    patient_ref = _urn(record.certificate_id, "patient")
    organization_ref = _urn(record.certificate_id, "organization")
    immunization_ref = _urn(record.certificate_id, "immunization")
    composition_ref = _urn(record.certificate_id, "composition")
    profile = f"{DDCC_CANONICAL}/StructureDefinition"
    timestamp = issued_at.isoformat()
    composition = {
        "resourceType": "Composition",
        "meta": {"profile": [f"{profile}/DDCCVSComposition"]},
        "identifier": {"system": identifier_system, "value": record.certificate_id},
        "status": "final",
        "type": {
            "coding": [
                {
                    "system": codes.LOINC_SYSTEM,
                    "code": "82593-5",
                    "display": "Immunization summary report",
                }
            ]
        },
        "category": [
            {
                "coding": [
                    {
                        "system": f"{DDCC_CANONICAL}/CodeSystem/DDCCCompositionCategoryCodeSystem",
                        "code": "ddcc-vs",
                    }
                ]
            }
        ],
        "subject": {"reference": patient_ref},
        "date": timestamp,
        "author": [{"reference": organization_ref}],
        "title": DDCC_TITLE,
        "attester": [{"mode": "official", "party": {"reference": organization_ref}}],
        "event": [{"period": {"start": timestamp, "end": valid_until.isoformat()}}],
        "section": [
            {
                "code": {
                    "coding": [
                        {
                            "system": codes.LOINC_SYSTEM,
                            "code": "11369-6",
                            "display": "History of Immunization Narrative",
                        }
                    ]
                },
                "focus": {"reference": immunization_ref},
                "entry": [{"reference": immunization_ref}],
            }
        ],
    }
    patient = {
        "resourceType": "Patient",
        "meta": {"profile": [f"{profile}/DDCCPatient"]},
        # The DDCC name slice: the official name with its text (what the paper DDCC shows).
        "name": [{"use": "official", "text": record.full_name, **_patient_name(record)}],
        "birthDate": record.birth_date,
    }
    organization = {
        "resourceType": "Organization",
        "meta": {"profile": [f"{profile}/DDCCOrganization"]},
        "name": record.issuer,
        "address": [{"country": codes.country_alpha3(record.country)}],
    }
    immunization = {
        "resourceType": "Immunization",
        "meta": {"profile": [f"{profile}/DDCCImmunization"]},
        "extension": [
            {
                "url": f"{profile}/DDCCEventBrand",
                "valueCoding": {"system": codes.EU_PRODUCT_SYSTEM, "code": record.product},
            },
            {
                "url": f"{profile}/DDCCVaccineMarketAuthorization",
                "valueCoding": {
                    "system": codes.EMA_ORGANISATION_SYSTEM,
                    "code": record.manufacturer,
                },
            },
            {
                "url": f"{profile}/DDCCCountryOfEvent",
                "valueCode": codes.country_alpha3(record.country),
            },
        ],
        "status": "completed",
        # One coding (the profile allows one): the ICD-11 vaccine the WHO list names. The
        # EU vaccine type (SNOMED `vp`) is what this ICD-11 platform code says.
        "vaccineCode": {
            "coding": [{"system": codes.ICD11_SYSTEM, "code": codes.vaccine_icd11(record.product)}]
        },
        "patient": {"reference": patient_ref},
        "occurrenceDateTime": record.vaccinated_on,
        "location": {"display": record.issuer},
        "performer": [{"actor": {"reference": organization_ref}}],
        "protocolApplied": [
            {
                "authority": {"reference": organization_ref},
                "targetDisease": [
                    {"coding": [{"system": codes.ICD11_SYSTEM, "code": codes.ICD11_COVID_19}]}
                ],
                "doseNumberPositiveInt": record.dose_number,
                "seriesDosesPositiveInt": record.total_doses,
            }
        ],
    }
    return {
        "resourceType": "Bundle",
        "meta": {"profile": [f"{profile}/DDCCVSDocument"]},
        "identifier": {"system": identifier_system, "value": record.certificate_id},
        "type": "document",
        "timestamp": timestamp,
        "link": [{"relation": "publication", "url": record.certificate_id}],
        "entry": [
            {"fullUrl": composition_ref, "resource": composition},
            {"fullUrl": patient_ref, "resource": patient},
            {"fullUrl": organization_ref, "resource": organization},
            {"fullUrl": immunization_ref, "resource": immunization},
        ],
    }
