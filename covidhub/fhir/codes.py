"""Code systems and identifier systems of the FHIR surface, in one place.

Official systems (HL7, LOINC, SNOMED CT, CVX, UCUM) are used where they exist. Vietnam has
no published FHIR naming system for its identity documents or administrative units, so
the platform defines stable URIs under its own namespace (`NAMESPACE`). They name a
system, they are not pages to fetch, and they never change with the address a deployment
is served from (documented in docs/integration.md).
"""

from __future__ import annotations

from typing import Final

NAMESPACE: Final = "https://covidhub.vn/fhir"

# Identifier systems --------------------------------------------------------------------
SID_CCCD: Final = f"{NAMESPACE}/sid/vn-cccd"  # Căn cước công dân, 12 digits
SID_CMND: Final = f"{NAMESPACE}/sid/vn-cmnd"  # Chứng minh nhân dân, 9 digits
SID_PASSPORT: Final = f"{NAMESPACE}/sid/passport"  # value prefixed by the issuing country
SID_PERSON: Final = f"{NAMESPACE}/sid/person"  # the platform's person UUID
SID_DOSE: Final = f"{NAMESPACE}/sid/dose"
SID_RESULT: Final = f"{NAMESPACE}/sid/test-result"
SID_TUBE: Final = f"{NAMESPACE}/sid/tube-barcode"
SID_CASE: Final = f"{NAMESPACE}/sid/case"  # a confirmed case's UUID
SID_CARE_ORDER: Final = f"{NAMESPACE}/sid/care-order"  # a home-care order's UUID (F0)
# A self-check's vital sign: `<check UUID>-<vital>` (one check measures up to four).
SID_SELF_CHECK_VITAL: Final = f"{NAMESPACE}/sid/self-check-vital"
SID_CERTIFICATE: Final = f"{NAMESPACE}/sid/certificate"  # an issued certificate's UUID
SID_UVCI: Final = f"{NAMESPACE}/sid/dcc-uvci"  # the EU DCC unique certificate identifier
SID_LAB: Final = f"{NAMESPACE}/sid/lab-code"
SID_SITE: Final = f"{NAMESPACE}/sid/site"  # a sampling or vaccination site's UUID
# Administrative units: the General Statistics Office's codes (Quyết định 124/2004/QĐ-TTg).
SID_ADMIN_UNIT: Final = f"{NAMESPACE}/sid/vn-admin-unit"
EXT_ADDRESS_COMMUNE: Final = f"{NAMESPACE}/StructureDefinition/address-commune"
EXT_POOL_SIZE: Final = f"{NAMESPACE}/StructureDefinition/specimen-pool-size"
# The eHealth Network's DCC value sets (vaccines-covid-19-names, -auth-holders).
CS_DCC_PRODUCT: Final = f"{NAMESPACE}/CodeSystem/ehn-dcc-vaccine-product"
CS_DCC_MANUFACTURER: Final = f"{NAMESPACE}/CodeSystem/ehn-dcc-manufacturer"
# The three kinds of EU DCC (the payload's v/t/r groups).
CS_DCC_TYPE: Final = f"{NAMESPACE}/CodeSystem/dcc-type"
DCC_TYPE_DISPLAY: Final = {
    "v": "EU Digital COVID Certificate: vaccination",
    "t": "EU Digital COVID Certificate: test",
    "r": "EU Digital COVID Certificate: recovery",
}

ID_SYSTEMS: Final = {"cccd": SID_CCCD, "cmnd": SID_CMND, "passport": SID_PASSPORT}

# HL7 and external terminologies --------------------------------------------------------
V2_0203: Final = "http://terminology.hl7.org/CodeSystem/v2-0203"
OBSERVATION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
V2_0443: Final = "http://terminology.hl7.org/CodeSystem/v2-0443"
V2_0074: Final = "http://terminology.hl7.org/CodeSystem/v2-0074"
ORGANIZATION_TYPE: Final = "http://terminology.hl7.org/CodeSystem/organization-type"
CONDITION_CLINICAL: Final = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION: Final = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/condition-category"
LOINC: Final = "http://loinc.org"
UCUM: Final = "http://unitsofmeasure.org"
SNOMED: Final = "http://snomed.info/sct"
CVX: Final = "http://hl7.org/fhir/sid/cvx"
ATC: Final = "http://www.whocc.no/atc"
ISO_COUNTRY: Final = "urn:iso:std:iso:3166"

# v2-0203 identifier types of each identity document.
ID_TYPE_CODES: Final = {
    "cccd": ("NI", "National unique individual identifier"),
    "cmnd": ("NI", "National unique individual identifier"),
    "passport": ("PPN", "Passport number"),
}

