"""One name, one schema: the OpenAPI document keeps one component per name, so two API
schemas of the same name in two modules make one of them document the other's answer
(Schemathesis found the result verifier documented as the certificate verifier's)."""

from __future__ import annotations

from collections import defaultdict


def _subclasses(cls: type) -> list[type]:
    found: list[type] = []
    sub: type
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return found


def test_no_two_api_schemas_share_a_name() -> None:
    from ninja import Schema

    import covidhub.api.main  # noqa: F401  (every router, so every schema, is imported)

    modules: dict[str, set[str]] = defaultdict(set)
    for schema in _subclasses(Schema):
        if schema.__module__.startswith("covidhub."):
            modules[schema.__name__].add(schema.__module__)
    assert {name: found for name, found in modules.items() if len(found) > 1} == {}


def test_the_result_verifier_documents_its_own_answer() -> None:
    from covidhub.api.main import api

    document = api.get_openapi_schema()
    operation = document["paths"]["/api/v1/testing/verify/{token}"]["get"]
    answer = operation["responses"].get(200) or operation["responses"]["200"]
    ref = answer["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert "uvci" not in schema["properties"]
