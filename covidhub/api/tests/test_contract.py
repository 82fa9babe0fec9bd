"""The OpenAPI document is the contract: what it says is what each endpoint does.

A newcomer's client built from /api/v1/openapi.json found ~13 operations documented with
another module's body (two schemas of one name: the document keeps one), free strings
where the values are a fixed set, lists in three shapes, and unknown fields silently
ignored. Each test here reads the operations Ninja actually runs and compares them with
the document.
"""

from __future__ import annotations

import enum
import typing
import uuid
from collections import defaultdict
from typing import Any

import pytest
from ninja.openapi.schema import REF_TEMPLATE
from ninja.schema import NinjaGenerateJsonSchema
from pydantic import BaseModel

from covidhub.core.api_base import BodyIn

BODY_SOURCES = ("body",)


def _operations() -> list[tuple[str, str, Any]]:
    from covidhub.api.main import api

    found = []
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    found.append((method, f"{prefix}{path}", operation))
    return found


def _document() -> dict[str, Any]:
    from covidhub.api.main import api

    return api.get_openapi_schema()  # type: ignore[no-any-return]


def _document_path(document: dict[str, Any], method: str, ninja_path: str) -> dict[str, Any]:
    # Ninja writes "{uuid:x}" as "{x}" in the document.
    import re

    path = "/api/v1" + re.sub(r"{\w+:(\w+)}", r"{\1}", "/" + ninja_path.lstrip("/"))
    path = path.replace("//", "/")
    return document["paths"][path][method.lower()]  # type: ignore[no-any-return]


def _classes(annotation: Any, found: dict[str, set[type]]) -> None:
    """Every model and enumeration an annotation reaches, by the name the document uses."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in found[annotation.__name__]:
            return
        found[annotation.__name__].add(annotation)
        for field in annotation.model_fields.values():
            _classes(field.annotation, found)
    elif isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        found[annotation.__name__].add(annotation)
    for argument in typing.get_args(annotation):
        _classes(argument, found)


def _models(operation: Any) -> list[tuple[type[BaseModel], str]]:
    """(model, JSON-schema mode) of each body and answer of an operation."""
    models: list[tuple[type[BaseModel], str]] = [
        (model, "validation")
        for model in operation.models
        if model.__ninja_param_source__ in BODY_SOURCES
    ]
    models += [
        (model, "serialization")
        for model in operation.response_models.values()
        if isinstance(model, type) and issubclass(model, BaseModel)
    ]
    return models


def _shape(cls: type) -> str:
    import json

    if issubclass(cls, BaseModel):
        return json.dumps(
            cls.model_json_schema(schema_generator=NinjaGenerateJsonSchema), sort_keys=True
        )
    return json.dumps(sorted(str(member.value) for member in cls))  # type: ignore[attr-defined]


def test_every_component_name_is_one_schema() -> None:
    """Two classes may share a name only if they are the same schema (Ninja makes one
    `Paged…` class per list operation); otherwise the document shows one for both."""
    names: dict[str, set[type]] = defaultdict(set)
    for _method, _path, operation in _operations():
        models = [model for model, _mode in _models(operation)] + list(operation.models)
        for model in models:
            for field in model.model_fields.values():
                _classes(field.annotation, names)
    shared = {
        name: sorted(f"{cls.__module__}.{cls.__qualname__}" for cls in classes)
        for name, classes in names.items()
        if len({_shape(cls) for cls in classes}) > 1
    }
    assert shared == {}


def test_every_documented_body_and_answer_is_the_endpoints_own() -> None:
    """For each operation: the request body the document shows is the schema of the class
    the endpoint validates with, and each component it reaches is that class's own."""
    document = _document()
    components = document["components"]["schemas"]
    wrong: list[str] = []
    checked_bodies = 0
    for method, path, operation in _operations():
        documented = _document_path(document, method, path)
        for model, mode in _models(operation):
            schema = model.model_json_schema(
                ref_template=REF_TEMPLATE, schema_generator=NinjaGenerateJsonSchema, mode=mode
            )
            for name, definition in schema.get("$defs", {}).items():
                if components.get(name) != definition:
                    wrong.append(f"{method} {path}: component {name} is another schema")
            if mode == "validation" and getattr(model, "__ninja_param_source__", None) == "body":
                (field,) = schema["properties"].values()
                body = documented["requestBody"]["content"]["application/json"]["schema"]
                if body != field:
                    wrong.append(f"{method} {path}: body documented as {body}, takes {field}")
                checked_bodies += 1
    assert wrong == []
    assert checked_bodies > 60


