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


def _protocol_posts(live_server, client, province, values):
    """One POST of the protocol page per value of spo2_below, all at once."""
    from covidhub.core.testing import session_headers
    from covidhub.homecare.protocol import DEFAULT_RULES

    headers = session_headers(client)
    base = {k: str(v) for k, v in DEFAULT_RULES.as_dict().items() if not isinstance(v, bool | list)}
    base.update({k: "on" for k, v in DEFAULT_RULES.as_dict().items() if v is True})
    base["warning_symptoms"] = DEFAULT_RULES.warning_symptoms[0]
    url = f"{live_server.url}/staff/homecare/protocol/?province={province}"
    return [
        lambda value=value: http_request(
            "POST", url, form={**base, "spo2_below": str(value)}, headers=headers
        )
        for value in values
    ]


def test_protocol_versions_activated_at_once_stay_one_line_per_province(
    live_server, login, make_staff, two_provinces, monkeypatch
):
    """Officers of two provinces put new versions in force at once: each province's
    versions stay a line (1, 2, 3, … with one in force), and neither waits for nor touches
    the other. Control: without the lock the same race breaks (two requests take the same
    version number, and the constraint refuses one)."""
    from covidhub.homecare.models import CareProtocol
    from covidhub.homecare.protocol import protocol_active
    from covidhub.homecare.services import versions

    hd = login(make_staff("tinh-hd", "province_officer", two_provinces["province"]))
    hn = login(make_staff("tinh-hn", "province_officer", two_provinces["other_province"]))
    protocol_active("30"), protocol_active("01")
    calls = _protocol_posts(live_server, hd, "30", range(88, 94)) + _protocol_posts(
        live_server, hn, "01", range(90, 94)
    )
    results = race(calls, workers=len(calls))
    assert sorted(r.status for r in results) == [302] * 10, [
        r.body for r in results if r.status != 302
    ]
    for code, count in (("30", 7), ("01", 5)):
        rows = list(CareProtocol.objects.filter(province_code=code).order_by("version"))
        assert [r.version for r in rows] == list(range(1, count + 1))
        assert [r.state for r in rows].count("active") == 1 and rows[-1].state == "active"

    # Control: without the lock the race shows.
    monkeypatch.setattr(versions, "transaction_lock", lambda *args, **kwargs: None)
    refused = 0
    for attempt in range(5):
        results = race(
            _protocol_posts(live_server, hd, "30", range(80 + attempt, 86 + attempt)), workers=6
        )
        refused = sum(1 for r in results if r.status >= 500)
        if refused:
            break
    assert refused > 0
