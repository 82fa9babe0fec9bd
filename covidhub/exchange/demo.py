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


def _bundle(rows: list[tuple[tuple[str, str], str, str]], today: datetime.date) -> bytes:
    """rows: ((id_type, id_number), CVX code, the source's identifier) of each dose."""
    entries: list[dict[str, Any]] = []
    for n, ((id_type, id_number), cvx, identifier) in enumerate(rows, start=1):
        entries.append(
            {
                "fullUrl": f"urn:uuid:demo-patient-{n}",
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [{"system": codes.ID_SYSTEMS[id_type], "value": id_number}],
                },
            }
        )
        entries.append(
            {
                "resource": {
                    "resourceType": "Immunization",
                    "identifier": [{"system": SOURCE_SYSTEM, "value": identifier}],
                    "status": "completed",
                    "vaccineCode": {"coding": [{"system": codes.CVX, "code": cvx}]},
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
    with_cccd = Person.objects.filter(commune__code=HOME_COMMUNE, id_type="cccd").exclude(
        id_number=""
    )
    # Not anyone in the vaccination story (registered, booked or vaccinated here).
    fresh = list(
        with_cccd.filter(
            vaccination_doses__isnull=True,
            vaccination_bookings__isnull=True,
            vaccination_registration__isnull=True,
        ).order_by("id")[:2]
    )
    rows = [(("cccd", p.id_number), "208", f"DEMO-{p.uuid}") for p in fresh]
    # And a refused row: a vaccine code the catalogue does not know.
    anyone = with_cccd.order_by("id").first()
    rows.append(
        (("cccd", anyone.id_number if anyone else "030085999999"), "999", "DEMO-UNKNOWN-CODE")
    )
    job = immunizations_import(
        actor=officer,
        filename="nen-tang-quoc-gia.json",
        content=_bundle(rows, timezone.localdate()),
        source_name=NATIONAL,
    )
    return [f"exchange: {job.created_count} doses imported from {NATIONAL} (FHIR)"]
