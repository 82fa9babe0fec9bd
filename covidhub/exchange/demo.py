"""The demo province's exchange: the ward officer `xa` imported a file of doses that the
national vaccination platform recorded elsewhere for people of P. Cẩm Thượng (one row of
it refused: a vaccine code the catalogue does not know), so that the import page's report
and its job page show something."""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.utils import timezone

from covidhub.accounts.models import User
from covidhub.core.models import ImportJob
from covidhub.exchange.inbound import IMPORT_JOB_KIND, immunizations_import
from covidhub.fhir import codes

NATIONAL = "Nền tảng tiêm chủng quốc gia"
SOURCE_SYSTEM = "https://tiemchungcovid19.gov.vn/sid/immunization"
HOME_COMMUNE = "10507"  # Phường Cẩm Thượng


def _bundle(people: list[Any], today: datetime.date) -> bytes:
    entries: list[dict[str, Any]] = []
    for n, person in enumerate(people, start=1):
        entries.append(
            {
                "fullUrl": f"urn:uuid:demo-patient-{n}",
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [
                        {"system": codes.ID_SYSTEMS[person.id_type], "value": person.id_number}
                    ],
                },
            }
        )
        entries.append(
            {
                "resource": {
                    "resourceType": "Immunization",
                    "identifier": [{"system": SOURCE_SYSTEM, "value": f"DEMO-{person.uuid}"}],
                    "status": "completed",
                    # The first person's vaccine is not in the catalogue: a refused row.
                    "vaccineCode": {
                        "coding": [{"system": codes.CVX, "code": "999" if n == 1 else "208"}]
                    },
                    "patient": {"reference": f"urn:uuid:demo-patient-{n}"},
                    "occurrenceDateTime": (today - datetime.timedelta(days=120)).isoformat(),
                    "performer": [{"actor": {"display": "Trạm Y tế xã Đại Đồng, tỉnh Bắc Ninh"}}],
                }
            }
        )
    return json.dumps(
        {"resourceType": "Bundle", "type": "collection", "entry": entries}, ensure_ascii=False
    ).encode()


def exchange_seed(**context: Any) -> list[str]:
    from covidhub.people.models import Person

    officer = User.objects.filter(username="xa").first()
    if officer is None or ImportJob.objects.filter(kind=IMPORT_JOB_KIND).exists():
        return []
    people = list(
        # Not anyone in the vaccination story (registered, booked or vaccinated here).
        Person.objects.filter(
            commune__code=HOME_COMMUNE,
            id_type="cccd",
            managed_by__isnull=True,
            vaccination_doses__isnull=True,
            vaccination_bookings__isnull=True,
            vaccination_registration__isnull=True,
        )
        .exclude(id_number="")
        .order_by("id")[:3]
    )
    if not people:
        return []
    job = immunizations_import(
        actor=officer,
        filename="nen-tang-quoc-gia.json",
        content=_bundle(people, timezone.localdate()),
        source_name=NATIONAL,
    )
    return [f"exchange: {job.created_count} doses imported from {NATIONAL} (FHIR)"]
