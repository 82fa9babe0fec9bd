"""Schemathesis over the whole API (its OpenAPI document), as every role: anonymous, a
citizen (bearer token) and each staff role (a TOTP-verified session).

Every generated request — valid data and deliberately invalid data — goes through the
WSGI application in this process, once per role, and must: never be a server error; have
a body that conforms to the schema for each documented status; and, for invalid data, be
rejected (4xx). Bounded for CI: a few examples per operation (COVIDHUB_SCHEMATHESIS_EXAMPLES),
no shrinking, no deadline; the personas are made once for the module, and invalid data goes
as one staff role per operation (`roles_for`). Runs on PostgreSQL (where a NUL or an
out-of-range integer reaches the database), as its own step of scripts/check, as every role.
"""

from __future__ import annotations

import os
import zlib
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    response_schema_conformance,
)

pytestmark = [pytest.mark.postgres, pytest.mark.schemathesis]

EXAMPLES = int(os.environ.get("COVIDHUB_SCHEMATHESIS_EXAMPLES", "3"))
CHECKS = [not_a_server_error, response_schema_conformance, negative_data_rejection]
ROLES = (
    "sampler",
    "lab_technician",
    "vaccinator",
    "site_manager",
    "commune_officer",
    "district_officer",
    "province_officer",
    "agency_head",
    "portal_editor",
    "administrator",
)


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Any:
    """The WSGI handler closes the database connection when a request finishes; the test
    client does not (it disconnects the same signal), and neither may we: the request runs
    inside this test's transaction."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def _personas(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """The areas, a citizen and one account per staff role with their headers, made once
    for the whole module (not once per operation, which cost more than the requests) inside
    a transaction that is rolled back at its end. Each test's own transaction nests in it
    (a savepoint), so whatever a request writes is undone after its operation."""
    from django.db import transaction

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _personas_build()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _personas_build() -> dict[str, dict[str, str]]:
    import uuid

    from conftest import area_tree_build, auth_headers_build, staff_build
    from covidhub.accounts.models import User
    from covidhub.people.services import person_create
    from covidhub.people.validation import person_input_clean

    tree = area_tree_build()
    citizen = User(username="c-schemathesis", phone="+84912345678", kind=User.Kind.CITIZEN)
    citizen.set_unusable_password()
    citizen.save()
    person_create(
        actor=None,
        data=person_input_clean(
            {
                "full_name": "Nguyễn Văn Thử",
                "birth": "15/03/1985",
                "sex": "M",
                "commune": tree["commune"],
            }
        ),
        managed_by=citizen,
        relationship="self",
    )
    headers: dict[str, dict[str, str]] = {
        "anonymous": {},
        "citizen": auth_headers_build(citizen),
    }
    for role in ROLES:
        if role in _UNIT:
            user = staff_build(f"s-{role}", role, unit_kind=_UNIT[role], unit_uuid=uuid.uuid4())
        else:
            level = {"commune_officer": "commune", "district_officer": "district"}.get(
                role, "province"
            )
            user = staff_build(f"s-{role}", role, tree[level])
        headers[role] = auth_headers_build(user)
    return headers


@pytest.fixture
def role_headers(_personas: dict[str, dict[str, str]], db: None) -> dict[str, dict[str, str]]:
    return _personas


_UNIT = {
    "sampler": "site",
    "lab_technician": "lab",
    "vaccinator": "vaccination_site",
    "site_manager": "vaccination_site",
    "agency_head": "agency",
}


def _schema() -> Any:
    from config.wsgi import application
    from covidhub.api.main import api

    loaded = schemathesis.openapi.from_dict(api.get_openapi_schema())
    loaded.app = application
    loaded.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=EXAMPLES,
        no_shrink=True,
    )
    return loaded


schema = _schema()


@schema.parametrize()
@hypothesis_settings(
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
def test_api_as_every_role(case: Any, role_headers: dict[str, dict[str, str]]) -> None:
    only = {r for r in os.environ.get("COVIDHUB_SCHEMATHESIS_ROLES", "").split(",") if r}
    for role in roles_for(case):
        if not only or role in only:
            case.call_and_validate(headers=role_headers[role], checks=CHECKS)


def roles_for(case: Any) -> list[str]:
    """Valid data goes as every role: what an answer holds, and whether a scoped look-up
    holds up, depends on the role. Invalid data is refused by the API layer's validation
    before any role-dependent code (authentication first, then the body and parameters), so
    it goes as anonymous, the citizen and one staff role, a different one for each
    operation: every staff role still meets invalid data, in a tenth of the requests."""
    meta = case.meta
    if meta is None or meta.generation.mode != GenerationMode.NEGATIVE:
        return ["anonymous", "citizen", *ROLES]
    label = f"{case.operation.method.upper()} {case.operation.path}"
    staff = ROLES[zlib.crc32(label.encode()) % len(ROLES)]
    return ["anonymous", "citizen", staff]
