"""A test-side check of a document against the WHO DDCC:VS profiles, beside fhir.resources
(which checks FHIR R4 itself, not the profiles).

The constraints are read from the profiles' FSH in github.com/WorldHealthOrganization/ddcc
(input/fsh: ddcc-composition.fsh, ddcc-patient.fsh, ddcc-organization.fsh,
ddcc-immunization.fsh, ddcc-extensions.fsh, ddcc-vs-valuesets.fsh; canonical
http://smart.who.int/ddcc, IG version 1.0.0), written here as code; nothing of the
repository is copied. What is checked: the DDCCVSDocument bundle (type, identifier,
timestamp, the `hcid` publication link, exactly one Composition first, one Patient, one
Organization, one Immunization, at most one ImmunizationRecommendation, nothing else
but DocumentReferences, a fullUrl on every entry), DDCCVSComposition (identifier, type
LOINC 82593-5, category ddcc-vs, the fixed title, subject, one official attester, at most
one event, exactly one section: the vaccination section LOINC 11369-6 with its focus),
DDCCPatient (an official name with a text, a birth date; IPS: a family, given or text
name), DDCCOrganization (a name), DDCCImmunization (the brand, market authorisation and
country extensions and their value types, one vaccine coding with system and code, a
dateTime occurrence, a location display, a protocol with an Organization authority and a
positive dose number) and that every reference resolves to an entry of the right type.
Preferred bindings (ICD-11 vaccine and disease codes, ISO 3166-1 alpha-3 country) are
checked too: we choose to follow them.
"""

from __future__ import annotations

import re
from typing import Any, Final

DDCC: Final = "http://smart.who.int/ddcc"
LOINC: Final = "http://loinc.org"
ICD11: Final = "http://id.who.int/icd11/mms"
CATEGORY_SYSTEM: Final = f"{DDCC}/CodeSystem/DDCCCompositionCategoryCodeSystem"
TITLE: Final = "Digital Documentation of COVID-19 Certificate (DDCC)"
EXTENSION: Final = f"{DDCC}/StructureDefinition"
# WHODDCCVaccinesCOVID19 (ddcc-vs-valuesets.fsh): the ICD-11 codes of COVID-19 vaccines.
WHO_VACCINES: Final = frozenset(
    [
        "XM68M6",
        "XM1NL1",
        "XM7HT3",
        "XM8866",
        "XM9TQ1",
        "XM1G90",
        "XM85P5",
        "XM9FQ7",
        "XM97N6",
        "XM2YG8",
        "XM3U61",
        "XM5DF6",
        "XM9QW8",
        "XM4YL8",
        "XM97T2",
        "XM6QV1",
        "XM1AG7",
        "XM5ZJ4",
        "XM5QM6",
        "XM0CX4",
        "XM5JC5",
        "XM3CT4",
        "XM3PG0",
        "XM4EC8",
        "XM6SZ8",
        "XM1J92",
        "XM6AT1",
        "XM52P3",
        "XM0GQ8",
        "XM8NQ0",
        "XM3DT5",
    ]
)
WHO_DISEASES: Final = frozenset({"RA01"})  # WHODDCCDiseaseTargetedCOVID19
_DATE_TIME: Final = re.compile(
    r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?)?)?$"
)
_DATE: Final = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def _codings(concept: Any) -> list[dict[str, Any]]:
    return [c for c in (concept or {}).get("coding", []) if isinstance(c, dict)]


def _has_coding(concept: Any, system: str, code: str) -> bool:
    return any(c.get("system") == system and c.get("code") == code for c in _codings(concept))


class _Check:
    def __init__(self) -> None:
        self.issues: list[str] = []

    def that(self, condition: object, message: str) -> bool:
        if not condition:
            self.issues.append(message)
        return bool(condition)


