"""Patient/$everything: the patient and every record of theirs in a fixed, small number of
statements, whatever the number of records.

Two reads (on a standby inside `reads_from_replica`): the patient through the reader's
scope, with whether they have any home-care order and, joined, their valid doses (a row
per dose, the patient's columns repeated; one row with no dose for a person without);
and their results with each result's tube, through the same scope as the patient (each
read is scoped on its own). Only for a person with a home-care order, two more: their
self-checks (each measured vital sign an Observation) and their F0 orders (each a
Condition). Their SQL is compiled once per connection and reader's scope (`CompiledRows`,
by `access.people_key`), each group is sent together (one round trip on PostgreSQL), and
their rows are plain tuples made into attribute rows (`rows`), not model instances. Each
statement costs the web process about as much CPU as building ten resources, and most
people never had home care: reads that would find nothing are not sent. Then the
writes, on the primary: the staff look-up charge (free for a person already charged this
hour) and one audit event naming the person and how many resources were read (its INSERT
built once per process). The places that performed the records come from the per-process
place cache.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Hashable, Iterable
from typing import Any

from django.db import router
from django.db.models import Exists, FilteredRelation, OuterRef, Q, QuerySet

from covidhub.areas.models import Area
from covidhub.audit.services import audit_record
from covidhub.core.localcache import LocalCache
from covidhub.core.rawsql import pipelined
from covidhub.core.replicas import replica_caught_up_to
from covidhub.fhir import resources, rows
from covidhub.fhir.access import VITAL_SIGNS, Reader, people_for, people_key
from covidhub.fhir.errors import NotFound
from covidhub.fhir.selectors import lookups_charge, place_resources
from covidhub.homecare.models import CareOrder, SelfCheck
from covidhub.people.models import Person
from covidhub.testing.compiled import CompiledRows
from covidhub.testing.models import Result
from covidhub.vaccination.models import Dose

Resource = dict[str, Any]
ACTION = "fhir.patient.everything"
PERSON_LABEL = Person._meta.label_lower


# The patient's columns and whether they have any home-care order (then, and only then,
# their self-checks and orders are read).
PATIENT_WITH_CARE = rows.Shape(*rows.PATIENT.lookups, "has_care")
# Their valid doses, joined to the patient's read (the alias of the filtered relation).
VALID_DOSES = "everything_valid_doses"
DOSE_OF_JOINED_ROW = rows.IMMUNIZATION.at(len(PATIENT_WITH_CARE.lookups))
_JOINED_DOSE_UUID = len(PATIENT_WITH_CARE.lookups) + rows.IMMUNIZATION.lookups.index("uuid")


class _Reads:
    """The reads of $everything for the readers of one scope (`people_key`), each scoped on
    its own (the records by their person, found through the same scope), compiled once per
    connection and started together."""

    def __init__(self, reader: Reader) -> None:
        def scoped(key: uuid.UUID) -> QuerySet[Person]:
            return people_for(reader).filter(uuid=key)

        def patient(key: uuid.UUID) -> QuerySet[Person]:
            return scoped(key).annotate(
                has_care=Exists(CareOrder.objects.filter(person=OuterRef("pk")))
            )

        # A reader whose scopes leave doses out (a client with people:read only).
        self.patient = CompiledRows(
            lambda key: patient(key).values_list(*PATIENT_WITH_CARE.columns)[:1], uuid.UUID
        )
        self.patient_and_doses = CompiledRows(
            lambda key: (
                patient(key)
                .annotate(
                    **{
                        VALID_DOSES: FilteredRelation(
                            "vaccination_doses",
                            condition=Q(vaccination_doses__status=Dose.Status.VALID),
                        )
                    }
                )
                .order_by(f"{VALID_DOSES}__sequence", f"{VALID_DOSES}__id")
                .values_list(*PATIENT_WITH_CARE.columns, *rows.IMMUNIZATION.through(VALID_DOSES))
            ),
            uuid.UUID,
        )
        self.results = CompiledRows(
            lambda key: (
                Result.objects.filter(person__in=scoped(key))
                .order_by("collected_at", "id")
                .values_list(*rows.RESULT_WITH_TUBE.columns)
            ),
            uuid.UUID,
        )
        self.checks = CompiledRows(
            lambda key: (
                SelfCheck.objects.filter(order__person__in=scoped(key))
                .order_by("measured_at", "id")
                .values_list(*rows.SELF_CHECK.columns)
            ),
            uuid.UUID,
        )
        self.conditions = CompiledRows(
            lambda key: (
                CareOrder.objects.filter(person__in=scoped(key), kind=CareOrder.Kind.HOME_CARE)
                .order_by("start_date", "id")
                .values_list(*rows.CARE_CONDITION.columns)
            ),
            uuid.UUID,
        )


# By scope key: as many as there are distinct scopes among a process's readers (a scope is
# a few area paths, or a household); bounded all the same.
_READS_MAX = 1000
_reads: dict[Hashable, _Reads] = {}


def _reads_for(reader: Reader) -> _Reads | None:
    key = people_key(reader)
    if key is None:
        return None  # nobody: nothing to read
    reads = _reads.get(key)
    if reads is None:
        if len(_reads) >= _READS_MAX:
            _reads.clear()
        reads = _reads[key] = _Reads(reader)
    return reads


# A commune with its district and province (reference data read by every Patient), kept a
# few minutes per process and cleared on any change of an area made in it (apps.py).
AREA_CACHE_SECONDS = 300
area_cache: LocalCache[Area] = LocalCache("fhir.areas", ttl_seconds=AREA_CACHE_SECONDS)


def commune_get(commune_id: int | None) -> Area | None:
    """A commune with `parent.parent` loaded, through the cache."""
    if commune_id is None:
        return None

    def load() -> Area | None:
        # What is kept is read on the primary (a lagging standby's copy would be kept).
        with replica_caught_up_to(None):
            return Area.objects.select_related("parent__parent").filter(pk=commune_id).first()

    return area_cache.get_or_load(commune_id, load)


def _same(area: Area) -> Area:
    return area


def communes_get(commune_ids: Iterable[int | None]) -> dict[int, Area]:
    """Communes by id (`parent.parent` loaded), through the cache; the ones it lacks read
    in one query (a batch of records from many communes: not a query per commune)."""
    found: dict[int, Area] = {}
    missing: list[int] = []
    for commune_id in set(commune_ids):
        if commune_id is None:
            continue
        hit = area_cache.get_or_load(commune_id, lambda: None)
        if hit is None:
            missing.append(commune_id)
        else:
            found[commune_id] = hit
    if missing:
        with replica_caught_up_to(None):
            loaded = Area.objects.select_related("parent__parent").in_bulk(missing)
        for commune_id, area in loaded.items():
            found[commune_id] = area
            area_cache.get_or_load(commune_id, functools.partial(_same, area))
    return found


def _together(
    database: str, key: uuid.UUID, *planned: tuple[CompiledRows, bool]
) -> list[list[tuple[Any, ...]]]:
    """The rows of each needed read of the person `key` (none for the others), the reads
    sent together: one round trip on PostgreSQL."""
    with pipelined(database):
        fetches = [read.start(key) if needed else None for read, needed in planned]
        return [fetch() if fetch is not None else [] for fetch in fetches]


def patient_everything(*, reader: Reader, patient_id: str) -> list[Resource]:
    """The patient and every record of theirs: doses, results (as Observation and
    DiagnosticReport), their specimens, the places that performed them, home-care
    self-checks (vital-sign Observations) and confirmed cases followed at home (Condition);
    charged to a staff reader's look-up budget and audited once."""
    try:
        key = uuid.UUID(patient_id)
    except ValueError as exc:
        raise NotFound() from exc
    reads = _reads_for(reader)
    if reads is None:
        raise NotFound()
    home_care = reader.reads("Condition")
    database = router.db_for_read(Person)
    with_doses = reader.reads("Immunization")
    found, result_rows = _together(
        database,
        key,
        (reads.patient_and_doses if with_doses else reads.patient, True),
        (reads.results, reader.reads("Observation")),
    )
    if not found:
        raise NotFound()
    person: Any = PATIENT_WITH_CARE.row(found[0])
    doses = (
        [DOSE_OF_JOINED_ROW(r) for r in found if r[_JOINED_DOSE_UUID] is not None]
        if with_doses
        else []
    )
    check_rows: list[tuple[Any, ...]] = []
    condition_rows: list[tuple[Any, ...]] = []
    vital_signs = reader.reads(VITAL_SIGNS)
    if (home_care or vital_signs) and person.has_care:
        check_rows, condition_rows = _together(
            database,
            key,
            (reads.checks, vital_signs),
            (reads.conditions, home_care),
        )
    results = [rows.RESULT_WITH_TUBE.row(r) for r in result_rows]
    checks = [rows.SELF_CHECK.row(r) for r in check_rows]
    conditions = [rows.CARE_CONDITION.row(r) for r in condition_rows]
    lookups_charge(reader, [person.uuid])
    person.commune = commune_get(person.commune_id)
    bundle: list[Resource] = [resources.patient(person)]
    places: dict[tuple[str, int], None] = {}
    for dose in doses:
        bundle.append(resources.immunization(dose, person_uuid=person.uuid))
        if dose.site_id is not None:
            places[("vaccination_site", dose.site_id)] = None
    reports: list[Resource] = []
    tubes: dict[int, Any] = {}
    for result in results:
        tube = result.sample.tube
        parts = resources.ResultParts(result, person_uuid=person.uuid)
        bundle.append(
            resources.observation(result, person_uuid=person.uuid, tube_uuid=tube.uuid, parts=parts)
        )
        reports.append(
            resources.diagnostic_report(
                result, person_uuid=person.uuid, tube_uuid=tube.uuid, parts=parts
            )
        )
        tubes.setdefault(result.sample.tube_id, tube)
        lab_id = result.tube_result.lab_id
        places[("lab", lab_id) if lab_id is not None else ("testing_site", result.site_id)] = None
    for check in checks:
        bundle += resources.vital_signs(check, person_uuid=person.uuid)
    bundle += [resources.care_condition(order, person_uuid=person.uuid) for order in conditions]
    bundle += reports
    # A pool's subject is left out by the builder (capacity > 1).
    bundle += [
        resources.specimen(tube, subject_uuid=person.uuid if tube.capacity == 1 else None)
        for tube in tubes.values()
    ]
    for kind, pk in places:
        bundle += place_resources(kind, pk)
    if reader.audited:
        audit_record(
            actor=reader.user,
            actor_role=reader.role,
            action=ACTION,
            # The person's label and UUID, as `obj=` a Person would give (an instance
            # made only for them cost a twentieth of the request's CPU).
            object_type=PERSON_LABEL,
            object_id=str(person.uuid),
            person_uuid=key,
            details={
                "resources": len(bundle),
                **({"client": reader.client_id} if reader.client_id else {}),
            },
        )
    return bundle