def test_the_venue_scan_documents_a_token_and_testing_sessions_their_own_fields() -> None:
    """The two examples of the report: a client built from the document now sends what
    these endpoints take."""
    document = _document()
    components = document["components"]["schemas"]

    def body(path: str) -> dict[str, Any]:
        schema = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        return components[schema["schema"]["$ref"].rsplit("/", 1)[-1]]  # type: ignore[no-any-return]

    assert set(body("/api/v1/declarations/venues/{venue_uuid}/scan")["properties"]) == {"token"}
    session = body("/api/v1/testing/sessions")["properties"]
    assert "site_uuid" in session and "site" not in session


def test_every_request_body_refuses_unknown_fields() -> None:
    """Every model a body reaches derives from BodyIn (extra="forbid"), so its document
    says additionalProperties: false and an unknown field is a 422."""
    loose: set[str] = set()
    for _method, _path, operation in _operations():
        for model in operation.models:
            if model.__ninja_param_source__ not in BODY_SOURCES:
                continue
            reached: dict[str, set[type]] = defaultdict(set)
            for field in model.model_fields.values():
                _classes(field.annotation, reached)
            for classes in reached.values():
                loose |= {
                    cls.__qualname__
                    for cls in classes
                    if issubclass(cls, BaseModel) and not issubclass(cls, BodyIn)
                }
    assert loose == set()


def test_no_list_is_answered_bare() -> None:
    """Every list is one page of {items, count, next}; nothing answers a bare array but
    what a POST created (201: the check-ins of one scan, the invitations sent), which is
    bounded by its own request."""
    document = _document()
    components = document["components"]["schemas"]
    bare, pages = [], 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if not str(status).startswith("2") or str(status) == "201":
                    continue
                schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
                if schema.get("type") == "array":
                    bare.append(f"{method.upper()} {path}")
                ref = schema.get("$ref", "")
                if ref:
                    properties = components[ref.rsplit("/", 1)[-1]].get("properties", {})
                    if set(properties) == {"items", "count", "next"}:
                        pages += 1
                        names = {p["name"] for p in operation.get("parameters", [])}
                        assert {"limit", "offset"} <= names, path
    assert bare == []
    assert pages > 40


def _enum_of(components: dict[str, Any], schema_name: str, field: str) -> list[Any]:
    prop = components[schema_name]["properties"][field]
    if prop.get("type") == "array":
        prop = prop["items"]
    for branch in prop.get("anyOf", [prop]):
        if "enum" in branch:
            return branch["enum"]  # type: ignore[no-any-return]
    raise AssertionError(f"{schema_name}.{field} is a free string: {prop}")


@pytest.mark.parametrize(
    ("schema_name", "field", "expected"),
    [
        ("PersonIn", "sex", ["M", "F"]),
        ("PersonOut", "sex", ["M", "F"]),
        ("DeclarationIn", "symptoms", None),
        ("ScreeningIn", "outcome", ["vaccinate", "postpone", "refer"]),
        ("ScreeningOut", "outcome", ["vaccinate", "postpone", "refer"]),
        ("AppointmentOut", "status", ["booked", "cancelled", "collected"]),
        ("ResultOut", "outcome", None),
        ("BookingOut", "status", None),
        ("FollowUpOut", "status", ["open", "closed"]),
        ("DeclarationsCaseOut", "status", ["pending", "confirmed", "rejected"]),
        ("TestingCaseOut", "person_name", "free"),
        ("AefiOut", "severity", ["mild", "moderate", "serious"]),
        ("CampaignOut", "status", None),
        ("PeopleCorrectionOut", "status", None),
        ("CertificateStatusOut", "colour", ["green", "yellow", "red"]),
    ],
)
def test_fixed_sets_are_enumerations(schema_name: str, field: str, expected: Any) -> None:
    components = _document()["components"]["schemas"]
    if expected == "free":
        assert "enum" not in components[schema_name]["properties"][field]
        return
    values = _enum_of(components, schema_name, field)
    assert values
    if expected is not None:
        assert values == expected


