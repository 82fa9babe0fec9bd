"""FHIR fixtures: a person's records (doses at a site, single and pooled results from a
laboratory) made as rows, and a validator that parses a resource with fhir.resources."""

from __future__ import annotations

import datetime
import importlib
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from covidhub.testing.models import (
    Lab,
    Result,
    Sample,
    SamplingSession,
    Site,
    Tube,
    TubeResult,
)
from covidhub.vaccination.models import Dose, VaccinationSite, Vaccine, VaccineLot

_barcodes = itertools.count(1)


@pytest.fixture
def vaccines(db: None) -> dict[str, Vaccine]:
    from django.apps import apps

    importlib.import_module("covidhub.vaccination.migrations.0002_vaccines").forwards(apps, None)
    return {v.code: v for v in Vaccine.objects.all()}


@pytest.fixture
def worker_user(db: None) -> Any:
    from covidhub.accounts.models import User

    return User.objects.create(username="recorder", kind=User.Kind.STAFF)


@pytest.fixture
def places(
    area_tree: dict[str, Any], vaccines: dict[str, Vaccine], worker_user: Any
) -> dict[str, Any]:
    commune = area_tree["commune"]
    vsite = VaccinationSite.objects.create(
        name="TYT P. Cẩm Thượng", address="1 Đường Lê Lợi", commune=commune
    )
    lot = VaccineLot.objects.create(
        vaccine=vaccines["pfizer"],
        number="FK1234",
        expiry_date=datetime.date(2027, 1, 31),
        doses_received=100,
        store_area=area_tree["district"],
        received_on=datetime.date(2026, 1, 1),
    )
    tsite = Site.objects.create(name="Trạm lấy mẫu Cẩm Thượng", commune=commune)
    lab = Lab.objects.create(name="CDC Hải Dương", code="CDCHD", commune=commune)
    session = SamplingSession.objects.create(site=tsite, opened_by=worker_user)
    return {"vsite": vsite, "lot": lot, "tsite": tsite, "lab": lab, "session": session}


@pytest.fixture
def make_records(
    places: dict[str, Any], vaccines: dict[str, Vaccine], worker_user: Any
) -> Callable[..., dict[str, list[Any]]]:
    """`make_records(person, doses=2, results=1, pooled_with=[...])`: rows as the services
    leave them (doses numbered in sequence, released results with their tube)."""

    def dose(person: Any, n: int, at: datetime.datetime) -> Dose:
        return Dose.objects.create(
            person=person,
            vaccine=vaccines["pfizer"],
            series=Dose.Series.PRIMARY if n <= 2 else Dose.Series.BOOSTER,
            dose_number=n if n <= 2 else n - 2,
            sequence=n,
            completes_primary=n == 2,
            administered_at=at,
            day=timezone.localtime(at).date(),
            commune=person.commune,
            commune_path=person.commune_path,
            lot=places["lot"],
            site=places["vsite"],
            vaccinator=worker_user,
        )

    def result(
        people: list[Any], at: datetime.datetime, value: str, test_type: str = "pcr"
    ) -> list[Result]:
        pooled = len(people) > 1
        tube = Tube.objects.create(
            barcode=f"T{next(_barcodes):08d}",
            session=places["session"],
            site=places["tsite"],
            test_type=test_type,
            capacity=max(len(people), 1),
            member_count=len(people),
            status=Tube.Status.RESULTED,
            lab=places["lab"],
            received_at=at + datetime.timedelta(hours=2),
            resulted_at=at + datetime.timedelta(hours=6),
        )
        tube_result = TubeResult.objects.create(
            tube=tube,
            lab=places["lab"] if test_type == "pcr" else None,
            value=value,
            ct_value=None if value != "positive" else 24.5,
            recorded_by=worker_user,
            recorded_at=at + datetime.timedelta(hours=6),
        )
        outcome = value
        if pooled and value == "positive":
            outcome = Result.Outcome.POOL_POSITIVE
        made = []
        for person in people:
            sample = Sample.objects.create(tube=tube, person=person, collected_by=worker_user)
            made.append(
                Result.objects.create(
                    sample=sample,
                    tube_result=tube_result,
                    person=person,
                    outcome=outcome,
                    test_type=test_type,
                    pooled=pooled,
                    site=places["tsite"],
                    collected_at=at,
                    released_at=at + datetime.timedelta(hours=6),
                    commune=person.commune,
                    commune_path=person.commune_path,
                )
            )
        return made

    def make(
        person: Any,
        *,
        doses: int = 2,
        results: int = 1,
        pooled_with: list[Any] | None = None,
        rapid: int = 0,
    ) -> dict[str, list[Any]]:
        start = timezone.now() - datetime.timedelta(days=60)
        made: dict[str, list[Any]] = {"doses": [], "results": []}
        for n in range(1, doses + 1):
            made["doses"].append(dose(person, n, start + datetime.timedelta(days=28 * (n - 1))))
        for n in range(results):
            value = "negative" if n % 2 == 0 else "positive"
            made["results"] += result([person], start + datetime.timedelta(days=n, hours=1), value)
        for n in range(rapid):
            made["results"] += result(
                [person], start + datetime.timedelta(days=n, hours=3), "negative", "rapid"
            )
        if pooled_with is not None:
            made["results"] += [
                r
                for r in result(
                    [person, *pooled_with], start + datetime.timedelta(days=40), "positive"
                )
                if r.person_id == person.pk
            ]
        return made

    return make


FHIR_MODELS = {
    "Patient": "patient",
    "Immunization": "immunization",
    "Observation": "observation",
    "DiagnosticReport": "diagnosticreport",
    "Specimen": "specimen",
    "Organization": "organization",
    "Location": "location",
    "Condition": "condition",
    "DocumentReference": "documentreference",
    "Bundle": "bundle",
    "OperationOutcome": "operationoutcome",
    "CapabilityStatement": "capabilitystatement",
}


def fhir_validate(resource: dict[str, Any]) -> Any:
    """Parse with fhir.resources' R4B models (R4 content: 8.x has no R4 package); raises
    pydantic's ValidationError on anything the specification refuses."""
    kind = resource["resourceType"]
    module = importlib.import_module(f"fhir.resources.R4B.{FHIR_MODELS[kind]}")
    model = getattr(module, kind)
    return model.model_validate(resource)


@pytest.fixture
def validate() -> Callable[[dict[str, Any]], Any]:
    return fhir_validate