# LOINC: the test that produced a result.
LOINC_PCR: Final = (
    "94500-6",
    "SARS-CoV-2 (COVID-19) RNA [Presence] in Respiratory specimen by NAA with probe detection",
)
LOINC_ANTIGEN: Final = (
    "94558-4",
    "SARS-CoV-2 (COVID-19) Ag [Presence] in Respiratory specimen by Rapid immunoassay",
)
LOINC_BY_TEST_TYPE: Final = {"pcr": LOINC_PCR, "rapid": LOINC_ANTIGEN}
LOINC_VACCINATION_HISTORY: Final = ("11369-6", "History of Immunization Narrative")

# Vital signs of a home-care self-check (the FHIR R4 vital-signs profiles): the check's
# field, the id suffix, the LOINC codes (the first is the profile's required one), and the
# UCUM unit (code, display).
VITAL_SIGNS_PROFILE: Final = "http://hl7.org/fhir/StructureDefinition/vitalsigns"
VITALS: Final = {
    "temp": (
        "temperature",
        (("8310-5", "Body temperature"),),
        ("Cel", "°C"),
        "http://hl7.org/fhir/StructureDefinition/bodytemp",
    ),
    "spo2": (
        "spo2",
        (
            ("2708-6", "Oxygen saturation in Arterial blood"),
            ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"),
        ),
        ("%", "%"),
        "http://hl7.org/fhir/StructureDefinition/oxygensat",
    ),
    "pulse": (
        "pulse",
        (("8867-4", "Heart rate"),),
        ("/min", "beats/minute"),
        "http://hl7.org/fhir/StructureDefinition/heartrate",
    ),
    "resp": (
        "breathing_rate",
        (("9279-1", "Respiratory rate"),),
        ("/min", "breaths/minute"),
        "http://hl7.org/fhir/StructureDefinition/resprate",
    ),
}
# The self-check's warning sign that marks each vital as outside its range, and how.
VITAL_WARNINGS: Final = {
    "temp": ("temperature_high", ("H", "High")),
    "spo2": ("spo2_low", ("L", "Low")),
    "pulse": ("pulse_abnormal", ("A", "Abnormal")),
    "resp": ("breathing_fast", ("H", "High")),
}

# SNOMED CT qualifier values of the outcome (the DCC test-result value set uses the first two).
SCT_DETECTED: Final = ("260373001", "Detected")
SCT_NOT_DETECTED: Final = ("260415000", "Not detected")
SCT_UNSATISFACTORY: Final = ("125154007", "Specimen unsatisfactory for evaluation")
SCT_NASOPHARYNGEAL_SWAB: Final = ("258500001", "Nasopharyngeal swab")
SCT_COVID19: Final = (
    "840539006",
    "Disease caused by severe acute respiratory syndrome coronavirus 2",
)

# DCC vp codes (SNOMED CT, or the ATC code J07BX03) and their display.
PROPHYLAXIS_DISPLAY: Final = {
    "1119349007": "SARS-CoV-2 mRNA vaccine",
    "1119305005": "SARS-CoV-2 antigen vaccine",
    "29061000087103": "COVID-19 non-replicating viral vector vaccine",
    "1157024006": "Inactivated whole SARS-CoV-2 antigen vaccine",
    "28531000087107": "COVID-19 vaccine",
    "J07BX03": "covid-19 vaccines",
}

# CVX codes of the vaccines in use, by the vaccine's short code (CDC's CVX table); a
# vaccine without a CVX code (Abdala) is coded by SNOMED CT and the DCC product only.
CVX_BY_VACCINE: Final = {
    "pfizer": ("208", "COVID-19, mRNA, LNP-S, PF, 30 mcg/0.3 mL dose"),
    "moderna": ("207", "COVID-19, mRNA, LNP-S, PF, 100 mcg/0.5mL dose or 50 mcg/0.25mL dose"),
    "astrazeneca": ("210", "COVID-19 vaccine, vector-nr, rS-ChAdOx1, PF, 0.5 mL"),
    "janssen": ("212", "COVID-19 vaccine, vector-nr, rS-Ad26, PF, 0.5 mL"),
    "sinopharm": ("510", "COVID-19 IV Non-US Vaccine (BIBP, Sinopharm)"),
    "hayat-vax": ("510", "COVID-19 IV Non-US Vaccine (BIBP, Sinopharm)"),
    "sputnik-v": ("505", "COVID-19 VVnr Non-US Vaccine (Sputnik V)"),
}

# Our test outcomes → (SNOMED value, v2-0078 interpretation).
OUTCOME_VALUES: Final = {
    "negative": (SCT_NOT_DETECTED, ("N", "Normal")),
    "positive": (SCT_DETECTED, ("POS", "Positive")),
    "pool_positive": (SCT_DETECTED, ("POS", "Positive")),
    "invalid": (SCT_UNSATISFACTORY, None),
}
V3_INTERPRETATION: Final = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