def test_symptoms_are_the_declaration_forms_list() -> None:
    from covidhub.declarations.models import Symptom

    components = _document()["components"]["schemas"]
    assert _enum_of(components, "DeclarationIn", "symptoms") == list(Symptom.values)


def test_the_doubled_certificate_path_is_a_deprecated_alias() -> None:
    paths = _document()["paths"]
    assert "deprecated" not in paths["/api/v1/certificates/{certificate_uuid}"]["get"]
    assert paths["/api/v1/certificates/certificates/{certificate_uuid}"]["get"]["deprecated"]
    assert paths["/api/v1/certificates/certificates/{certificate_uuid}/pdf"]["get"]["deprecated"]
    assert "deprecated" not in paths["/api/v1/certificates/{certificate_uuid}/pdf"]["get"]


# Behaviour behind the document ---------------------------------------------------------


def test_an_unknown_field_is_refused_and_changes_nothing(citizen, login, area_tree) -> None:
    from covidhub.people.models import Person

    response = login(citizen).post(
        "/api/v1/household/self",
        {
            "full_name": "Nguyễn Văn Thừa",
            "birth": "1990-01-02",
            "sex": "M",
            "commune": area_tree["commune"].code,
            "is_admin": True,
        },
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 422
    assert response.json()["details"]["fields"] == {
        "is_admin": ["This field is not part of the request."]
    }
    assert not Person.objects.filter(full_name="Nguyễn Văn Thừa").exists()


def test_a_value_outside_an_enumeration_is_refused_before_anything_is_read(citizen, login) -> None:
    from covidhub.vaccination.models import AdverseEvent

    response = login(citizen).post(
        "/api/v1/vaccination/me/reactions",
        {
            "person_uuid": str(uuid.uuid4()),
            "severity": "fatal",
            "symptoms": "sốt",
            "onset_at": "2026-01-02T08:00:00+07:00",
        },
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 422
    assert response.json()["details"]["fields"] == {
        "severity": ["Choose one of the allowed values."]
    }
    assert not AdverseEvent.objects.exists()


def test_an_enumeration_the_service_cleans_is_refused_with_the_other_fields(
    citizen, login, area_tree
) -> None:
    """Sex is checked by the person's input cleaning, with every other field at once."""
    response = login(citizen).post(
        "/api/v1/household/self",
        {
            "full_name": "Nguyễn Văn Thừa",
            "birth": "1990",
            "sex": "X",
            "commune": "nowhere",
        },
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="vi",
    )
    assert response.status_code == 422
    assert set(response.json()["details"]["fields"]) == {"sex", "commune"}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/staff/people/not-a-uuid",
        "/api/v1/certificates/not-a-uuid",
        "/api/v1/certificates/certificates/not-a-uuid",
        "/api/v1/testing/labs/not-a-uuid/shipments",
        "/api/v1/no-such-thing",
    ],
)
def test_a_malformed_identifier_in_a_path_is_the_apis_json_404(
    path: str, province_admin, login
) -> None:
    response = login(province_admin).get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"code": "not_found", "message": "Not found.", "details": {}}


def test_a_page_names_the_next_one_until_the_last(citizen, login, make_person) -> None:
    """Seven people in the household, pages of three: 3 + 3 + 1, each `next` the one to
    follow."""
    for name in ("An", "Bình", "Chi", "Dũng", "Giang", "Hà"):
        make_person(full_name=f"Nguyễn {name}", managed_by=citizen, relationship="child")
    client = login(citizen)
    url: str | None = "/api/v1/household?limit=3"
    seen: list[str] = []
    counts = []
    while url:
        page = client.get(url).json()
        counts.append(len(page["items"]))
        seen += [item["uuid"] for item in page["items"]]
        assert page["count"] == 7
        url = page["next"]
    assert counts == [3, 3, 1]
    assert len(set(seen)) == 7
    assert all(uuid.UUID(value) for value in seen)


def test_a_page_beyond_the_limit_is_refused(citizen, login) -> None:
    response = login(citizen).get("/api/v1/household?limit=101")
    assert response.status_code == 422
    assert "limit" in response.json()["details"]["fields"]