def ddcc_vs_issues(document: Any) -> list[str]:
    """Every way `document` breaks the DDCC:VS profiles; empty when it conforms."""
    check = _Check()
    if not check.that(isinstance(document, dict), "Bundle: not a JSON object"):
        return check.issues
    check.that(document.get("resourceType") == "Bundle", "Bundle: resourceType")
    check.that(document.get("type") == "document", "Bundle.type must be document")
    identifier = document.get("identifier") or {}
    check.that(identifier.get("value"), "Bundle.identifier 1..1")
    check.that(_DATE_TIME.match(str(document.get("timestamp", ""))), "Bundle.timestamp")
    links = [link for link in document.get("link", []) if link.get("relation") == "publication"]
    check.that(len(links) == 1 and links[0].get("url"), "Bundle.link[hcid] 1..1 with a url")
    entries = document.get("entry") or []
    by_url: dict[str, dict[str, Any]] = {}
    kinds: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        resource = entry.get("resource") or {}
        url = entry.get("fullUrl")
        check.that(url and url not in by_url, "Bundle.entry.fullUrl present and unique")
        by_url[str(url)] = resource
        kinds.setdefault(resource.get("resourceType", "?"), []).append(resource)
    check.that(
        entries and (entries[0].get("resource") or {}).get("resourceType") == "Composition",
        "Bundle: the Composition comes first",
    )
    for kind, (low, high) in {
        "Composition": (1, 1),
        "Patient": (1, 1),
        "Organization": (1, 1),
        "Immunization": (1, 1),
        "ImmunizationRecommendation": (0, 1),
        "DocumentReference": (0, 1_000),
    }.items():
        count = len(kinds.get(kind, []))
        check.that(low <= count <= high, f"Bundle.entry[{kind}] {low}..{high}, not {count}")
    check.that(
        set(kinds)
        <= {
            "Composition",
            "Patient",
            "Organization",
            "Immunization",
            "ImmunizationRecommendation",
            "DocumentReference",
        },
        f"Bundle: unexpected entries {sorted(kinds)}",
    )

    def target(reference: Any, *allowed: str) -> dict[str, Any] | None:
        ref = (reference or {}).get("reference")
        resource = by_url.get(str(ref))
        ok = resource is not None and resource.get("resourceType") in allowed
        check.that(ok, f"reference {ref!r} must resolve to {' or '.join(allowed)}")
        return resource if ok else None

    for composition in kinds.get("Composition", [])[:1]:
        _composition(check, composition, target)
    for patient in kinds.get("Patient", [])[:1]:
        _patient(check, patient)
    for organization in kinds.get("Organization", []):
        check.that(organization.get("name"), "Organization.name 1..1")
    for immunization in kinds.get("Immunization", [])[:1]:
        _immunization(check, immunization, target)
    return check.issues


def _composition(check: _Check, composition: dict[str, Any], target: Any) -> None:
    identifier = composition.get("identifier") or {}
    check.that(
        identifier.get("system") and identifier.get("value"),
        "Composition.identifier with system and value",
    )
    check.that(composition.get("status"), "Composition.status 1..1")
    check.that(composition.get("date"), "Composition.date 1..1")
    check.that(composition.get("author"), "Composition.author 1..*")
    check.that(_has_coding(composition.get("type"), LOINC, "82593-5"), "Composition.type")
    check.that(
        any(_has_coding(c, CATEGORY_SYSTEM, "ddcc-vs") for c in composition.get("category", [])),
        "Composition.category = DDCCCompositionCategoryCodeSystem#ddcc-vs",
    )
    check.that(composition.get("title") == TITLE, "Composition.title is fixed")
    target(composition.get("subject"), "Patient")
    attesters = composition.get("attester") or []
    if check.that(len(attesters) == 1, "Composition.attester 1..1"):
        check.that(attesters[0].get("mode") == "official", "Composition.attester.mode official")
        target(attesters[0].get("party"), "Organization")
    check.that(len(composition.get("event") or []) <= 1, "Composition.event 0..1")
    sections = composition.get("section") or []
    # Closed slicing: the vaccination section and nothing else.
    if check.that(len(sections) == 1, "Composition.section: exactly the vaccination section"):
        section = sections[0]
        check.that(_has_coding(section.get("code"), LOINC, "11369-6"), "section.code 11369-6")
        target(section.get("focus"), "Immunization")
        for entry in section.get("entry") or []:
            target(entry, "Immunization", "DocumentReference", "ImmunizationRecommendation")


