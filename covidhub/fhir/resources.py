"""FHIR R4 resources built from the platform's records, as plain JSON-ready dicts.

Builders read attributes only (no query of their own): the selectors load the related
rows they need (`select_related`, or a cache in the bulk export). Resource ids are the
records' UUIDs; a sampling site, a vaccination site and a laboratory are each both an
Organization and a Location, with ids `ts-<uuid>`, `vs-<uuid>` and `lab-<uuid>`.

A test result (`testing.Result`) is both an Observation and the DiagnosticReport that
carries it (same id); its Specimen is the tube, which for a pooled test is the pool: no
subject, and the pool size as an extension.

The parts that are the same in every resource of a kind (a category, a test's code, a
vaccine's codes) are built once and shared by the resources that hold them: a resource is
serialised, never changed in place below its top level.
"""

from __future__ import annotations

import datetime
import functools
import zoneinfo
from typing import Any

from django.conf import settings

from covidhub.fhir import codes

Resource = dict[str, Any]

GENDER = {"M": "male", "F": "female"}


@functools.cache
def _zone() -> datetime.tzinfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def instant(value: datetime.datetime | None) -> str | None:
    """A FHIR instant/dateTime: the platform's local time with its offset, to the second
    (the zone read once: `timezone.localtime` asks a context variable every time, a tenth
    of a bulk export's time)."""
    if value is None:
        return None
    return value.astimezone(_zone()).isoformat(timespec="seconds")


def _coding(system: str, pair: tuple[str, str]) -> dict[str, str]:
    return {"system": system, "code": pair[0], "display": pair[1]}


def _ref(resource_type: str, resource_id: str) -> dict[str, str]:
    return {"reference": f"{resource_type}/{resource_id}"}


def _drop_empty(resource: Resource) -> Resource:
    """The resource without its empty elements (None, empty text, list or object), which
    FHIR JSON leaves out; false and zero stay. (A value that is true needs no comparison:
    most of them.)"""
    return {k: v for k, v in resource.items() if v or v == 0}


# Areas and addresses --------------------------------------------------------------------


def address(*, line: str, commune: Any, use: str | None = "home") -> dict[str, Any]:
    """A Vietnamese address: house and street, then the commune (with its official code as
    an extension), its district and its province."""
    district = commune.parent if commune is not None else None
    province = district.parent if district is not None else None
    lines = [text for text in (line, commune.name if commune else "") if text]
    parts = [*lines, district.name if district else "", province.name if province else ""]
    result: dict[str, Any] = {
        "use": use,
        "type": "physical",
        "text": ", ".join(p for p in parts if p),
        "line": lines,
        "district": district.name if district else None,
        "state": province.name if province else None,
        "country": "VN",
    }
    if commune is not None:
        result["extension"] = [
            {
                "url": codes.EXT_ADDRESS_COMMUNE,
                "valueCoding": {
                    "system": codes.SID_ADMIN_UNIT,
                    "code": commune.code,
                    "display": commune.name,
                },
            }
        ]
    return _drop_empty(result)


# Patient --------------------------------------------------------------------------------


def person_identifiers(person: Any) -> list[dict[str, Any]]:
    identifiers: list[dict[str, Any]] = []
    if person.id_number and person.id_type in codes.ID_SYSTEMS:
        identifiers.append(
            {
                "use": "official",
                "type": {"coding": [_coding(codes.V2_0203, codes.ID_TYPE_CODES[person.id_type])]},
                "system": codes.ID_SYSTEMS[person.id_type],
                "value": person.id_number,
            }
        )
    identifiers.append({"use": "secondary", "system": codes.SID_PERSON, "value": str(person.uuid)})
    return identifiers


def human_name(full_name: str) -> dict[str, Any]:
    """Vietnamese order: family name first, then middle and given names."""
    parts = full_name.split()
    name: dict[str, Any] = {"use": "official", "text": full_name}
    if len(parts) > 1:
        name["family"] = parts[0]
        name["given"] = parts[1:]
    elif parts:
        name["given"] = parts
    return name


