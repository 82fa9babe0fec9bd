"""The access matrix: every route that takes an object id (from the URLconf and from the
OpenAPI document) × every role × every placement of the object relative to the actor
(own, another citizen's in the same commune, the neighbouring commune, another district).

Beyond an actor's reach the answer is 404 and carries none of the object's identifying
bytes (name, CCCD, phone, UUID); within it, the roles of the table are served (the
control that proves the object was really built and really addressed). The table lives
in `access_table.py`; a route without an entry fails the first test.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from covidhub.api.tests.access_table import API, PAGES, Entry, Exempt
from covidhub.api.tests.access_world import (
    PLACEMENTS,
    REACH,
    ROLES,
    Target,
    World,
    target,
    world_build,
)

API_PREFIX = "/api/v1"
# Not object routes of this platform: Django's admin has its own permission model (and
# its own tests in accounts), the API is enumerated from its OpenAPI document instead.
SKIPPED_PREFIXES = ("api/v1/", "admin/")
# Values for path parameters that are not the object's id.
EXTRA_KWARGS = {"size": "a4"}
DENIED_OTHER_KIND = {302, 401, 403, 404}


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def page_routes() -> set[str]:
    """Every page route with a parameter (a converter or a named group)."""
    return {
        route
        for route in _walk(get_resolver().url_patterns)
        if ("<" in route or "(?P" in route) and not route.startswith(SKIPPED_PREFIXES)
    }


@functools.cache
def _openapi() -> dict[str, Any]:
    from covidhub.api.main import api

    return api.get_openapi_schema()  # type: ignore[no-any-return]


def api_routes() -> dict[str, dict[str, Any]]:
    """Every API operation with a path parameter, keyed "METHOD /path"."""
    found: dict[str, dict[str, Any]] = {}
    for path, operations in _openapi()["paths"].items():
        for method, operation in operations.items():
            if any(p["in"] == "path" for p in operation.get("parameters", [])):
                found[f"{method.upper()} {path.removeprefix(API_PREFIX)}"] = operation
    return found


def _who(operation: dict[str, Any]) -> str:
    """The kind of account an operation serves, from its security schemes."""
    schemes = {name for item in operation.get("security", []) for name in item}
    # Staff: a session, or the bearer tokens of staff apps and machine clients.
    if "StaffSession" in schemes and schemes <= {"StaffSession", "StaffToken", "ClientBearer"}:
        return "staff"
    if schemes == {"CitizenToken", "CitizenSession"}:
        return "citizen"
    return "any"


def test_every_route_with_an_id_has_an_entry() -> None:
    pages, api = page_routes(), set(api_routes())
    assert sorted(pages - set(PAGES)) == [], "page routes missing from access_table.PAGES"
    assert sorted(set(PAGES) - pages) == [], "stale entries in access_table.PAGES"
    assert sorted(api - set(API)) == [], "API routes missing from access_table.API"
    assert sorted(set(API) - api) == [], "stale entries in access_table.API"


# --- building requests ------------------------------------------------------------------


def _example(schema: dict[str, Any], components: dict[str, Any], depth: int = 0) -> Any:
    """A small value that satisfies `schema`: what gets a request past validation to the
    object look-up."""
    if "$ref" in schema:
        return _example(components[schema["$ref"].rsplit("/", 1)[-1]], components, depth)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return _example(options[0], components, depth)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {
            name: _example(sub, components, depth + 1)
            for name, sub in schema.get("properties", {}).items()
            if name in schema.get("required", [])
        }
    if kind == "array":
        return [_example(schema.get("items", {}), components, depth + 1)] * max(
            1, schema.get("minItems", 0)
        )
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 1
    if kind == "boolean":
        return False
    if schema.get("format") == "uuid":
        return str(uuid.uuid4())
    if schema.get("format") == "date":
        return "2021-09-01"
    if schema.get("format") == "date-time":
        return "2021-09-01T08:00:00+07:00"
    return "x" * max(1, schema.get("minLength", 1))


def _api_call(client: Client, key: str, operation: dict[str, Any], aim: Target) -> Any:
    method, path = key.split(" ", 1)
    url = API_PREFIX + path.format(**aim.kwargs)
    body = operation.get("requestBody", {}).get("content", {})
    components = _openapi().get("components", {}).get("schemas", {})
    entry = API[key]
    if "application/json" in body:
        data = _example(body["application/json"]["schema"], components)
        if isinstance(entry, Entry) and entry.body is not None:
            data = {**data, **entry.body}
        data = {**data, **aim.body}
        return client.generic(method, url, data=json.dumps(data), content_type="application/json")
    if "multipart/form-data" in body:
        from django.core.files.uploadedfile import SimpleUploadedFile

        schema = body["multipart/form-data"]["schema"]
        schema = components.get(schema.get("$ref", "").rsplit("/", 1)[-1], schema)
        form: dict[str, Any] = {}
        for name, sub in schema.get("properties", {}).items():
            if sub.get("format") == "binary":
                form[name] = SimpleUploadedFile("a.csv", b"a,b\n1,2\n", content_type="text/csv")
            elif name in schema.get("required", []):
                form[name] = _example(sub, components)
        return client.post(url, data=form)
    return client.generic(method, url)


def _page_call(client: Client, route: str, entry: Entry, aim: Target) -> Any:
    url = "/" + route
    for name, value in {**EXTRA_KWARGS, **aim.kwargs}.items():
        for converter in ("uuid", "str", "int", "slug", "path"):
            url = url.replace(f"<{converter}:{name}>", value)
    if entry.method == "POST":
        return client.post(url, data={})
    return client.get(url)


# --- the matrix -------------------------------------------------------------------------


@pytest.fixture
def world(two_provinces: dict[str, Any], make_staff: Any) -> World:
    return world_build(tree=two_provinces, make_staff=make_staff)


def _sees(entry: Entry) -> frozenset[str]:
    """The table's roles, and a national role wherever a role it implies is there (it holds
    that role in every served province: NATIONAL_ROLES)."""
    from covidhub.accounts.models import NATIONAL_ROLES

    extra = {role for role, implied in NATIONAL_ROLES.items() if entry.sees.intersection(implied)}
    return entry.sees | extra


def _clients(world: World) -> dict[str, Client]:
    from conftest import _verified_client

    return {role: _verified_client(user) for role, user in world.actors.items()}


def _check(world: World, entry: Entry, call: Any) -> list[str]:
    """Every role × placement; the list of what went wrong."""
    targets = {p: target(world, entry.kind, p) for p in PLACEMENTS}
    problems: list[str] = []
    for role, client in _clients(world).items():
        reach = REACH[ROLES[role]]
        for placement in PLACEMENTS:
            aim = targets[placement]
            allowed = role in _sees(entry) and (entry.province_wide or placement in reach)
            if entry.own_only:
                allowed = allowed and placement == "own"
            savepoint = transaction.savepoint_create()
            try:
                response = call(client, aim)
            finally:
                transaction.savepoint_rollback(savepoint)
            status = response.status_code
            where = f"{role} → {placement}: {status}"
            if allowed:
                refused = (401, 403, 405) if entry.loose else (401, 403, 404, 405)
                if status in refused or status >= 500:
                    problems.append(f"{where} (should be served)")
                continue
            other_kind = (entry.who == "citizen" and role != "citizen") or (
                entry.who == "staff" and role == "citizen"
            )
            expected = DENIED_OTHER_KIND if other_kind else {404}
            if entry.loose:
                expected = expected | {422}
            if status not in expected:
                problems.append(f"{where} (should be 404)")
            body = b"".join(response) if response.streaming else response.content
            for secret in aim.secrets:
                if secret.encode() in body:
                    problems.append(f"{where} leaks {secret!r}")
    return problems


PAGE_ENTRIES = sorted(k for k, v in PAGES.items() if isinstance(v, Entry))
API_ENTRIES = sorted(k for k, v in API.items() if isinstance(v, Entry))


@pytest.mark.parametrize("route", PAGE_ENTRIES)
def test_page_access(route: str, world: World) -> None:
    entry = PAGES[route]
    assert isinstance(entry, Entry)
    problems = _check(world, entry, lambda c, aim: _page_call(c, route, entry, aim))
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("route", API_ENTRIES)
def test_api_access(route: str, world: World) -> None:
    entry = API[route]
    assert isinstance(entry, Entry)
    operation = api_routes()[route]
    entry = dataclasses.replace(entry, who=_who(operation))
    problems = _check(world, entry, lambda c, aim: _api_call(c, route, operation, aim))
    assert problems == [], "\n".join(problems)


def test_exempt_routes_say_why() -> None:
    for table in (PAGES, API):
        for route, entry in table.items():
            if isinstance(entry, Exempt):
                assert len(entry.reason) > 20, route