def _patient(check: _Check, patient: dict[str, Any]) -> None:
    names = patient.get("name") or []
    check.that(
        any(name.get("use") == "official" and name.get("text") for name in names),
        "Patient.name[ddccName]: use official with a text",
    )
    check.that(
        all(name.get("family") or name.get("given") or name.get("text") for name in names),
        "IPS Patient: each name has a family, given or text",
    )
    check.that(_DATE.match(str(patient.get("birthDate", ""))), "Patient.birthDate 1..1")


def _immunization(check: _Check, immunization: dict[str, Any], target: Any) -> None:
    extensions: dict[str, list[dict[str, Any]]] = {}
    for extension in immunization.get("extension") or []:
        extensions.setdefault(extension.get("url", ""), []).append(extension)
    brand = extensions.get(f"{EXTENSION}/DDCCEventBrand", [])
    if check.that(len(brand) == 1, "Immunization.extension[vaccineBrand] 1..1"):
        coding = brand[0].get("valueCoding") or {}
        check.that(coding.get("system") and coding.get("code"), "vaccineBrand.valueCoding")
    holder = extensions.get(f"{EXTENSION}/DDCCVaccineMarketAuthorization", [])
    if check.that(len(holder) <= 1, "Immunization.extension[vaccineMarketAuthorization] 0..1"):
        for extension in holder:
            coding = extension.get("valueCoding") or {}
            check.that(coding.get("code"), "vaccineMarketAuthorization.valueCoding")
    country = extensions.get(f"{EXTENSION}/DDCCCountryOfEvent", [])
    if check.that(len(country) == 1, "Immunization.extension[country] 1..1"):
        code = country[0].get("valueCode")
        check.that(
            isinstance(code, str) and re.fullmatch(r"[A-Z]{3}", code),
            "country.valueCode: ISO 3166-1 alpha-3 (preferred)",
        )
    check.that(len(extensions.get(f"{EXTENSION}/DDCCVaccineValidFrom", [])) <= 1, "validFrom 0..1")
    check.that(immunization.get("status"), "Immunization.status 1..1")
    codings = _codings(immunization.get("vaccineCode"))
    if check.that(len(codings) == 1, "Immunization.vaccineCode.coding 1..1"):
        check.that(codings[0].get("system") and codings[0].get("code"), "vaccineCode system+code")
        check.that(
            codings[0].get("system") == ICD11 and codings[0].get("code") in WHO_VACCINES,
            "vaccineCode from WHODDCCVaccinesCOVID19 (preferred)",
        )
    target(immunization.get("patient"), "Patient")
    check.that(
        _DATE_TIME.match(str(immunization.get("occurrenceDateTime", "")))
        and "occurrenceString" not in immunization,
        "Immunization.occurrence[x] 1..1, a dateTime",
    )
    check.that((immunization.get("location") or {}).get("display"), "Immunization.location.display")
    for performer in immunization.get("performer") or []:
        actor = performer.get("actor") or {}
        if "reference" in actor:
            target(actor, "Practitioner", "Organization")
    applied = immunization.get("protocolApplied") or []
    with_authority = [p for p in applied if (p.get("authority") or {}).get("reference")]
    check.that(with_authority, "Immunization.protocolApplied[protocolAppliedAuthority] 1..*")
    for protocol in with_authority:
        target(protocol.get("authority"), "Organization")
        dose = protocol.get("doseNumberPositiveInt")
        check.that(type(dose) is int and dose > 0, "protocolApplied.doseNumberPositiveInt")
        check.that("doseNumberString" not in protocol, "doseNumber[x] only positiveInt")
        series = protocol.get("seriesDosesPositiveInt")
        check.that(series is None or (type(series) is int and series > 0), "seriesDoses")
        check.that("seriesDosesString" not in protocol, "seriesDoses[x] only positiveInt")
        for disease in protocol.get("targetDisease") or []:
            check.that(
                any(
                    c.get("system") == ICD11 and c.get("code") in WHO_DISEASES
                    for c in _codings(disease)
                ),
                "targetDisease from WHODDCCDiseaseTargetedCOVID19 (preferred)",
            )
