"""Patient/$everything: the patient and every record of theirs, mostly served from the text
kept for them (`models.PatientRecords`), built from the records only when that is missing
or stale.

One read (on a standby inside `reads_from_replica`) finds the patient through the reader's
scope, with their kept records (each group's Bundle entries as JSON text, with how many
resources and which places) and the epoch those must have been built at. The Patient is
built from that row at each read, the places come from the per-process place cache, and
the groups the reader's scopes allow go into the answer as the text they are: no record
is read or built.

When nothing is kept (a first read), or a record changed since (the database's triggers
empty the text: migration 0003), or a vaccine or lot it names changed (the epoch), or the
builders' code did (`BUILD`): two reads, the patient with their valid doses joined and
their results with each result's tube (each scoped on its own, sent together: one round
trip on PostgreSQL), and only for a person with a home-care order two more (self-checks,
each measured vital sign an Observation; F0 orders, each a Condition). Their SQL is
compiled once per connection and reader's scope (`CompiledRows`, by `access.people_key`);
their rows are plain tuples made into attribute rows (`rows`), not model instances. What
is built is kept for the next read, unless a record changed while it was being read.

Then the writes, on the primary: the staff look-up charge (free for a person already
charged this hour) and one audit event naming the person and how many resources were read
(its INSERT built once per process).
"""

from __future__ import annotations

import functools
import hashlib
import sys
import uuid
from collections.abc import Hashable, Iterable
from pathlib import Path
from typing import Any, NamedTuple

