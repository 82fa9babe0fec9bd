"""Vaccine and country codes of the FHIR documents, mapped from the EU DCC value sets.

SMART Health Cards accept CVX, SNOMED CT or ICD-11 vaccine codes; the WHO DDCC uses
ICD-11 (chapter X, "XM" extension codes for vaccines). A product without a CVX code is
written with its ICD-11 platform code, and one without a known platform with the ICD-11
code for COVID-19 vaccines in general: never with a guessed product code.
"""

from __future__ import annotations

from typing import Final

CVX_SYSTEM: Final = "http://hl7.org/fhir/sid/cvx"
ICD11_SYSTEM: Final = "http://id.who.int/icd11/mms"
SNOMED_SYSTEM: Final = "http://snomed.info/sct"
LOINC_SYSTEM: Final = "http://loinc.org"
EU_PRODUCT_SYSTEM: Final = "https://ec.europa.eu/health/documents/community-register/html/"
EMA_ORGANISATION_SYSTEM: Final = "https://spor.ema.europa.eu/v1/organisations"

ICD11_COVID_19: Final = "RA01"
ICD11_COVID_19_VACCINES: Final = "XM68M6"
ICD11_RNA: Final = "XM0GQ8"
ICD11_NON_REPLICATING_VECTOR: Final = "XM9QW8"
ICD11_INACTIVATED: Final = "XM1NL1"
ICD11_PROTEIN_SUBUNIT: Final = "XM5JC5"

# EU DCC medicinal product (`mp`) → CVX.
PRODUCT_CVX: Final[dict[str, str]] = {
    "EU/1/20/1528": "208",  # Comirnaty (Pfizer-BioNTech)
    "EU/1/20/1507": "207",  # Spikevax (Moderna)
    "EU/1/21/1529": "210",  # Vaxzevria (AstraZeneca)
    "EU/1/20/1525": "212",  # Jcovden (Janssen)
    "EU/1/21/1618": "211",  # Nuvaxovid (Novavax)
    "Covaxin": "502",
    "Sputnik-Light": "504",
    "Sputnik-V": "505",
    "Convidecia": "506",
    "BBIBP-CorV": "510",
    "CoronaVac": "511",
}

# EU DCC medicinal product → ICD-11 vaccine platform.
PRODUCT_ICD11: Final[dict[str, str]] = {
    "EU/1/20/1528": ICD11_RNA,
    "EU/1/20/1507": ICD11_RNA,
    "EU/1/21/1529": ICD11_NON_REPLICATING_VECTOR,
    "Covishield": ICD11_NON_REPLICATING_VECTOR,
    "EU/1/20/1525": ICD11_NON_REPLICATING_VECTOR,
    "Sputnik-V": ICD11_NON_REPLICATING_VECTOR,
    "Sputnik-Light": ICD11_NON_REPLICATING_VECTOR,
    "Convidecia": ICD11_NON_REPLICATING_VECTOR,
    "BBIBP-CorV": ICD11_INACTIVATED,
    "WIBP-CorV": ICD11_INACTIVATED,
    "CoronaVac": ICD11_INACTIVATED,
    "Covaxin": ICD11_INACTIVATED,
    "VLA2001": ICD11_INACTIVATED,
    "EU/1/21/1624": ICD11_INACTIVATED,
    "EU/1/21/1618": ICD11_PROTEIN_SUBUNIT,
    "Covovax": ICD11_PROTEIN_SUBUNIT,
    "EU/1/22/1709": ICD11_PROTEIN_SUBUNIT,
    "EU/1/21/1580": ICD11_PROTEIN_SUBUNIT,
}

# ISO 3166-1 alpha-2 (DCC `co`) → alpha-3 (DDCC country of vaccination, preferred).
COUNTRY_ALPHA3: Final[dict[str, str]] = {
    "VN": "VNM",
    "LA": "LAO",
    "KH": "KHM",
    "CN": "CHN",
    "TH": "THA",
}


def vaccine_coding_shc(product: str) -> dict[str, str]:
    """The one coding a SMART Health Card carries for a product: CVX, else ICD-11."""
    cvx = PRODUCT_CVX.get(product)
    if cvx:
        return {"system": CVX_SYSTEM, "code": cvx}
    return {"system": ICD11_SYSTEM, "code": PRODUCT_ICD11.get(product, ICD11_COVID_19_VACCINES)}


def vaccine_icd11(product: str) -> str:
    return PRODUCT_ICD11.get(product, ICD11_COVID_19_VACCINES)


def country_alpha3(code: str) -> str:
    return COUNTRY_ALPHA3.get(code.upper(), code.upper())
