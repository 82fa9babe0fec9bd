"""FHIR Bulk Data export (HL7 Bulk Data Access IG, system and Patient level).

Kick-off (`export_request`) checks the reader and the area, keeps an `ExportJob` and queues
`fhir_export_run`; the worker streams each resource type to an NDJSON file, a chunk of rows
at a time (memory stays flat whatever the size of the district), checking between chunks
whether the requester cancelled. Files are served to the requester only, until they expire
(`FHIR_EXPORT_HOURS`); the periodic `fhir_exports_expire` deletes them.

Every exported person is on the audit trail (one event per person, with the job), as every
other read of health data is; when Patient is not among the exported types, each exported
record is audited instead.
"""

from __future__ import annotations

import datetime
import logging
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from covidhub.accounts.scoping import actor_scope
from covidhub.areas.models import Area
from covidhub.audit.services import audit_record, audit_record_each
from covidhub.fhir import resources, rows
from covidhub.fhir.access import CLIENT, VITAL_SIGNS, Reader, client_reads_now, paths_q
from covidhub.fhir.capability import EXPORT_TYPES
from covidhub.fhir.errors import BadRequest, Forbidden, NotFound, TooMany
from covidhub.fhir.models import ExportJob
from covidhub.fhir.search import instant_parse
from covidhub.homecare.models import CareOrder, SelfCheck
from covidhub.people.models import Person
from covidhub.testing.models import Result, Sample, Tube
from covidhub.vaccination.models import Dose

logger = logging.getLogger(__name__)

CHUNK_ROWS = 2000
ACTIVE_JOBS_MAX = 3
OUTPUT_FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")


def _related(model: Any, name: str) -> Any:
    """The forward relation `name` of `model`, whose cache the export fills from memory."""
    return model._meta.get_field(name)


def export_root() -> Path:
    return Path(settings.FHIR_EXPORT_DIR)


def job_dir(job: ExportJob) -> Path:
    return export_root() / str(job.uuid)


# Kick-off, status, cancel -------------------------------------------------------------


def _types_parse(value: str | None) -> list[str]:
    if not value:
        return list(EXPORT_TYPES)
    wanted = [t.strip() for t in value.split(",")]
    unknown = [t for t in wanted if t not in EXPORT_TYPES]
    if unknown or not all(wanted):
        raise BadRequest(
            _("_type lists resource types this server exports: %(types)s.")
            % {"types": ", ".join(EXPORT_TYPES)}
        )
    return list(dict.fromkeys(wanted))


def _reads_type(reader: Reader, resource_type: str) -> bool:
    """Whether any part of a type is the reader's to export (an Observation: test results
    or the vital signs of home care)."""
    return reader.reads(resource_type) or (
        resource_type == "Observation" and reader.reads(VITAL_SIGNS)
    )


def _job_reads(job: ExportJob, key: str) -> bool:
    """Whether the job's requester may read `key` (a resource type, or VITAL_SIGNS) as its
    file is written: people and staff as their areas decide; a client as its scopes cover
    now (a scope taken away since the kick-off is honoured)."""
    return not job.client_id or client_reads_now(job.client_id, key)


def _area_paths(reader: Reader, area_code: str | None) -> list[str]:
    allowed = reader.export_paths()
    if not allowed:
        raise Forbidden(_("Your account may not export data."))
    if not area_code:
        return list(allowed)
    area = Area.objects.filter(code=area_code.strip()).order_by("level").first()
    if area is None or not any(area.path.startswith(path) for path in allowed):
        raise NotFound(_("No area with this code in your areas."))
    return [area.path]


def export_request(
    *,
    reader: Reader,
    request_url: str,
    resource_types: str | None,
    since: str | None,
    area_code: str | None,
    output_format: str | None,
) -> ExportJob:
    """Check and keep a kick-off request; the worker runs it once it is committed."""
    if output_format and output_format not in OUTPUT_FORMATS:
        raise BadRequest(_("_outputFormat must be application/fhir+ndjson."))
    types = _types_parse(resource_types)
    if resource_types and not all(_reads_type(reader, t) for t in types):
        raise Forbidden(_("This client's scopes do not cover every type in _type."))
    types = [t for t in types if _reads_type(reader, t)]
    since_at = instant_parse(since) if since else None
    paths = _area_paths(reader, area_code)
    owner = (
        Q(client_id=reader.client_id)
        if reader.kind == CLIENT
        else Q(requested_by=reader.user, client_id="")
    )
    active = ExportJob.objects.filter(owner).filter(
        status__in=(ExportJob.Status.QUEUED, ExportJob.Status.RUNNING)
    )
    if active.count() >= ACTIVE_JOBS_MAX:
        raise TooMany(
            _("You have %(count)s exports running: wait for one to finish or cancel one.")
            % {"count": ACTIVE_JOBS_MAX}
        )
    from covidhub.fhir.tasks import fhir_export_run

    with transaction.atomic():
        job = ExportJob.objects.create(
            requested_by=reader.user,
            actor_role=reader.role,
            client_id=reader.client_id,
            area_paths=paths,
            resource_types=types,
            since=since_at,
            request_url=request_url[:2000],
            transaction_time=timezone.now(),
        )
        audit_record(
            actor=reader.user,
            actor_role=reader.role,
            action="fhir.export.requested",
            obj=job,
            details={"areas": paths, "types": types, "client": reader.client_id},
        )
        transaction.on_commit(lambda: fhir_export_run.enqueue(str(job.uuid)))
    return job


