"""A roster file is imported once, however many times "import" is pressed at the same
moment: real parallel requests on PostgreSQL, with a control run without the row locks."""

from __future__ import annotations

import time
from typing import Any

import pytest

from covidhub.adoption.models import RosterMember
from covidhub.core.testing import http_request, race, run_queued_tasks

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROWS = 300


def _race_apply(
    live_server: Any, upload: Any, headers: dict[str, str], workers: int = 8
) -> list[int]:
    url = f"{live_server.url}/api/v1/adoption/rosters/{upload.uuid}/apply"
    results = race([lambda: http_request("POST", url, headers=headers) for _ in range(workers)])
    return [r.status for r in results]


def _upload(agencies: dict[str, Any], upload_roster: Any) -> Any:
    from covidhub.adoption.tests.conftest import staff_row

    return upload_roster(agencies["ward"], [staff_row(n) for n in range(1, ROWS + 1)], apply=False)


def test_parallel_imports_of_one_file_import_it_once(
    live_server: Any, agencies: dict[str, Any], head: Any, upload_roster: Any, auth_headers: Any
) -> None:
    upload = _upload(agencies, upload_roster)
    statuses = _race_apply(live_server, upload, auth_headers(head))
    assert statuses.count(200) == 1, statuses
    assert statuses.count(409) == len(statuses) - 1, statuses
    run_queued_tasks()  # a roster longer than ROSTER_INLINE_ROWS is applied by the worker
    assert RosterMember.objects.filter(left_at__isnull=True).count() == ROWS


def test_control_without_row_locks_the_race_shows(
    live_server: Any,
    agencies: dict[str, Any],
    head: Any,
    upload_roster: Any,
    auth_headers: Any,
    monkeypatch: Any,
) -> None:
    """Without the locks several requests pass the "still pending" check at once: more
    than one succeeds or one fails on the database constraint. If this ever shows exactly
    one success and only 409s, the test above proves nothing."""
    from covidhub.adoption import services

    monkeypatch.setattr(services, "ROW_LOCKS", False)
    unlocked = services._locked

    def unlocked_and_slow(manager: Any) -> Any:
        # After the "still pending" check: the requests all get past it before any commits
        # (without the pause, one request could finish before the others start, and the
        # control would show nothing).
        if manager.model is RosterMember:
            time.sleep(0.2)
        return unlocked(manager)

    monkeypatch.setattr(services, "_locked", unlocked_and_slow)
    upload = _upload(agencies, upload_roster)
    statuses = _race_apply(live_server, upload, auth_headers(head))
    assert statuses.count(200) > 1 or 500 in statuses, statuses