def patient(person: Any) -> Resource:
    """`people.Person` (with `commune__parent__parent` loaded) as a Patient."""
    telecom = []
    if person.phone:
        telecom.append({"system": "phone", "value": person.phone, "use": "mobile"})
    if person.email:
        telecom.append({"system": "email", "value": person.email})
    birth = person.birth_date.isoformat() if person.birth_date else f"{person.birth_year:04d}"
    return _drop_empty(
        {
            "resourceType": "Patient",
            "id": str(person.uuid),
            "meta": {"lastUpdated": instant(person.updated_at)},
            "identifier": person_identifiers(person),
            "active": True,
            "name": [human_name(person.full_name)],
            "telecom": telecom,
            "gender": GENDER.get(person.sex, "unknown"),
            "birthDate": birth,
            "address": [address(line=person.address_line, commune=person.commune)],
            "extension": [
                {
                    "url": "http://hl7.org/fhir/StructureDefinition/patient-nationality",
                    "extension": [
                        {
                            "url": "code",
                            "valueCodeableConcept": {
                                "coding": [
                                    {"system": codes.ISO_COUNTRY, "code": person.nationality}
                                ]
                            },
                        }
                    ],
                }
            ]
            if person.nationality
            else [],
        }
    )


# Organizations and locations ----------------------------------------------------------

SITE_PREFIX = {"vaccination_site": "vs", "testing_site": "ts", "lab": "lab"}


def place_id(kind: str, place_uuid: Any) -> str:
    return f"{SITE_PREFIX[kind]}-{place_uuid}"


def organization(kind: str, place: Any) -> Resource:
    """A vaccination site, sampling site or laboratory as the Organization that performs."""
    identifiers = [{"system": codes.SID_SITE, "value": str(place.uuid)}]
    if kind == "lab":
        identifiers.append({"system": codes.SID_LAB, "value": place.code})
    active = getattr(place, "active", getattr(place, "is_active", True))
    return _drop_empty(
        {
            "resourceType": "Organization",
            "id": place_id(kind, place.uuid),
            "meta": {"lastUpdated": instant(place.updated_at)},
            "identifier": identifiers,
            "active": bool(active),
            "type": [
                {
                    "coding": [
                        {
                            "system": codes.ORGANIZATION_TYPE,
                            "code": "prov",
                            "display": "Healthcare Provider",
                        }
                    ]
                }
            ],
            "name": place.name,
            "address": [
                address(line=getattr(place, "address", ""), commune=place.commune, use="work")
            ],
        }
    )


def location(kind: str, place: Any) -> Resource:
    """The same place as a Location (where a dose was given or a sample taken)."""
    active = getattr(place, "active", getattr(place, "is_active", True))
    return _drop_empty(
        {
            "resourceType": "Location",
            "id": place_id(kind, place.uuid),
            "meta": {"lastUpdated": instant(place.updated_at)},
            "identifier": [{"system": codes.SID_SITE, "value": str(place.uuid)}],
            "status": "active" if active else "inactive",
            "name": place.name,
            "mode": "instance",
            "address": address(
                line=getattr(place, "address", ""), commune=place.commune, use="work"
            ),
            "managingOrganization": _ref("Organization", place_id(kind, place.uuid)),
        }
    )


# Immunization -------------------------------------------------------------------------


def vaccine_code(vaccine: Any) -> dict[str, Any]:
    """A vaccine's CodeableConcept (CVX, SNOMED or ATC, EU DCC product), built once per
    vaccine (by the values it is built from)."""
    return _vaccine_code(vaccine.code, vaccine.prophylaxis_code, vaccine.product_code, vaccine.name)


@functools.lru_cache(maxsize=256)
def _vaccine_code(code: str, vp: str, product_code: str, name: str) -> dict[str, Any]:
    coding = []
    cvx = codes.CVX_BY_VACCINE.get(code)
    if cvx:
        coding.append(_coding(codes.CVX, cvx))
    if vp:
        system = codes.ATC if vp.startswith("J") else codes.SNOMED
        coding.append(
            {"system": system, "code": vp, "display": codes.PROPHYLAXIS_DISPLAY.get(vp, vp)}
        )
    if product_code:
        coding.append({"system": codes.CS_DCC_PRODUCT, "code": product_code, "display": name})
    return {"coding": coding, "text": name}


