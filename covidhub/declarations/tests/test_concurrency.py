"""Simultaneous scans of one person at one venue (a scanner that fires twice, two staff at
two doors) make one check-in: real parallel requests against PostgreSQL, with a control
run without the lock that shows the race is real."""

from __future__ import annotations

import pytest

from covidhub.core.testing import http_request, race
from covidhub.declarations import services, tokens
from covidhub.declarations.models import CheckIn, VenueStaff

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _scan_race(live_server, venue, headers, token, n=12):
    url = f"{live_server.url}/api/v1/declarations/venues/{venue.uuid}/scan"
    calls = [
        (lambda: http_request("POST", url, json={"token": token}, headers=headers))
        for _ in range(n)
    ]
    return race(calls, workers=n)


def test_simultaneous_scans_of_one_person_make_one_check_in(
    live_server, citizen_person, venue, make_citizen, owner, auth_headers, monkeypatch
):
    worker = make_citizen("+84912000777", full_name="Người Soát Vé")
    VenueStaff.objects.create(venue=venue, user=worker, added_by=owner)
    headers = auth_headers(worker)
    token, _info = tokens.personal_token_issue(person_id=citizen_person.pk)

    results = _scan_race(live_server, venue, headers, token)
    assert {r.status for r in results} == {200}, [r.body for r in results]
    assert CheckIn.objects.filter(person=citizen_person).count() == 1
    assert len({r.body["checkin"] for r in results}) == 1

    # Control: without the lock the same race inserts several check-ins.
    CheckIn.objects.all().delete()
    monkeypatch.setattr(services, "LOCK_PEOPLE_ON_CHECKIN", False)
    duplicates = 0
    for _attempt in range(5):
        _scan_race(live_server, venue, headers, token)
        duplicates = CheckIn.objects.filter(person=citizen_person).count()
        if duplicates > 1:
            break
        CheckIn.objects.all().delete()
    assert duplicates > 1