def export_get_for_reader(*, reader: Reader, job_uuid: Any) -> ExportJob:
    """The reader's own job (not cancelled, not expired), else NotFound."""
    job = ExportJob.objects.filter(uuid=job_uuid).first()
    if (
        job is None
        or not reader.owns(user_id=job.requested_by_id, client_id=job.client_id)
        or job.status == ExportJob.Status.CANCELLED
        or (job.expires_at is not None and job.expires_at <= timezone.now())
    ):
        raise NotFound()
    return job


def export_cancel(*, reader: Reader, job_uuid: Any) -> None:
    """Cancel a running job or delete a finished one's files (the spec's DELETE)."""
    with transaction.atomic():
        job = export_get_for_reader(reader=reader, job_uuid=job_uuid)
        job = ExportJob.objects.select_for_update().get(pk=job.pk)
        job.status = ExportJob.Status.CANCELLED
        job.finished_at = job.finished_at or timezone.now()
        job.save(update_fields=["status", "finished_at"])
        audit_record(
            actor=reader.user,
            actor_role=reader.role,
            action="fhir.export.cancelled",
            obj=job,
            details={"client": reader.client_id},
        )
    if job.started_at is None or job.finished_at is not None:
        shutil.rmtree(job_dir(job), ignore_errors=True)


def export_manifest(*, job: ExportJob, file_url: Callable[[ExportJob, str], str]) -> dict[str, Any]:
    return {
        "transactionTime": resources.instant(job.transaction_time),
        "request": job.request_url,
        "requiresAccessToken": True,
        "output": [
            {"type": f["type"], "url": file_url(job, f["name"]), "count": f["count"]}
            for f in job.files
        ],
        "error": [],
    }


def export_file_path(*, reader: Reader, job_uuid: Any, file_name: str) -> Path:
    """The path of one of the reader's finished files, or NotFound."""
    job = export_get_for_reader(reader=reader, job_uuid=job_uuid)
    if job.status != ExportJob.Status.DONE:
        raise NotFound()
    names = {f["name"] for f in job.files}
    if file_name not in names:
        raise NotFound()
    path = job_dir(job) / file_name
    if not path.is_file():
        raise NotFound()
    return path


# The worker -------------------------------------------------------------------------------


class _Cancelled(Exception):
    pass


def _since_q(job: ExportJob, field: str) -> Q:
    return Q(**{f"{field}__gte": job.since}) if job.since else Q()


class _Areas:
    """Every area of the export in memory, parents linked: a person's address then costs
    no join and no query."""

    def __init__(self) -> None:
        by_id = {a.pk: a for a in Area.objects.all()}
        field = _related(Area, "parent")
        for area in by_id.values():
            if area.parent_id is not None and area.parent_id in by_id:
                field.set_cached_value(area, by_id[area.parent_id])
        self.by_id = by_id


# Each writer yields (object type, object id, person UUID or None, resource) per record,
# reading plain rows through a server-side cursor (`iterator`), a chunk at a time.
Written = tuple[str, str, Any, dict[str, Any]]

_PATIENT_ROWS = rows.PATIENT
_DOSE_ROWS = rows.Shape(*rows.IMMUNIZATION.lookups, "person__uuid")
_RESULT_ROWS = rows.Shape(*rows.RESULT.lookups, "person__uuid", "sample__tube__uuid")
_TUBE_ROWS = rows.Shape(*rows.SPECIMEN.lookups, "subject_key")
_CHECK_ROWS = rows.Shape(*rows.SELF_CHECK.lookups, "order__person__uuid")
_CONDITION_ROWS = rows.Shape(*rows.CARE_CONDITION.lookups, "person__uuid")


def _patients(job: ExportJob, paths: tuple[str, ...]) -> Iterator[Written]:
    areas = _Areas()
    make = _PATIENT_ROWS.row
    queryset = (
        Person.objects.filter(paths_q(paths, "commune_path"), _since_q(job, "updated_at"))
        .order_by("id")
        .values_list(*_PATIENT_ROWS.columns)
    )
    for values in queryset.iterator(chunk_size=CHUNK_ROWS):
        person: Any = make(values)
        person.commune = areas.by_id.get(person.commune_id)
        yield "people.person", str(person.uuid), person.uuid, resources.patient(person)