_TARGET_DISEASE = [{"coding": [_coding(codes.SNOMED, codes.SCT_COVID19)]}]
_ADMINISTERING = {"coding": [{"system": codes.V2_0443, "code": "AP"}]}


def immunization(dose: Any, *, person_uuid: Any) -> Resource:
    """`vaccination.Dose` (with vaccine, lot and site__commune loaded) as an Immunization."""
    vaccine = dose.vaccine
    site = dose.site
    protocol: dict[str, Any] = {
        "series": "Primary series" if dose.series == "primary" else "Booster",
        "targetDisease": _TARGET_DISEASE,
        "doseNumberPositiveInt": dose.dose_number,
    }
    if dose.series == "primary":
        protocol["seriesDosesPositiveInt"] = vaccine.primary_doses
    resource: Resource = {
        "resourceType": "Immunization",
        "id": str(dose.uuid),
        "meta": {"lastUpdated": instant(dose.updated_at)},
        "identifier": [{"system": codes.SID_DOSE, "value": str(dose.uuid)}],
        "status": "completed" if dose.status == "valid" else "entered-in-error",
        "vaccineCode": vaccine_code(vaccine),
        "patient": _ref("Patient", str(person_uuid)),
        "occurrenceDateTime": instant(dose.administered_at),
        "recorded": instant(dose.created_at),
        "primarySource": not dose.given_elsewhere,
        "manufacturer": {
            "identifier": {"system": codes.CS_DCC_MANUFACTURER, "value": vaccine.manufacturer_code}
        }
        if vaccine.manufacturer_code
        else None,
        "protocolApplied": [protocol],
    }
    if dose.lot_id is not None:
        resource["lotNumber"] = dose.lot.number
        resource["expirationDate"] = dose.lot.expiry_date.isoformat()
    if site is not None:
        resource["location"] = _ref("Location", place_id("vaccination_site", site.uuid))
        resource["performer"] = [
            {
                "function": _ADMINISTERING,
                "actor": _ref("Organization", place_id("vaccination_site", site.uuid)),
            }
        ]
    if dose.given_elsewhere:
        place = ", ".join(p for p in (dose.elsewhere_place, dose.elsewhere_country) if p)
        resource["reportOrigin"] = {"text": place or "Given elsewhere"}
    return _drop_empty(resource)


# Tests: Observation, DiagnosticReport, Specimen ---------------------------------------


def _result_status(result: Any) -> str:
    if result.outcome == "pool_positive":
        return "preliminary"  # the person's own outcome waits for the individual retest
    return "amended" if result.version > 1 else "final"


def _last_updated(result: Any, issued: str | None) -> str | None:
    """A result's last change: its amendment, else its release (`issued`, written once)."""
    return instant(result.amended_at) if result.amended_at else issued


def _result_performer(result: Any) -> list[dict[str, str]]:
    lab = result.tube_result.lab if result.tube_result_id else None
    if lab is not None:
        return [_ref("Organization", place_id("lab", lab.uuid))]
    return [_ref("Organization", place_id("testing_site", result.site.uuid))]


@functools.cache
def test_code(test_type: str) -> dict[str, Any]:
    pair = codes.LOINC_BY_TEST_TYPE[test_type]
    return {"coding": [_coding(codes.LOINC, pair)], "text": pair[1]}


@functools.cache
def _outcome_value(outcome: str) -> dict[str, Any]:
    """A result's outcome as a SNOMED CT CodeableConcept (Observation's value, the
    report's conclusion)."""
    return {"coding": [_coding(codes.SNOMED, codes.OUTCOME_VALUES[outcome][0])]}


@functools.cache
def _outcome_interpretation(outcome: str) -> list[dict[str, Any]] | None:
    interpretation = codes.OUTCOME_VALUES[outcome][1]
    if not interpretation:
        return None
    return [{"coding": [_coding(codes.V3_INTERPRETATION, interpretation)]}]


_LABORATORY = [
    {
        "coding": [
            {"system": codes.OBSERVATION_CATEGORY, "code": "laboratory", "display": "Laboratory"}
        ]
    }
]
_REPORT_LAB = [{"coding": [{"system": codes.V2_0074, "code": "LAB", "display": "Laboratory"}]}]


