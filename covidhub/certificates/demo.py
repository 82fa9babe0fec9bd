"""Demo data: a development signing key, and certificates for the demo citizens."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from covidhub.certificates.facts import TestFacts, VaccinationFacts
from covidhub.certificates.keystore import signing_key_create_development
from covidhub.certificates.models import SigningKey
from covidhub.certificates.services import certificate_issue
from covidhub.people.models import Person


def certificates_seed(**context: Any) -> list[str]:
    """Idempotent: a key only when none is active, certificates keyed by their source."""
    if settings.PRODUCTION:
        return []
    lines: list[str] = []
    if not SigningKey.objects.filter(status=SigningKey.Status.ACTIVE).exists():
        key, _csca = signing_key_create_development(actor=None, label="demo DSC")
        lines.append(f"  certificates: development signing key {key.kid}")
    demo_people = Person.objects.filter(
        relationship=Person.Relationship.SELF, managed_by__username__startswith="c-persona-"
    ).order_by("id")[:2]
    for index, person in enumerate(demo_people):
        for dose in (1, 2):
            certificate_issue(
                facts=VaccinationFacts(
                    person=person,
                    source_type="demo.dose",
                    source_id=f"{person.uuid}:{dose}",
                    medicinal_product="EU/1/21/1529",
                    manufacturer="ORG-100001699",
                    prophylaxis="29061000087103",
                    dose_number=dose,
                    total_doses=2,
                    vaccination_date=date(2021, 8, 2) + timedelta(weeks=10 * (dose - 1)),
                )
            )
        if index == 0:
            certificate_issue(
                facts=TestFacts(
                    person=person,
                    source_type="demo.result",
                    source_id=f"{person.uuid}:pcr",
                    test_type="LP6464-4",
                    positive=False,
                    sample_collected_at=timezone.now() - timedelta(hours=20),
                    testing_centre="CDC Hải Dương",
                )
            )
    if demo_people:
        lines.append("  certificates: demo citizens have vaccination certificates (/certificates/)")
    return lines
