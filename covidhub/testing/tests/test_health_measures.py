"""Testing tells the status card who is awaiting the individual retest after a positive
pool (`covidhub.people.health_status`), until their next result."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from covidhub.core.testing import run_queued_tasks
from covidhub.people.health_status import AWAITING_RETEST, health_measures_for
from covidhub.people.models import Person
from covidhub.people.status import status_for
from covidhub.testing import results

pytestmark = pytest.mark.django_db


def _record(tube: Any, value: str, technician: Any, lab: Any, capture: Any) -> None:
    with capture(execute=True):
        results.tube_result_record(
            actor=technician, lab=lab, barcode=tube.barcode, value=value, ct_value="24,5"
        )
    run_queued_tasks()


def test_a_positive_pool_is_awaiting_the_retest_until_the_next_result(
    make_person: Any,
    collected_tube: Any,
    technician: Any,
    lab: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    people = [make_person(full_name=f"Người Thứ {c}") for c in "AB"]
    since = timezone.localdate() - datetime.timedelta(days=60)
    _record(collected_tube(people), "positive", technician, lab, django_capture_on_commit_callbacks)
    everyone = Person.objects.filter(pk__in=[p.pk for p in people])
    found = health_measures_for(everyone, since=since)
    assert set(found) == {p.pk for p in people}
    assert all(set(m) == {AWAITING_RETEST} for m in found.values())
    status = status_for(people[0])  # the card's rules (certificates), as a checkpoint reads it
    assert status is not None and (status.colour, status.admit) == ("red", False)
    # The first one's individual retest is negative: no longer awaiting; the other still is.
    _record(
        collected_tube([people[0]]), "negative", technician, lab, django_capture_on_commit_callbacks
    )
    found = health_measures_for(everyone, since=since)
    assert set(found) == {people[1].pk}
    assert status_for(people[0]).admit  # type: ignore[union-attr]