import orjson
from django.conf import settings
from django.db import connections, router
from django.db.models import (
    BigIntegerField,
    Exists,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from covidhub.areas.models import Area
from covidhub.audit.services import audit_record
from covidhub.core.localcache import LocalCache
from covidhub.core.rawsql import pipelined
from covidhub.core.replicas import replica_caught_up_to
from covidhub.fhir import codes, resources, rows
from covidhub.fhir.access import VITAL_SIGNS, Reader, people_for, people_key
from covidhub.fhir.errors import NotFound
from covidhub.fhir.models import PatientRecords, RecordsEpoch
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
_PATIENT_COLUMNS = len(rows.PATIENT.lookups)


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

        # The patient with their kept records and the epoch those must have been built at.
        self.kept = CompiledRows(
            lambda key: scoped(key).values_list(
                *rows.PATIENT.columns,
                *(f"fhir_records__{column}" for column in _KEPT_COLUMNS),
                Coalesce(
                    Subquery(RecordsEpoch.objects.filter(pk=1).values("value")[:1]),
                    Value(0),
                    output_field=BigIntegerField(),
                ),
            )[:1],
            uuid.UUID,
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


# The kept records' groups, in the Bundle's order, with the scope each needs (a reader whose
# scopes leave a group out gets the rest): reports hold the DiagnosticReports and their
# Specimens; the places that performed the doses and results follow them all.
GROUPS: tuple[tuple[str, str], ...] = (
    ("immunizations", "Immunization"),
    ("observations", "Observation"),
    ("vitals", VITAL_SIGNS),
    ("conditions", "Condition"),
    ("reports", "Observation"),
)
_KEPT_COLUMNS = ("generation", "build", "epoch", *(group for group, _scope in GROUPS), "meta")


def _build_key() -> str:
    """What the kept text was built by: the builders' source and the zone they write times
    in. A deployment that changes either serves no text built before (each is rebuilt at
    its next read)."""
    digest = hashlib.sha256(settings.TIME_ZONE.encode())
    for module in (resources, rows, codes, sys.modules[__name__]):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()[:16]


BUILD = _build_key()


class Kept(NamedTuple):
    """A person's groups as Bundle entries (JSON text, fullUrl relative), with how many
    resources each holds and the places (kind, pk) its records were performed at."""

    texts: dict[str, str]
    counts: dict[str, int]
    places: dict[str, list[tuple[str, int]]]


def _entry(resource: Resource) -> dict[str, Any]:
    return {
        "fullUrl": f"{resource['resourceType']}/{resource['id']}",
        "resource": resource,
        "search": {"mode": "match"},
    }


def _entries_text(found: list[Resource]) -> str:
    """Entries as the inside of a JSON array (empty for none)."""
    return orjson.dumps([_entry(r) for r in found])[1:-1].decode() if found else ""


def _built(reads: _Reads, database: str, key: uuid.UUID) -> Kept | None:
    """Every record of the person `key` as the groups' entries (None: not found), built from
    the records: two reads (four for a person with home care)."""
    found, result_rows = _together(
        database, key, (reads.patient_and_doses, True), (reads.results, True)
    )
    if not found:
        return None
    person: Any = PATIENT_WITH_CARE.row(found[0])
    person_uuid = person.uuid
    check_rows: list[tuple[Any, ...]] = []
    condition_rows: list[tuple[Any, ...]] = []
    if person.has_care:
        check_rows, condition_rows = _together(
            database, key, (reads.checks, True), (reads.conditions, True)
        )
    groups: dict[str, list[Resource]] = {group: [] for group, _scope in GROUPS}
    places: dict[str, list[tuple[str, int]]] = {"immunizations": [], "observations": []}
    dose_places: dict[tuple[str, int], None] = {}
    for row in found:
        if row[_JOINED_DOSE_UUID] is None:
            continue
        dose = DOSE_OF_JOINED_ROW(row)
        groups["immunizations"].append(resources.immunization(dose, person_uuid=person_uuid))
        if dose.site_id is not None:
            dose_places[("vaccination_site", dose.site_id)] = None
    result_places: dict[tuple[str, int], None] = {}
    tubes: dict[int, Any] = {}
    for result in map(rows.RESULT_WITH_TUBE.row, result_rows):
        tube = result.sample.tube
        parts = resources.ResultParts(result, person_uuid=person_uuid)
        groups["observations"].append(
            resources.observation(result, person_uuid=person_uuid, tube_uuid=tube.uuid, parts=parts)
        )
        groups["reports"].append(
            resources.diagnostic_report(
                result, person_uuid=person_uuid, tube_uuid=tube.uuid, parts=parts
            )
        )
        tubes.setdefault(result.sample.tube_id, tube)
        lab_id = result.tube_result.lab_id
        place = ("lab", lab_id) if lab_id is not None else ("testing_site", result.site_id)
        result_places[place] = None
    # A pool's subject is left out by the builder (capacity > 1).
    groups["reports"] += [
        resources.specimen(tube, subject_uuid=person_uuid if tube.capacity == 1 else None)
        for tube in tubes.values()
    ]
    for check in map(rows.SELF_CHECK.row, check_rows):
        groups["vitals"] += resources.vital_signs(check, person_uuid=person_uuid)
    groups["conditions"] = [
        resources.care_condition(order, person_uuid=person_uuid)
        for order in map(rows.CARE_CONDITION.row, condition_rows)
    ]
    places["immunizations"] = list(dose_places)
    places["observations"] = list(result_places)
    return Kept(
        texts={group: _entries_text(found) for group, found in groups.items()},
        counts={group: len(found) for group, found in groups.items()},
        places=places,
    )


def _kept_row(kept: Kept) -> list[Any]:
    meta = orjson.dumps({"counts": kept.counts, "places": kept.places}).decode()
    return [BUILD, *(kept.texts[group] for group, _scope in GROUPS), meta]


def _kept_from(columns: tuple[Any, ...]) -> Kept:
    texts = dict(zip((group for group, _scope in GROUPS), columns[3:-1], strict=True))
    meta = orjson.loads(columns[-1])
    places = {group: [(kind, pk) for kind, pk in found] for group, found in meta["places"].items()}
    return Kept(texts=texts, counts=meta["counts"], places=places)


def _keep(person_id: int, generation: int | None, epoch: int, kept: Kept) -> None:
    """Keep what was built, unless a record of the person changed since its read began:
    an update only while `generation` is what was read, an insert only where there was no
    row (a write since then made one)."""
    database = connections[router.db_for_write(PatientRecords)]
    values = _kept_row(kept)
    with database.cursor() as cursor:
        if generation is None:
            cursor.execute(
                "INSERT INTO fhir_patientrecords (person_id, generation, epoch, build, "
                "immunizations, observations, vitals, conditions, reports, meta) "
                "VALUES (%s, 0, %s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (person_id) DO NOTHING",
                [person_id, epoch, *values],
            )
        else:
            cursor.execute(
                "UPDATE fhir_patientrecords SET epoch = %s, build = %s, immunizations = %s, "
                "observations = %s, vitals = %s, conditions = %s, reports = %s, meta = %s "
                "WHERE person_id = %s AND generation = %s",
                [epoch, *values, person_id, generation],
            )


def everything_entries(*, reader: Reader, patient_id: str, keep: bool = True) -> tuple[bytes, int]:
    """The patient and every record of theirs as Bundle entries (a JSON array, each
    fullUrl relative: `Patient/<id>`), with how many: doses, results (as Observation and
    DiagnosticReport), their specimens, the places that performed them, home-care
    self-checks (vital-sign Observations) and confirmed cases followed at home (Condition);
    charged to a staff reader's look-up budget and audited once.

    One read finds the patient through the reader's scope with their kept records; only
    when those are missing or stale are the records read (`_built`) and kept again.
    `keep=False` builds from the records and keeps nothing (what the kept text is checked
    against)."""
    try:
        key = uuid.UUID(patient_id)
    except ValueError as exc:
        raise NotFound() from exc
    reads = _reads_for(reader)
    if reads is None:
        raise NotFound()
    found = reads.kept.rows(key)
    if not found:
        raise NotFound()
    row = found[0]
    person: Any = rows.PATIENT.row(row)
    columns = row[_PATIENT_COLUMNS:-1]
    epoch = row[-1]
    generation, build, kept_epoch, immunizations = columns[0], columns[1], columns[2], columns[3]
    if keep and immunizations is not None and build == BUILD and kept_epoch == epoch:
        kept: Kept | None = _kept_from(columns)
    else:
        kept = _built(reads, router.db_for_read(Person), key)
        if kept is None:  # gone since the first read
            raise NotFound()
        if keep:
            _keep(person.id, generation, epoch, kept)
    assert kept is not None
    lookups_charge(reader, [person.uuid])
    person.commune = commune_get(person.commune_id)
    pieces = [orjson.dumps(_entry(resources.patient(person)))]
    count = 1
    places: dict[tuple[str, int], None] = {}
    for group, scope in GROUPS:
        if not reader.reads(scope):
            continue
        if kept.texts[group]:
            pieces.append(kept.texts[group].encode())
            count += kept.counts[group]
        for place in kept.places.get(group, ()):
            places[place] = None
    for kind, pk in places:
        for resource in place_resources(kind, pk):
            pieces.append(orjson.dumps(_entry(resource)))
            count += 1
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
                "resources": count,
                **({"client": reader.client_id} if reader.client_id else {}),
            },
        )
    return b"[" + b",".join(pieces) + b"]", count


def patient_everything(*, reader: Reader, patient_id: str, keep: bool = True) -> list[Resource]:
    """`everything_entries`' resources, as dicts (the download of one's own records)."""
    entries, _count = everything_entries(reader=reader, patient_id=patient_id, keep=keep)
    return [entry["resource"] for entry in orjson.loads(entries)]