def _immunizations(job: ExportJob, paths: tuple[str, ...]) -> Iterator[Written]:
    make = _DOSE_ROWS.row
    queryset = (
        Dose.objects.filter(
            paths_q(paths, "person__commune_path"),
            _since_q(job, "updated_at"),
            status=Dose.Status.VALID,
        )
        .order_by("id")
        .values_list(*_DOSE_ROWS.columns)
    )
    for values in queryset.iterator(chunk_size=CHUNK_ROWS):
        dose = make(values)
        person_uuid = dose.person.uuid
        yield (
            "vaccination.dose",
            str(dose.uuid),
            person_uuid,
            resources.immunization(dose, person_uuid=person_uuid),
        )


def _result_rows(
    job: ExportJob, paths: tuple[str, ...], build: Callable[..., Any]
) -> Iterator[Written]:
    make = _RESULT_ROWS.row
    queryset = (
        Result.objects.annotate(last_updated=Coalesce("amended_at", "released_at"))
        .filter(paths_q(paths, "person__commune_path"), _since_q(job, "last_updated"))
        .order_by("id")
        .values_list(*_RESULT_ROWS.columns)
    )
    for values in queryset.iterator(chunk_size=CHUNK_ROWS):
        result = make(values)
        person_uuid = result.person.uuid
        yield (
            "testing.result",
            str(result.uuid),
            person_uuid,
            build(result, person_uuid=person_uuid, tube_uuid=result.sample.tube.uuid),
        )


def _specimens(job: ExportJob, paths: tuple[str, ...]) -> Iterator[Written]:
    members = Sample.objects.filter(
        tube=OuterRef("pk"),
        status=Sample.Status.ACTIVE,
    ).filter(paths_q(paths, "person__commune_path"))
    subject = Sample.objects.filter(tube=OuterRef("pk"), status=Sample.Status.ACTIVE).values(
        "person__uuid"
    )[:1]
    make = _TUBE_ROWS.row
    queryset = (
        Tube.objects.annotate(
            last_updated=Coalesce(
                "resulted_at", "received_at", "shipped_at", "closed_at", "collected_at"
            )
        )
        .filter(Exists(members), _since_q(job, "last_updated"))
        .annotate(subject_key=Subquery(subject))
        .order_by("id")
        .values_list(*_TUBE_ROWS.columns)
    )
    for values in queryset.iterator(chunk_size=CHUNK_ROWS):
        tube = make(values)
        person_uuid = tube.subject_key if tube.capacity == 1 else None
        yield (
            "testing.tube",
            str(tube.uuid),
            person_uuid,
            resources.specimen(tube, subject_uuid=person_uuid),
        )


def _vital_signs(job: ExportJob, paths: tuple[str, ...]) -> Iterator[Written]:
    """Each vital sign of the home-care self-checks (an Observation each)."""
    make = _CHECK_ROWS.row
    queryset = (
        SelfCheck.objects.filter(
            paths_q(paths, "order__person__commune_path"), _since_q(job, "created_at")
        )
        .order_by("id")
        .values_list(*_CHECK_ROWS.columns)
    )
    for values in queryset.iterator(chunk_size=CHUNK_ROWS):
        check = make(values)
        person_uuid = check.order.person.uuid
        for resource in resources.vital_signs(check, person_uuid=person_uuid):
            yield "homecare.selfcheck", resource["id"], person_uuid, resource


def _conditions(job: ExportJob, paths: tuple[str, ...]) -> Iterator[Written]:
    """The confirmed cases followed at home (F0 home-care orders)."""
    if not _job_reads(job, "Condition"):
        return
    make = _CONDITION_ROWS.row
    queryset = (
        CareOrder.objects.filter(
            paths_q(paths, "person__commune_path"),
            _since_q(job, "updated_at"),
            kind=CareOrder.Kind.HOME_CARE,
        )
        .order_by("id")
        .values_list(*_CONDITION_ROWS.columns)
    )
    for values in queryset.iterator(chunk_size=CHUNK_ROWS):
        order = make(values)
        person_uuid = order.person.uuid
        yield (
            "homecare.careorder",
            str(order.uuid),
            person_uuid,
            resources.care_condition(order, person_uuid=person_uuid),
        )


def _observations(job: ExportJob, paths: tuple[str, ...]) -> Iterator[Written]:
    """Test results, then the vital signs of home-care self-checks: each only when the
    requester may read it (a laboratory's client reads results, not a person's care)."""
    if _job_reads(job, "Observation"):
        yield from _result_rows(job, paths, resources.observation)
    if _job_reads(job, VITAL_SIGNS):
        yield from _vital_signs(job, paths)


