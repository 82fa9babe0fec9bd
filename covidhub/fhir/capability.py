"""The CapabilityStatement: exactly what this server supports, built from the same tables
the views dispatch on, so that it cannot claim a parameter the search refuses."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from covidhub.fhir.selectors import CLINICAL

FHIR_VERSION = "4.0.1"
SOFTWARE_VERSION = "1.0.0"
_PARAM_TYPES = {
    "_id": "token",
    "identifier": "token",
    "name": "string",
    "gender": "token",
    "birthdate": "date",
    "_lastUpdated": "date",
    "patient": "reference",
    "subject": "reference",
    "date": "date",
    "collected": "date",
    "code": "token",
    "onset-date": "date",
    "clinical-status": "token",
}
EXPORT_TYPES = (
    "Patient",
    "Immunization",
    "Observation",
    "DiagnosticReport",
    "Specimen",
    "Condition",
)


def capability_statement(*, base_url: str) -> dict[str, Any]:
    resources: list[dict[str, Any]] = []
    for name, sources in CLINICAL.items():
        spec = sources[0]  # every source of a type takes the same parameters
        entry: dict[str, Any] = {
            "type": name,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [{"name": param, "type": _PARAM_TYPES[param]} for param in spec.params],
        }
        if name == "Patient":
            entry["operation"] = [
                {
                    "name": "everything",
                    "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                },
                {
                    "name": "export",
                    "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export",
                },
            ]
        resources.append(entry)
    for name in ("Organization", "Location"):
        resources.append(
            {
                "type": name,
                "interaction": [{"code": "read"}, {"code": "search-type"}],
                "searchParam": [
                    {"name": "_id", "type": "token"},
                    {"name": "name", "type": "string"},
                ],
            }
        )
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-12-06",
        "publisher": settings.PLATFORM_NAME,
        "kind": "instance",
        "software": {"name": "covidhub", "version": SOFTWARE_VERSION},
        "implementation": {"description": settings.PLATFORM_NAME, "url": base_url},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Read-only. Paging with _count (at most 200) and the Bundle's next link. "
                    "Citizens see their household, staff the people of their areas, machine "
                    "clients the areas they were granted; anything else is 404."
                ),
                "security": {
                    "cors": False,
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "OAuth",
                                }
                            ]
                        }
                    ],
                    "description": (
                        "A bearer token (Authorization: Bearer …) or a signed-in session."
                    ),
                },
                "resource": resources,
                "operation": [
                    {
                        "name": "export",
                        "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
                    }
                ],
            }
        ],
    }
