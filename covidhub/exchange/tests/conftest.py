"""Exchange fixtures: the FHIR app's records, a national-system double and an endpoint
configured to reach it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from covidhub.exchange.tests.double import NationalDouble
from covidhub.fhir.tests.conftest import (  # noqa: F401 - fixtures
    make_records,
    places,
    vaccines,
    validate,
    worker_user,
)


@pytest.fixture
def double() -> Iterator[NationalDouble]:
    server = NationalDouble(timeout_sleep=2.0).start()
    yield server
    server.stop()


@pytest.fixture
def endpoint(double: NationalDouble, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from covidhub.exchange.outbox import endpoint_get

    monkeypatch.setenv("EXCHANGE_TEST_TOKEN", "s3cret-token")
    settings.EXCHANGE_ENDPOINTS = [
        {
            "name": "nvp",
            "url": double.url,
            "kinds": ["dose", "result"],
            "token_env": "EXCHANGE_TEST_TOKEN",
        }
    ]
    settings.EXCHANGE_TIMEOUT_SECONDS = 1
    settings.EXCHANGE_BACKOFF_SECONDS = 10
    settings.EXCHANGE_MAX_ATTEMPTS = 4
    return endpoint_get("nvp")
