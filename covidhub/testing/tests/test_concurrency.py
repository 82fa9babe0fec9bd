"""Two technicians record the same tube at the same moment (real parallel requests on
PostgreSQL): one succeeds, the other gets a clear conflict. The control run removes the
tube lock and shows that the same race then breaks the rule, so the test can fail."""

from __future__ import annotations

import functools
import time
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


def _scan_rounds(
    live_server: Any, client: Any, session: Any, people: list[list[Any]]
) -> list[tuple[list[int], int, int]]:
    """Per round: a new tube of two, then everyone of the round scanned at once; the
    answers' statuses, the tube's count and its samples."""
    from django.middleware.csrf import _get_new_csrf_string

    from covidhub.people.personal_qr import personal_qr_text
    from covidhub.testing import collection
    from covidhub.testing.models import Sample, Tube

    csrf = _get_new_csrf_string()
    headers = {
        "Cookie": f"sessionid={client.cookies['sessionid'].value}; csrftoken={csrf}",
        "X-CSRFToken": csrf,
    }
    url = f"{live_server.url}/api/v1/testing/sessions/{session.uuid}/scan"
    counts = []
    for n, group in enumerate(people):
        barcode = f"RACE{n:04d}"
        collection.scan_handle(actor=session.opened_by, session=session, text=barcode)
        calls: list[Callable[[], HttpResult]] = [
            functools.partial(
                http_request, "POST", url, json={"value": personal_qr_text(p)}, headers=headers
            )
            for p in group
        ]
        replies = race(calls, workers=len(calls))
        tube = Tube.objects.get(barcode=barcode)
        counts.append(
            (
                sorted(r.status for r in replies),
                tube.member_count,
                Sample.objects.filter(tube=tube).count(),
            )
        )
    return counts


@pytest.fixture
def scan_people(make_person: Any) -> list[list[Any]]:
    return [[make_person(full_name=f"Người {c}{d}") for d in "XYZW"] for c in "ABCDEF"[:ROUNDS]]


def test_people_scanned_into_a_pool_at_once_never_overfill_it(
    live_server: Any, login: Any, sampler: Any, pcr_session: Any, scan_people: Any
) -> None:
    session = pcr_session(pool_size=2)
    counts = _scan_rounds(live_server, login(sampler), session, scan_people)
    # Two join the tube, the other two wait for the next one: every answer a 200.
    assert counts == [([200] * 4, 2, 2)] * ROUNDS


def test_control_without_the_tube_lock_the_pool_count_goes_wrong(
    live_server: Any,
    login: Any,
    sampler: Any,
    pcr_session: Any,
    scan_people: Any,
    monkeypatch: Any,
) -> None:
    from covidhub.testing import collection

    unlocked = collection._open_tube_of

    def unlocked_and_slow(session: Any, lock: bool = False, person: Any = None) -> Any:
        tube = unlocked(session, person=person)
        # The window between reading the tube's count and adding to it, which a real race
        # opens now and then, held open every time: the four scans of a round all read
        # it before any adds (else, on a quiet machine, six rounds may see no overlap).
        time.sleep(0.2)
        return tube

    monkeypatch.setattr(collection, "_open_tube_of", unlocked_and_slow)
    session = pcr_session(pool_size=2)
    counts = _scan_rounds(live_server, login(sampler), session, scan_people)
    # Without the lock two scans read the same count: a third swab goes into a full tube,
    # which the database's capacity check refuses as a server error (or, counted from a
    # stale read, the tube holds more people than it counts).
    assert any(
        statuses != [200] * 4 or members != samples for statuses, members, samples in counts
    ), counts


def test_the_same_person_scanned_twice_at_once_is_a_conflict_not_an_error(
    live_server: Any, login: Any, sampler: Any, pcr_session: Any, make_person: Any
) -> None:
    from django.middleware.csrf import _get_new_csrf_string

    from covidhub.people.personal_qr import personal_qr_text
    from covidhub.testing import collection
    from covidhub.testing.models import Sample

    session = pcr_session(pool_size=10)
    collection.scan_handle(actor=sampler, session=session, text="TWICE0001")
    csrf = _get_new_csrf_string()
    headers = {
        "Cookie": f"sessionid={login(sampler).cookies['sessionid'].value}; csrftoken={csrf}",
        "X-CSRFToken": csrf,
    }
    url = f"{live_server.url}/api/v1/testing/sessions/{session.uuid}/scan"
    outcomes = []
    for c in "ABCDEF"[:ROUNDS]:
        text = personal_qr_text(make_person(full_name=f"Người {c}"))
        call = functools.partial(http_request, "POST", url, json={"value": text}, headers=headers)
        replies = race([call, call], workers=2)
        outcomes.append(sorted((r.status, r.body.get("code", r.body.get("kind"))) for r in replies))
    assert outcomes == [[(200, "sample_added"), (409, "already_in_tube")]] * ROUNDS
    assert Sample.objects.count() == ROUNDS