class ResultParts:
    """What a result's Observation and the DiagnosticReport that carries it share, worked
    out once when both are built (Patient/$everything): the same objects go into both
    resources, which are serialised, never changed in place below their top level."""

    __slots__ = (
        "code",
        "effective",
        "id",
        "identifier",
        "issued",
        "meta",
        "performer",
        "status",
        "subject",
    )

    def __init__(self, result: Any, *, person_uuid: Any) -> None:
        self.id = str(result.uuid)
        self.issued = instant(result.released_at)
        self.meta = {"lastUpdated": _last_updated(result, self.issued)}
        self.identifier = [{"system": codes.SID_RESULT, "value": self.id}]
        self.status = _result_status(result)
        self.code = test_code(result.test_type)
        self.subject = _ref("Patient", str(person_uuid))
        self.effective = instant(result.collected_at)
        self.performer = _result_performer(result)


def observation(
    result: Any, *, person_uuid: Any, tube_uuid: Any, parts: ResultParts | None = None
) -> Resource:
    """`testing.Result` (with site, tube_result__lab loaded) as an Observation."""
    shared = parts or ResultParts(result, person_uuid=person_uuid)
    outcome = result.outcome
    resource: Resource = {
        "resourceType": "Observation",
        "id": shared.id,
        "meta": shared.meta,
        "identifier": shared.identifier,
        "status": shared.status,
        "category": _LABORATORY,
        "code": shared.code,
        "subject": shared.subject,
        "effectiveDateTime": shared.effective,
        "issued": shared.issued,
        "performer": shared.performer,
        "valueCodeableConcept": _outcome_value(outcome),
        "interpretation": _outcome_interpretation(outcome),
        "specimen": _ref("Specimen", str(tube_uuid)),
    }
    if result.pooled:
        resource["method"] = {"text": "Pooled sample testing"}
    if outcome == "pool_positive":
        resource["note"] = [{"text": "The pool was positive: an individual retest is required."}]
    ct = result.tube_result.ct_value if result.tube_result_id and not result.pooled else None
    if ct is not None:
        resource["component"] = [
            {
                "code": {"text": "Cycle threshold (Ct)"},
                "valueQuantity": {
                    "value": float(ct),
                    "unit": "{Ct}",
                    "system": "http://unitsofmeasure.org",
                    "code": "{Ct}",
                },
            }
        ]
    return _drop_empty(resource)


def diagnostic_report(
    result: Any, *, person_uuid: Any, tube_uuid: Any, parts: ResultParts | None = None
) -> Resource:
    """The report that carries one result's Observation."""
    shared = parts or ResultParts(result, person_uuid=person_uuid)
    return _drop_empty(
        {
            "resourceType": "DiagnosticReport",
            "id": shared.id,
            "meta": shared.meta,
            "identifier": shared.identifier,
            "status": shared.status,
            "category": _REPORT_LAB,
            "code": shared.code,
            "subject": shared.subject,
            "effectiveDateTime": shared.effective,
            "issued": shared.issued,
            "performer": shared.performer,
            "specimen": [_ref("Specimen", str(tube_uuid))],
            "result": [_ref("Observation", shared.id)],
            "conclusionCode": [_outcome_value(result.outcome)],
        }
    )


_SWAB = {"coding": [_coding(codes.SNOMED, codes.SCT_NASOPHARYNGEAL_SWAB)]}


def specimen(tube: Any, *, subject_uuid: Any | None) -> Resource:
    """`testing.Tube` as a Specimen: one person's swab, or a pool (no single subject)."""
    pooled = tube.capacity > 1
    resource: Resource = {
        "resourceType": "Specimen",
        "id": str(tube.uuid),
        "meta": {
            "lastUpdated": instant(
                tube.resulted_at
                or tube.received_at
                or tube.shipped_at
                or tube.closed_at
                or tube.collected_at
            )
        },
        "identifier": [{"system": codes.SID_TUBE, "value": tube.barcode}],
        "status": "unavailable" if tube.status == "missing" else "available",
        "type": _SWAB,
        "receivedTime": instant(tube.received_at),
        "collection": {"collectedDateTime": instant(tube.collected_at)},
    }
    if pooled:
        resource["extension"] = [{"url": codes.EXT_POOL_SIZE, "valueInteger": tube.member_count}]
        resource["note"] = [{"text": "Pooled specimen: swabs of several people in one tube."}]
    elif subject_uuid is not None:
        resource["subject"] = _ref("Patient", str(subject_uuid))
    return _drop_empty(resource)


