"""Exchange fixtures: the FHIR app's records, a national-system double and an endpoint
configured to reach it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from covidhub.certificates.tests.conftest import (  # noqa: F401 - fixtures
    _certificate_caches,
    signing_key,
    vaccination_facts,
)
from covidhub.exchange.tests.double import NationalDouble
from covidhub.fhir.tests.conftest import (  # noqa: F401 - fixtures
    make_records,
    places,
    vaccines,
    validate,
    worker_user,
)
from covidhub.testing.tests.conftest import (  # noqa: F401 - fixtures
    collected_tube,
    lab,
    pcr_session,
    sampler,
    site,
    technician,
    technician2,
)

KINDS = ["dose", "result", "case", "revocation"]


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
            "kinds": KINDS,
            "token_env": "EXCHANGE_TEST_TOKEN",
        }
    ]
    settings.EXCHANGE_TIMEOUT_SECONDS = 1
    settings.EXCHANGE_BACKOFF_SECONDS = 10
    settings.EXCHANGE_MAX_ATTEMPTS = 4
    return endpoint_get("nvp")


@pytest.fixture
def two_endpoints(settings: Any) -> list[str]:
    """Two national endpoints taking every kind (nothing is sent in these tests)."""
    settings.EXCHANGE_ENDPOINTS = [
        {"name": "nvp", "url": "http://127.0.0.1:9/fhir", "kinds": KINDS},
        {"name": "ehb", "url": "http://127.0.0.1:9/fhir", "kinds": KINDS},
    ]
    return ["ehb", "nvp"]
