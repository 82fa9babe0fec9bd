"""Two technicians record the same tube at the same moment (real parallel requests on
PostgreSQL): one succeeds, the other gets a clear conflict. The control run removes the
tube lock and shows that the same race then breaks the rule, so the test can fail."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest

from covidhub.core.testing import HttpResult, http_request, race
from covidhub.testing import results
from covidhub.testing.models import Result, TubeResult

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 6


def _race_rounds(
    live_server: Any, auth_headers: Any, technicians: list[Any], lab: Any, tubes: list[Any]
) -> list[list[int]]:
    headers = [auth_headers(t) for t in technicians]
    url = f"{live_server.url}/api/v1/testing/labs/{lab.uuid}/results"
    outcomes = []
    for tube in tubes:
        calls: list[Callable[[], HttpResult]] = [
            functools.partial(
                http_request, "POST", url, json={"barcode": tube.barcode, "value": v}, headers=h
            )
            for h, v in zip(headers, ["negative", "positive"], strict=True)
        ]
        replies = race(calls, workers=2)
        for reply in replies:
            if reply.status == 409:
                assert reply.body["code"] == "result_already_recorded"
                assert reply.body["message"]
        outcomes.append(sorted(r.status for r in replies))
    return outcomes


@pytest.fixture
def tubes(make_person: Any, collected_tube: Any) -> list[Any]:
    return [
        collected_tube([make_person(full_name=f"Người {c}{d}") for d in "XY"])
        for c in "ABCDEFGH"[:ROUNDS]
    ]


def test_same_tube_recorded_once_the_other_gets_a_conflict(
    live_server: Any,
    auth_headers: Any,
    technician: Any,
    technician2: Any,
    lab: Any,
    tubes: list[Any],
) -> None:
    outcomes = _race_rounds(live_server, auth_headers, [technician, technician2], lab, tubes)
    assert outcomes == [[201, 409]] * ROUNDS
    assert TubeResult.objects.count() == ROUNDS
    assert Result.objects.count() == 2 * ROUNDS


def test_control_without_the_lock_the_race_breaks_the_rule(
    live_server: Any,
    auth_headers: Any,
    technician: Any,
    technician2: Any,
    lab: Any,
    tubes: list[Any],
    monkeypatch: Any,
) -> None:
    monkeypatch.setattr(results, "LOCK_TUBES", False)
    outcomes = _race_rounds(live_server, auth_headers, [technician, technician2], lab, tubes)
    # Without the lock both pass the "already recorded?" check; the loser then hits the
    # unique constraint as a server error instead of a clear conflict.
    assert any(pair != [201, 409] for pair in outcomes), outcomes
    assert TubeResult.objects.count() == ROUNDS  # the constraint still holds the data