# Home care: self-check vital signs and the confirmed case ------------------------------


def vital_id(check_uuid: Any, vital: str) -> str:
    return f"{check_uuid}-{vital}"


def vital_sign(check: Any, *, vital: str, person_uuid: Any) -> Resource:
    """One vital sign of a home-care `SelfCheck` as an Observation of the FHIR vital-signs
    profile (`codes.VITALS[vital]`): category vital-signs, LOINC code, UCUM quantity; a
    value the check's warning signs flagged carries its interpretation."""
    field, loinc, (unit_code, unit), profile = codes.VITALS[vital]
    value = getattr(check, field)
    resource_id = vital_id(check.uuid, vital)
    sign, interpretation = codes.VITAL_WARNINGS[vital]
    recorded = instant(check.created_at)
    return _drop_empty(
        {
            "resourceType": "Observation",
            "id": resource_id,
            "meta": {
                "lastUpdated": recorded,
                "profile": [codes.VITAL_SIGNS_PROFILE, profile],
            },
            "identifier": [{"system": codes.SID_SELF_CHECK_VITAL, "value": resource_id}],
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": codes.OBSERVATION_CATEGORY,
                            "code": "vital-signs",
                            "display": "Vital Signs",
                        }
                    ],
                    "text": "Vital Signs",
                }
            ],
            "code": {
                "coding": [_coding(codes.LOINC, pair) for pair in loinc],
                "text": loinc[0][1],
            },
            "subject": _ref("Patient", str(person_uuid)),
            "effectiveDateTime": instant(check.measured_at),
            "issued": recorded,
            "valueQuantity": {
                "value": float(value) if field == "temperature" else int(value),
                "unit": unit,
                "system": codes.UCUM,
                "code": unit_code,
            },
            "interpretation": [{"coding": [_coding(codes.V3_INTERPRETATION, interpretation)]}]
            if sign in (check.warning_signs or ())
            else None,
        }
    )


def vital_signs(check: Any, *, person_uuid: Any) -> list[Resource]:
    """Every vital sign a self-check measured, in the order of `codes.VITALS`."""
    return [
        vital_sign(check, vital=vital, person_uuid=person_uuid)
        for vital, (field, *_rest) in codes.VITALS.items()
        if getattr(check, field) is not None
    ]


def care_condition(order: Any, *, person_uuid: Any) -> Resource:
    """An F0's home-care order (`homecare.CareOrder`) as the confirmed case's Condition:
    COVID-19 (SNOMED CT), onset on the order's first day of illness, active while under
    care or referred, resolved (abatement) at the release; the positive result that opened
    it, when one did, as evidence (by its identifier)."""
    released = order.status == "released"
    resource: Resource = {
        "resourceType": "Condition",
        "id": str(order.uuid),
        "meta": {"lastUpdated": instant(order.updated_at)},
        "identifier": [{"system": codes.SID_CARE_ORDER, "value": str(order.uuid)}],
        "clinicalStatus": {
            "coding": [
                {"system": codes.CONDITION_CLINICAL, "code": "resolved" if released else "active"}
            ]
        },
        "verificationStatus": {
            "coding": [{"system": codes.CONDITION_VERIFICATION, "code": "confirmed"}]
        },
        "category": [
            {
                "coding": [
                    {
                        "system": codes.CONDITION_CATEGORY,
                        "code": "problem-list-item",
                        "display": "Problem List Item",
                    }
                ]
            }
        ],
        "code": {"coding": [_coding(codes.SNOMED, codes.SCT_COVID19)], "text": "COVID-19"},
        "subject": _ref("Patient", str(person_uuid)),
        "onsetDateTime": (order.onset_date or order.start_date).isoformat(),
        "abatementDateTime": instant(order.released_at) if released else None,
        "recordedDate": instant(order.created_at),
    }
    if order.source == "testing" and order.source_reference:
        resource["evidence"] = [
            {
                "detail": [
                    {
                        "type": "Observation",
                        "identifier": {"system": codes.SID_RESULT, "value": order.source_reference},
                    }
                ]
            }
        ]
    return _drop_empty(resource)


