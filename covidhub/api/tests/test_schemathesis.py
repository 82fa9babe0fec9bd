"""Schemathesis over the whole API (its OpenAPI document), as every role: anonymous, a
citizen (bearer token) and each staff role (a TOTP-verified session).

Every generated request — valid data and deliberately invalid data — goes through the
WSGI application in this process, once per role, and must: never be a server error; have
a body that conforms to the schema for each documented status; and, for invalid data, be
rejected (4xx). Bounded for CI: a few examples per operation (COVIDHUB_SCHEMATHESIS_EXAMPLES),
no shrinking, no deadline. Runs on PostgreSQL (where a NUL or an out-of-range integer
reaches the database), as its own step of scripts/check.
"""

from __future__ import annotations

import os
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


@pytest.fixture
def role_headers(
    area_tree: dict[str, Any], make_staff: Any, citizen: Any, auth_headers: Any
) -> Any:
    """Headers per role, made once per operation (the personas' sessions and token)."""
    headers: dict[str, dict[str, str]] = {"anonymous": {}, "citizen": auth_headers(citizen)}
    for role in ROLES:
        if role in ("sampler", "lab_technician", "vaccinator", "site_manager", "agency_head"):
            user = make_staff(f"s-{role}", role, unit_kind=_UNIT[role], unit_uuid=_unit(role))
        else:
            level = "commune" if role == "commune_officer" else "province"
            level = "district" if role == "district_officer" else level
            user = make_staff(f"s-{role}", role, area_tree[level])
        headers[role] = auth_headers(user)
    return headers


_UNIT = {
    "sampler": "site",
    "lab_technician": "lab",
    "vaccinator": "vaccination_site",
    "site_manager": "vaccination_site",
    "agency_head": "agency",
}


def _unit(role: str) -> Any:
    import uuid

    return uuid.uuid4()


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
    for role, headers in role_headers.items():
        if not only or role in only:
            case.call_and_validate(headers=headers, checks=CHECKS)
