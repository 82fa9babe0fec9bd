"""Fixtures of the certificates tests: a development signing key and facts builders."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone


@pytest.fixture(autouse=True)
def _certificate_caches() -> Any:
    from covidhub.certificates import (
        acceptance,
        healthcard_keys,
        keystore,
        status_rules,
        value_sets,
        verification,
    )

    def clear() -> None:
        keystore.signer_cache_clear()
        healthcard_keys.healthcard_key_cache_clear()
        verification.trust_list_cache_clear()
        status_rules.rules_cache_clear()
        acceptance.acceptance_rules_cache_clear()
        value_sets.value_sets_cache_clear()

    clear()
    yield
    clear()


@pytest.fixture
def signing_key(db: None) -> Any:
    from covidhub.certificates.keystore import signing_key_create_development

    key, _csca = signing_key_create_development(
        actor=None, now=timezone.now() - timedelta(days=1), label="test DSC"
    )
    return key


@pytest.fixture
def health_card_key(db: None) -> Any:
    from covidhub.certificates.healthcard_keys import healthcard_key_rotate

    return healthcard_key_rotate(actor=None)


@pytest.fixture
def vaccination_facts() -> Any:
    from covidhub.certificates.facts import VaccinationFacts

    def make(
        person: Any, *, dose: int = 2, total: int = 2, on: date | None = None, **extra: Any
    ) -> Any:
        return VaccinationFacts(
            person=person,
            source_type=extra.pop("source_type", "vaccination.dose"),
            source_id=extra.pop("source_id", f"{person.uuid}:{dose}"),
            medicinal_product=extra.pop("medicinal_product", "EU/1/20/1528"),
            manufacturer=extra.pop("manufacturer", "ORG-100030215"),
            prophylaxis=extra.pop("prophylaxis", "1119349007"),
            dose_number=dose,
            total_doses=total,
            vaccination_date=on or date(2021, 9, 1),
            **extra,
        )

    return make


@pytest.fixture
def test_facts() -> Any:
    from covidhub.certificates.facts import TestFacts

    def make(person: Any, *, positive: bool = False, hours_ago: int = 5, **extra: Any) -> Any:
        return TestFacts(
            person=person,
            source_type=extra.pop("source_type", "testing.result"),
            source_id=extra.pop("source_id", f"{person.uuid}:{hours_ago}:{positive}"),
            test_type=extra.pop("test_type", "LP6464-4"),
            positive=positive,
            sample_collected_at=timezone.now() - timedelta(hours=hours_ago),
            **extra,
        )

    return make
