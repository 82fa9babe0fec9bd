"""Home-care fixtures: released results (the testing chain as the services leave it) and
an open F0 order of the citizen's own person."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from covidhub.fhir.tests.conftest import (  # noqa: F401 - fixtures
    places,
    vaccines,
    validate,
    worker_user,
)

_barcodes = itertools.count(1)


@pytest.fixture
def make_result(places: dict[str, Any], worker_user: Any) -> Callable[..., Any]:  # noqa: F811
    from covidhub.testing.models import Result, Sample, Tube, TubeResult

    def make(person: Any, value: str, at: datetime.datetime | None = None) -> Any:
        at = at or timezone.now() - datetime.timedelta(hours=8)
        tube = Tube.objects.create(
            barcode=f"H{next(_barcodes):08d}",
            session=places["session"],
            site=places["tsite"],
            test_type="pcr",
            capacity=1,
            member_count=1,
            status=Tube.Status.RESULTED,
            lab=places["lab"],
            received_at=at + datetime.timedelta(hours=2),
            resulted_at=at + datetime.timedelta(hours=6),
        )
        tube_result = TubeResult.objects.create(
            tube=tube,
            lab=places["lab"],
            value=value,
            recorded_by=worker_user,
            recorded_at=at + datetime.timedelta(hours=6),
        )
        sample = Sample.objects.create(tube=tube, person=person, collected_by=worker_user)
        return Result.objects.create(
            sample=sample,
            tube_result=tube_result,
            person=person,
            outcome=value,
            test_type="pcr",
            site=places["tsite"],
            collected_at=at,
            released_at=at + datetime.timedelta(hours=6),
            commune=person.commune,
            commune_path=person.commune_path,
        )

    return make


@pytest.fixture
def order(citizen_person: Any, commune_officer: Any) -> Any:
    from covidhub.homecare.services.orders import order_open_case

    return order_open_case(
        actor=commune_officer,
        person=citizen_person,
        start=timezone.localdate() - datetime.timedelta(days=2),
    )


def check_data(n: int = 0, **values: Any) -> Any:
    from covidhub.homecare.validation import self_check_clean

    raw = {"client_key": f"test-key-{n:04d}", "temperature": "37.2", "spo2": "98", **values}
    return self_check_clean(raw)
