"""The race harness itself: real parallel requests reach the live server together."""

from __future__ import annotations

import pytest

from covidhub.core.testing import http_request, race

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.postgres
def test_parallel_requests_with_an_idempotency_key_create_one_person(
    live_server, citizen, auth_headers
):
    headers = {**auth_headers(citizen), "Idempotency-Key": "race-key-0001"}
    body = {
        "full_name": "Đinh Văn Đua",
        "birth": "2010",
        "sex": "M",
        "commune": "10507",
        "relationship": "child",
    }
    results = race(
        [
            lambda: http_request(
                "POST", f"{live_server.url}/api/v1/household", json=body, headers=headers
            )
            for _ in range(8)
        ],
        workers=8,
    )
    statuses = sorted(r.status for r in results)
    from covidhub.people.models import Person

    assert Person.objects.filter(full_name="Đinh Văn Đua").count() == 1
    assert set(statuses) <= {201, 409}
    assert statuses.count(201) >= 1
    created = {r.body["uuid"] for r in results if r.status == 201}
    assert len(created) == 1  # every success is the same person, replayed


def test_staff_headers_authenticate_with_csrf(
    live_server, commune_officer, citizen_person, auth_headers
):
    result = http_request(
        "GET",
        f"{live_server.url}/api/v1/staff/people/{citizen_person.uuid}",
        headers=auth_headers(commune_officer),
    )
    assert result.status == 200 and result.body["uuid"] == str(citizen_person.uuid)
    result = http_request(
        "POST",
        f"{live_server.url}/api/v1/staff/people/search",
        json={"q": "thu"},
        headers=auth_headers(commune_officer),
    )
    assert result.status == 200
