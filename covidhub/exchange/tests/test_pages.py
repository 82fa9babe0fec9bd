"""The reconciliation page and API: province administrators of the area only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction

from covidhub.audit.models import AuditEvent
from covidhub.exchange.models import ExchangeRecord
from covidhub.testing.models import Result
from covidhub.testing.release import results_recorded_announce
from covidhub.vaccination.models import Dose
from covidhub.vaccination.signals import dose_recorded

API = "/api/v1/exchange"


@pytest.fixture
def queued(endpoint: Any, make_person: Callable[..., Any], make_records: Callable[..., Any]) -> Any:
    person = make_person()
    made = make_records(person, doses=2, results=1)
    with transaction.atomic():
        for dose in made["doses"]:
            dose_recorded.send(sender=Dose, dose=dose, person=person)
        results_recorded_announce(
            results=Result.objects.filter(pk__in=[r.pk for r in made["results"]])
        )
    ExchangeRecord.objects.filter(kind="result").update(
        status=ExchangeRecord.Status.DEAD, last_error="HTTP 500"
    )
    return made


@pytest.mark.django_db
def test_api_reconciliation_shows_unsent_on_day_one(
    queued: Any, province_admin: Any, login: Callable[[Any], Any]
) -> None:
    client = login(province_admin)
    day = queued["doses"][1].day  # the second dose's day: that dose alone
    response = client.get(
        f"{API}/reconciliation", {"day_from": "2020-01-01", "day_to": "2020-03-31"}
    )
    assert response.status_code == 200
    assert response.json()["unsent"] == 0
    answer = client.get(f"{API}/reconciliation", {"day_from": str(day), "day_to": str(day)}).json()
    assert answer["unsent"] == 1
    assert answer["items"][0]["pending"] == 1 and answer["items"][0]["kind"] == "dose"
    failures = client.get(f"{API}/rejections").json()
    assert failures["count"] == 1 and failures["next"] is None
    assert [f["status"] for f in failures["items"]] == ["dead"]


@pytest.mark.django_db
def test_api_refuses_others_and_bad_input(
    queued: Any,
    province_admin: Any,
    district_officer: Any,
    neighbour_officer: Any,
    login: Callable[[Any], Any],
) -> None:
    for outsider in (district_officer, neighbour_officer):
        assert login(outsider).get(f"{API}/reconciliation").status_code == 404
        assert (
            login(outsider)
            .post(f"{API}/dead-letters/retry", {}, content_type="application/json")
            .status_code
            == 404
        )
    client = login(province_admin)
    bad = client.get(f"{API}/reconciliation", {"day_from": "2026-02-30"})
    assert bad.status_code in (400, 422)
    wide = client.get(f"{API}/reconciliation", {"day_from": "2020-01-01", "day_to": "2026-01-01"})
    assert wide.status_code == 422  # InvalidInput, with its translated message
    unknown = client.post(
        f"{API}/dead-letters/retry", {"colour": "red"}, content_type="application/json"
    )
    assert unknown.status_code in (400, 422)
    assert ExchangeRecord.objects.filter(status="dead").count() == 1


@pytest.mark.django_db
def test_page_and_audited_retry(
    queued: Any,
    province_admin: Any,
    neighbour_officer: Any,
    login: Callable[[Any], Any],
) -> None:
    assert login(neighbour_officer).get("/staff/exchange/").status_code == 404
    client = login(province_admin)
    day = queued["doses"][0].day
    page = client.get("/staff/exchange/", {"to": str(day)}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "HTTP 500" in page.content.decode()
    assert client.get("/staff/exchange/", {"from": "yesterday"}).status_code == 400
    response = client.post("/staff/exchange/retry/", {"endpoint": "nvp"})
    assert response.status_code == 302
    assert ExchangeRecord.objects.filter(status="pending").count() == 3
    assert AuditEvent.objects.filter(action="exchange.dead_letters.retried").count() == 1
    assert client.post("/staff/exchange/retry/", {"endpoint": "nope"}).status_code == 302
    assert AuditEvent.objects.filter(action="exchange.dead_letters.retried").count() == 1
