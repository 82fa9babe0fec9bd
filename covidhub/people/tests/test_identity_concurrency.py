"""Identity numbers and corrections under real parallel requests (PostgreSQL, live server),
with a control run proving the limit test catches the race when the account lock is off."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from covidhub.core.testing import HttpResult, http_request, race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _member(n: int) -> dict[str, str]:
    return {
        "relationship": "child",
        "full_name": f"Trẻ Thứ {chr(65 + n % 26)}",
        "birth": "15/03/2005",
        "sex": "M",
        "commune": "10507",
        "id_type": "cccd",
        "id_number": f"030205{n:06d}",
    }


def _burst(live_server, citizen, auth_headers, count: int) -> list[HttpResult]:
    headers = auth_headers(citizen)
    url = f"{live_server.url}/api/v1/household"

    def post(n: int) -> Callable[[], HttpResult]:
        return lambda: http_request("POST", url, json=_member(n), headers=headers)

    # At most ten at once: the live server's listen queue resets connections beyond that.
    return race([post(n) for n in range(count)], workers=10)


@pytest.fixture
def slow_count(monkeypatch) -> None:
    """Each request waits 0.1 s between counting the account's attempts and adding its own
    (the limit is read there), inside its transaction: without the lock, requests then all
    count before any adds, whatever the machine's speed. The test and its control run
    with the same wait; only the lock differs."""
    import time

    from covidhub.people import claims

    per_day = claims._per_day

    def slowly() -> int:
        time.sleep(0.1)
        return per_day()

    monkeypatch.setattr(claims, "_per_day", slowly)


def test_parallel_numbers_of_one_account_stop_at_the_limit(
    live_server, settings, citizen, auth_headers, slow_count
):
    from covidhub.people.models import IdentityAttempt, Person

    settings.IDENTITY_NUMBERS_PER_ACCOUNT_PER_DAY = 5
    results = _burst(live_server, citizen, auth_headers, 20)
    statuses = sorted(r.status for r in results)
    assert statuses.count(201) == 5 and statuses.count(429) == 15, statuses
    assert IdentityAttempt.objects.filter(account=citizen).count() == 5
    assert Person.objects.filter(managed_by=citizen, relationship="child").count() == 5


def test_control_without_the_account_lock_passes_the_limit(
    live_server, settings, citizen, auth_headers, monkeypatch, slow_count
):
    """If this ever stays at the limit, the test above proves nothing."""
    from covidhub.people import claims
    from covidhub.people.models import IdentityAttempt

    monkeypatch.setattr(claims, "LOCK_ACCOUNT", False)
    settings.IDENTITY_NUMBERS_PER_ACCOUNT_PER_DAY = 5
    _burst(live_server, citizen, auth_headers, 20)
    assert IdentityAttempt.objects.filter(account=citizen).count() > 5


def test_two_officers_deciding_at_once_decide_once(
    live_server, citizen, citizen_person, commune_officer, district_officer, auth_headers
):
    from covidhub.audit.models import AuditEvent
    from covidhub.people.corrections import correction_request_create
    from covidhub.people.validation import person_input_clean

    request = correction_request_create(
        actor=citizen,
        person=citizen_person,
        data=person_input_clean(
            {
                "full_name": "Nguyễn Văn Thủ",
                "birth": "15/03/1985",
                "sex": "M",
                "commune": citizen_person.commune,
            }
        ),
        reason="Sai dấu",
    )
    base = f"{live_server.url}/api/v1/staff/people/corrections/{request.uuid}"
    headers = [auth_headers(officer) for officer in (commune_officer, district_officer)]
    calls = [
        (
            lambda h=h, verb=verb: http_request(
                "POST",
                f"{base}/{verb}",
                json={"evidence_note": "CCCD đã xem"} if verb == "approve" else {"reason": "Sai"},
                headers=h,
            )
        )
        for h in headers
        for verb in ("approve", "reject")
    ]
    results = race(calls * 2, workers=8)
    statuses = [r.status for r in results]
    assert statuses.count(200) == 1, statuses
    assert {r.body["code"] for r in results if r.status != 200} == {"correction_decided"}
    decided = AuditEvent.objects.filter(
        action__in=["people.correction.approved", "people.correction.rejected"]
    )
    assert decided.count() == 1
