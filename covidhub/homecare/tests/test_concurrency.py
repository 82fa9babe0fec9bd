"""Two officers closing the same alert at once leave exactly one closer: real parallel
requests against PostgreSQL, with a control run without the row lock that shows the race
is real."""

from __future__ import annotations

import pytest

from covidhub.core.testing import http_request, race
from covidhub.homecare.models import CareAlert
from covidhub.homecare.services import station
from covidhub.homecare.services.checks import self_check_submit
from covidhub.homecare.tests.conftest import check_data

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _close_race(live_server, alert, headers, n=12):
    url = f"{live_server.url}/api/v1/homecare/alerts/{alert.uuid}/close"

    def close(h):
        return lambda: http_request("POST", url, json={"outcome": "called"}, headers=h)

    calls = [close(headers[i % len(headers)]) for i in range(n)]
    return race(calls, workers=n)


def _reopen(alert):
    CareAlert.objects.filter(pk=alert.pk).update(
        status="open", closed_by=None, closed_at=None, outcome="", owner=None
    )


def test_two_officers_closing_one_alert_leave_one_closer(
    live_server, order, citizen, commune_officer, district_officer, auth_headers, monkeypatch
):
    from covidhub.audit.models import AuditEvent

    check, _ = self_check_submit(actor=citizen, order=order, data=check_data(1, spo2="91"))
    alert = CareAlert.objects.get(self_check=check)
    headers = [auth_headers(commune_officer), auth_headers(district_officer)]

    results = _close_race(live_server, alert, headers)
    statuses = sorted(r.status for r in results)
    assert statuses.count(200) == 1, [r.body for r in results]
    assert set(statuses) == {200, 409}
    closer = next(r for r in results if r.status == 200)
    assert closer.body["status"] == "closed"
    assert AuditEvent.objects.filter(action="homecare.alert.closed").count() == 1
    alert.refresh_from_db()
    assert alert.closed_by_id in (commune_officer.pk, district_officer.pk)

    # Control: without the lock the same race lets several officers close it.
    monkeypatch.setattr(station, "LOCK_ALERT_ON_CLOSE", False)
    closers = 0
    for _attempt in range(5):
        _reopen(alert)
        results = _close_race(live_server, alert, headers)
        closers = sum(1 for r in results if r.status == 200)
        if closers > 1:
            break
    assert closers > 1