WRITERS: dict[str, Callable[[ExportJob, tuple[str, ...]], Iterator[Written]]] = {
    "Patient": _patients,
    "Immunization": _immunizations,
    "Observation": _observations,
    "DiagnosticReport": lambda job, paths: _result_rows(job, paths, resources.diagnostic_report),
    "Specimen": _specimens,
    "Condition": _conditions,
}


def _job_paths(job: ExportJob) -> tuple[str, ...]:
    """The job's areas, still within its requester's scope now (a role taken away since the
    kick-off, from a staff account or a client's service account, narrows or empties it)."""
    paths = tuple(job.area_paths)
    if job.requested_by is None:
        return ()
    scope = actor_scope(job.requested_by)
    return tuple(p for p in paths if scope.covers_path(p))


def _check_cancelled(job: ExportJob, written: int) -> None:
    updated = ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING).update(
        resources_written=written
    )
    if not updated:
        raise _Cancelled()


def _write_type(
    job: ExportJob, resource_type: str, paths: tuple[str, ...], path: Path, written: int
) -> int:
    """Write one type's NDJSON file a chunk at a time (the chunk's lines and its audit
    events, then the cancellation check): memory holds one chunk, whatever the export."""
    audit_each = "Patient" not in job.resource_types or resource_type == "Patient"
    action = (
        "fhir.export.patient"
        if resource_type == "Patient"
        else f"fhir.export.{resource_type.lower()}"
    )
    details = {"job": str(job.uuid), **({"client": job.client_id} if job.client_id else {})}
    count = 0
    lines: list[bytes] = []
    pending: dict[str, list[tuple[str, Any]]] = {}

    def flush() -> None:
        lines.append(b"")  # the last line's end
        out.write(b"\n".join(lines))
        lines.clear()
        for object_type, items in pending.items():
            audit_record_each(
                actor=job.requested_by,
                actor_role=job.actor_role,
                action=action,
                object_type=object_type,
                items=items,
                details=details,
            )
        pending.clear()

    with path.open("wb") as out:
        for object_type, object_id, person_uuid, resource in WRITERS[resource_type](job, paths):
            lines.append(orjson.dumps(resource))
            count += 1
            if audit_each and person_uuid is not None:
                pending.setdefault(object_type, []).append((object_id, person_uuid))
            if count % CHUNK_ROWS == 0:
                flush()
                _check_cancelled(job, written + count)
        if lines:
            flush()
    return count


def export_run(*, job_uuid: str) -> ExportJob | None:
    """Write every file of one job (the worker's task); a job already taken, cancelled or
    finished is left alone."""
    with transaction.atomic():
        job = (
            ExportJob.objects.select_for_update(of=("self",))
            .select_related("requested_by")
            .filter(uuid=job_uuid)
            .first()
        )
        if job is None or job.status != ExportJob.Status.QUEUED:
            return job
        job.status = ExportJob.Status.RUNNING
        job.started_at = timezone.now()
        job.save(update_fields=["status", "started_at"])
    directory = job_dir(job)
    directory.mkdir(parents=True, exist_ok=True)
    paths = _job_paths(job)
    files: list[dict[str, Any]] = []
    written = 0
    try:
        for resource_type in job.resource_types:
            name = f"{resource_type}.ndjson"
            count = _write_type(job, resource_type, paths, directory / name, written)
            written += count
            files.append({"type": resource_type, "name": name, "count": count})
            _check_cancelled(job, written)
    except _Cancelled:
        shutil.rmtree(directory, ignore_errors=True)
        return job
    except Exception:
        logger.exception("FHIR export %s failed", job.uuid)
        shutil.rmtree(directory, ignore_errors=True)
        ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING).update(
            status=ExportJob.Status.FAILED, finished_at=timezone.now(), error="export_failed"
        )
        raise
    now = timezone.now()
    done = ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING).update(
        status=ExportJob.Status.DONE,
        files=files,
        resources_written=written,
        finished_at=now,
        expires_at=now + datetime.timedelta(hours=settings.FHIR_EXPORT_HOURS),
    )
    if not done:  # cancelled after the last chunk
        shutil.rmtree(directory, ignore_errors=True)
    job.refresh_from_db()
    return job


def exports_expire() -> int:
    """Delete the files of expired and cancelled exports; return how many were deleted."""
    now = timezone.now()
    gone = 0
    finished = ExportJob.objects.filter(
        Q(expires_at__lte=now) | Q(status__in=(ExportJob.Status.CANCELLED, ExportJob.Status.FAILED))
    )
    for job in finished.only("uuid").iterator():
        directory = job_dir(job)
        if directory.exists():
            shutil.rmtree(directory, ignore_errors=True)
            gone += 1
    return gone
