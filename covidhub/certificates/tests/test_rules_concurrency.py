"""Rule-set versions made and put in force at once (two administrators, a retried
request) stay a line with one version in force: real parallel API requests on PostgreSQL,
with a control without the lock that shows the race."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from covidhub.certificates import acceptance
from covidhub.certificates.models import AcceptanceRuleSet
from covidhub.core.testing import http_request, race, session_headers

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
BASE = "/api/v1/certificates/acceptance-rules/event"


def _drafts(live_server: Any, headers: dict[str, str], n: int) -> list[Any]:
    documents = acceptance.shipped_rule_documents("event")
    url = f"{live_server.url}{BASE}"
    calls = [
        functools.partial(
            http_request,
            "POST",
            url,
            json={"rules": documents, "note": f"race {k}"},
            headers=headers,
        )
        for k in range(n)
    ]
    return race(calls, workers=n)


def _activations(live_server: Any, headers: dict[str, str], versions: list[int]) -> list[Any]:
    calls = [
        functools.partial(
            http_request, "POST", f"{live_server.url}{BASE}/{v}/activate", headers=headers
        )
        for v in versions
    ]
    return race(calls, workers=len(versions))


def test_rule_versions_made_and_activated_at_once_stay_a_line(
    live_server, login, province_admin, monkeypatch
):
    headers = session_headers(login(province_admin))
    drafts = _drafts(live_server, headers, 6)
    assert sorted(r.status for r in drafts) == [201] * 6, [r.body for r in drafts]
    rows = AcceptanceRuleSet.objects.filter(purpose="event").order_by("version")
    assert [r.version for r in rows] == [1, 2, 3, 4, 5, 6]
    activated = _activations(live_server, headers, [1, 2, 3, 4, 5, 6])
    assert sorted(r.status for r in activated) == [200] * 6, [r.body for r in activated]
    states = list(rows.values_list("state", flat=True))
    assert states.count("active") == 1 and states.count("retired") == 5

    # Control: without the lock the same race breaks (a version taken twice, or two
    # activations that each retire the old version and leave the other's in force).
    monkeypatch.setattr(acceptance, "transaction_lock", lambda *args, **kwargs: None)
    broken = False
    for _attempt in range(5):
        drafts = _drafts(live_server, headers, 6)
        made = sorted(r.body["version"] for r in drafts if r.status == 201)
        activated = _activations(live_server, headers, made)
        if any(r.status >= 500 for r in drafts + activated) or len(made) < 6:
            broken = True
            break
    assert broken


def test_status_rule_drafts_made_at_once_take_one_version_each(
    live_server, login, province_admin, monkeypatch
):
    from covidhub.certificates import status_rules
    from covidhub.certificates.models import StatusRuleSet

    headers = session_headers(login(province_admin))
    url = f"{live_server.url}/api/v1/certificates/status-rules"

    def drafts() -> list[Any]:
        return race(
            [
                lambda: http_request("POST", url, json={"retest_colour": "yellow"}, headers=headers)
                for _ in range(6)
            ],
            workers=6,
        )

    made = drafts()
    assert sorted(r.status for r in made) == [201] * 6, [r.body for r in made]
    versions = sorted(StatusRuleSet.objects.values_list("version", flat=True))
    assert versions == list(range(versions[0], versions[0] + 6))

    monkeypatch.setattr(status_rules, "transaction_lock", lambda *args, **kwargs: None)
    assert any(any(r.status >= 500 for r in drafts()) for _attempt in range(5))