# Case reports and certificate revocations (the exchange's other records) -------------


def condition(case: Any, *, person_uuid: Any) -> Resource:
    """`declarations.Case` as a Condition: COVID-19 (SNOMED CT), confirmed once a second
    officer approved it, with the positive result that proposed it as evidence (by its
    identifier: the partner received it as an Observation)."""
    verification = {"confirmed": "confirmed", "rejected": "refuted"}.get(case.status, "provisional")
    resource: Resource = {
        "resourceType": "Condition",
        "id": str(case.uuid),
        "meta": {"lastUpdated": instant(case.updated_at)},
        "identifier": [{"system": codes.SID_CASE, "value": str(case.uuid)}],
        "clinicalStatus": {"coding": [{"system": codes.CONDITION_CLINICAL, "code": "active"}]},
        "verificationStatus": {
            "coding": [{"system": codes.CONDITION_VERIFICATION, "code": verification}]
        },
        "category": [
            {
                "coding": [
                    {
                        "system": codes.CONDITION_CATEGORY,
                        "code": "problem-list-item",
                        "display": "Problem List Item",
                    }
                ]
            }
        ],
        "code": {"coding": [_coding(codes.SNOMED, codes.SCT_COVID19)], "text": "COVID-19"},
        "subject": _ref("Patient", str(person_uuid)),
        "onsetDateTime": case.onset_date.isoformat(),
        "recordedDate": instant(case.decided_at or case.created_at),
    }
    if case.source == "testing" and case.source_reference:
        resource["evidence"] = [
            {
                "detail": [
                    {
                        "type": "Observation",
                        "identifier": {"system": codes.SID_RESULT, "value": case.source_reference},
                    }
                ]
            }
        ]
    return _drop_empty(resource)


def certificate_revocation(certificate: Any, *, person_uuid: Any) -> Resource:
    """A revoked `certificates.IssuedCertificate` as the DocumentReference of the DCC,
    `entered-in-error` (or `superseded` when a new certificate replaced it), its UVCI as
    the master identifier and the record it certified as the related context."""
    kind = certificate.kind
    if kind == "v":
        related = {
            "type": "Immunization",
            "identifier": {"system": codes.SID_DOSE, "value": certificate.source_id},
        }
    else:
        related = {
            "type": "Observation",
            "identifier": {
                "system": codes.SID_RESULT,
                "value": certificate.source_id.partition(":")[0],
            },
        }
    return _drop_empty(
        {
            "resourceType": "DocumentReference",
            "id": str(certificate.uuid),
            "meta": {"lastUpdated": instant(certificate.revoked_at)},
            "masterIdentifier": {"system": codes.SID_UVCI, "value": certificate.uvci},
            "identifier": [{"system": codes.SID_CERTIFICATE, "value": str(certificate.uuid)}],
            "status": "superseded" if certificate.superseded_by_id else "entered-in-error",
            "type": {
                "coding": [
                    {
                        "system": codes.CS_DCC_TYPE,
                        "code": kind,
                        "display": codes.DCC_TYPE_DISPLAY[kind],
                    }
                ],
                "text": codes.DCC_TYPE_DISPLAY[kind],
            },
            "subject": _ref("Patient", str(person_uuid)),
            "date": instant(certificate.revoked_at),
            "description": f"Revoked: {certificate.revocation_reason}"
            if certificate.revocation_reason
            else "Revoked",
            "content": [
                {
                    "attachment": {
                        "contentType": "application/cbor",
                        "title": certificate.uvci,
                        "creation": instant(certificate.issued_at),
                    }
                }
            ],
            "context": {
                "period": {
                    "start": instant(certificate.issued_at),
                    "end": instant(certificate.revoked_at),
                },
                "related": [related],
            },
        }
    )


def operation_outcome(*, code: str, diagnostics: str, severity: str = "error") -> Resource:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}],
    }
