"""Doses given elsewhere (another province, the national platform), imported as FHIR
Immunization resources: a Bundle (JSON) or NDJSON (one resource a line, as a Bulk Data
export writes them).

The import follows the spreadsheet imports (covidhub.core.import_jobs): the whole file is
checked first (nothing written), each bad row reported by number with the reason; the good
rows become an import job applied in short transactions, at once for a short file, by the
worker for a long one (with a progress page). Each row is matched to a person of the
actor's area by the identity number on its Patient (CCCD, CMND or passport, the systems of
covidhub.fhir.codes); a person elsewhere is "not found", in the same words as one who
does not exist. A row is recorded by vaccination's own service for doses given elsewhere
(`dose_record_elsewhere`: the same checks, audit and certificate as by hand), under a
savepoint: a refused row changes nothing. The source's identifier of each Immunization is
kept (`InboundDose`), so that importing the same file again creates nothing twice; our own
doses sent back to us (our identifier system) are recognised as ours.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from covidhub.accounts.scoping import OFFICER_ROLES, actor_scope
from covidhub.audit.services import audit_record
from covidhub.core.cleaning import InvalidText, data_clean
from covidhub.core.errors import DomainError, InvalidInput, NotFound
from covidhub.core.import_jobs import RowOutcome, import_job_create, import_job_run
from covidhub.core.models import ImportJob
from covidhub.exchange.models import InboundDose
from covidhub.exchange.outbox import inbound_recording
from covidhub.fhir import codes
from covidhub.people.identity import InvalidIdentity, identity_normalise
from covidhub.people.models import Person

IMPORT_JOB_KIND = "exchange.immunizations"
MAX_IMPORT_BYTES = 20 * 1024 * 1024
MAX_IMPORT_ROWS = 20_000
# A file this short is applied in the request; a longer one by the worker.
IMPORT_INLINE_ROWS = 200
FIRST_VACCINATION_DAY = datetime.date(2020, 12, 1)
ID_TYPE_BY_SYSTEM = {system: id_type for id_type, system in codes.ID_SYSTEMS.items()}
OWN_SYSTEMS = frozenset({codes.SID_DOSE})


@dataclass
class RowError:
    row: int
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}


@dataclass
class _Parsed:
    rows: int = 0
    already: int = 0
    good: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def not_found_message() -> str:
    """One message for a person who does not exist and one outside the actor's area."""
    return _("No person with this identity number in your area.")


# Reading the file ------------------------------------------------------------------------


def _entries(*, filename: str, content: bytes) -> tuple[list[tuple[int, Any]], list[Any]]:
    """(row number, decoded resource or None when the row is not JSON) of every entry of a
    Bundle (numbered from 1) or every non-empty line of an NDJSON file; and the entries'
    fullUrls (how a Bundle's Immunization names its Patient)."""
    if len(content) > MAX_IMPORT_BYTES:
        raise InvalidInput(
            _("The file is larger than %(mb)s MB; split it.")
            % {"mb": MAX_IMPORT_BYTES // (1024 * 1024)}
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(_("The file is not UTF-8 text.")) from exc
    if not text.strip():
        raise InvalidInput(_("The file is empty."))
    if filename.lower().endswith(".ndjson"):
        rows: list[tuple[int, Any]] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append((number, json.loads(line)))
            except ValueError:
                rows.append((number, None))
        return rows, []
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(
            _("The file is not valid JSON. Upload a FHIR Bundle (.json) or NDJSON (.ndjson).")
        ) from exc
    if isinstance(document, dict) and document.get("resourceType") == "Bundle":
        entries = document.get("entry") or []
        if not isinstance(entries, list):
            raise InvalidInput(_("The Bundle's entries are not a list."))
        return (
            [
                (n, e.get("resource") if isinstance(e, dict) else None)
                for n, e in enumerate(entries, start=1)
            ],
            [e.get("fullUrl") if isinstance(e, dict) else None for e in entries],
        )
    if isinstance(document, dict) and document.get("resourceType") == "Immunization":
        return [(1, document)], []
    raise InvalidInput(_("The file is not a FHIR Bundle of Immunization resources."))


def _patient_keys(resource: dict[str, Any], full_url: str | None) -> list[str]:
    keys = [f"Patient/{resource['id']}"] if isinstance(resource.get("id"), str) else []
    return [*keys, full_url] if full_url else keys


def _identity(patient: Any) -> tuple[str, str] | None:
    """(id_type, normalised number) of the first CCCD, CMND or passport identifier."""
    identifiers = patient.get("identifier") if isinstance(patient, dict) else None
    if isinstance(identifiers, dict):  # a logical reference carries one identifier
        identifiers = [identifiers]
    for identifier in identifiers or []:
        if not isinstance(identifier, dict):
            continue
        id_type = ID_TYPE_BY_SYSTEM.get(str(identifier.get("system") or ""))
        value = identifier.get("value")
        if id_type and isinstance(value, str):
            try:
                return id_type, identity_normalise(id_type=id_type, number=value)
            except InvalidIdentity:
                continue
    return None


def _vaccines() -> tuple[dict[str, Any], dict[str, Any]]:
    """The vaccines by DCC product code, and by CVX code where one CVX names one vaccine."""
    from covidhub.vaccination.models import Vaccine

    by_product = {}
    by_cvx: dict[str, list[Any]] = {}
    for vaccine in Vaccine.objects.all():
        if vaccine.product_code:
            by_product[vaccine.product_code] = vaccine
        cvx = codes.CVX_BY_VACCINE.get(vaccine.code)
        if cvx:
            by_cvx.setdefault(cvx[0], []).append(vaccine)
    return by_product, {code: found[0] for code, found in by_cvx.items() if len(found) == 1}


def _vaccine_for(concept: Any, vaccines: tuple[dict[str, Any], dict[str, Any]]) -> Any:
    by_product, by_cvx = vaccines
    codings = concept.get("coding") if isinstance(concept, dict) else None
    for coding in codings or []:
        if not isinstance(coding, dict):
            continue
        system, code = coding.get("system"), str(coding.get("code") or "")
        if system == codes.CS_DCC_PRODUCT and code in by_product:
            return by_product[code]
        if system == codes.CVX and code in by_cvx:
            return by_cvx[code]
    return None


def _codes_text(concept: Any) -> str:
    codings = concept.get("coding") if isinstance(concept, dict) else None
    found = [
        f"{c.get('system', '')}|{c.get('code', '')}" for c in codings or [] if isinstance(c, dict)
    ]
    return ", ".join(found)[:200] or "—"


def _day(value: Any) -> datetime.date | None:
    if not isinstance(value, str):
        return None
    try:
        moment = parse_datetime(value)
        if moment is not None:
            return timezone.localdate(moment) if timezone.is_aware(moment) else moment.date()
        return parse_date(value)
    except ValueError:
        return None


def _place(resource: dict[str, Any], source_name: str) -> str:
    candidates = [
        *(p.get("actor") for p in resource.get("performer") or [] if isinstance(p, dict)),
        resource.get("location"),
        resource.get("reportOrigin"),
    ]
    for candidate in candidates:
        if isinstance(candidate, dict):
            text = candidate.get("display") or candidate.get("text")
            if isinstance(text, str) and text.strip():
                return text.strip()[:200]
    return source_name[:200] or _("Another system (FHIR import)")


def _row_check(
    number: int,
    resource: Any,
    *,
    patients: dict[str, Any],
    vaccines: tuple[dict[str, Any], dict[str, Any]],
    source_name: str,
) -> RowError | dict[str, Any]:
    """One Immunization checked: the row to apply, or its error (nothing is read from the
    people here; that is done for the whole file at once)."""
    if resource is None:
        return RowError(number, "resource", _("This row is not valid JSON."))
    if not isinstance(resource, dict) or resource.get("resourceType") != "Immunization":
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        return RowError(
            number,
            "resourceType",
            _("Only Immunization resources are imported (this row is %(type)s).")
            % {"type": str(kind or "?")[:40]},
        )
    try:
        resource = data_clean(resource)
    except InvalidText as exc:
        return RowError(number, "text", str(exc.message))
    if resource.get("status") != "completed":
        return RowError(
            number,
            "status",
            _("Only completed doses are imported (this one is %(status)s).")
            % {"status": str(resource.get("status") or "?")[:40]},
        )
    identifier = next(
        (
            i
            for i in resource.get("identifier") or []
            if isinstance(i, dict)
            and isinstance(i.get("system"), str)
            and isinstance(i.get("value"), str)
            and 0 < len(i["system"]) <= 255
            and 0 < len(i["value"]) <= 255
        ),
        None,
    )
    if identifier is None:
        return RowError(
            number,
            "identifier",
            _(
                "The Immunization has no identifier (system and value): it could not be "
                "recognised if it were imported again."
            ),
        )
    vaccine = _vaccine_for(resource.get("vaccineCode"), vaccines)
    if vaccine is None:
        return RowError(
            number,
            "vaccineCode",
            _("Unknown vaccine code: %(codes)s.")
            % {"codes": _codes_text(resource.get("vaccineCode"))},
        )
    day = _day(resource.get("occurrenceDateTime"))
    if day is None:
        return RowError(
            number, "occurrenceDateTime", _("The date the dose was given is missing or not valid.")
        )
    if day > timezone.localdate():
        return RowError(number, "occurrenceDateTime", _("The date is in the future."))
    if day < FIRST_VACCINATION_DAY:
        return RowError(
            number,
            "occurrenceDateTime",
            _("COVID-19 vaccines were not given before December 2020."),
        )
    reference = resource.get("patient")
    patient = reference
    if isinstance(reference, dict) and not reference.get("identifier"):
        patient = patients.get(str(reference.get("reference") or ""))
    identity = _identity(patient)
    if identity is None:
        return RowError(
            number, "patient", _("The patient has no valid CCCD, CMND or passport number.")
        )
    return {
        "row": number,
        "id_type": identity[0],
        "id_number": identity[1],
        "vaccine": vaccine.pk,
        "day": day.isoformat(),
        "place": _place(resource, source_name),
        "system": identifier["system"],
        "value": identifier["value"],
    }


def _parse(*, actor: Any, filename: str, content: bytes, source_name: str) -> _Parsed:
    entries, full_urls = _entries(filename=filename, content=content)
    patients: dict[str, Any] = {}
    for position, (_number, resource) in enumerate(entries):
        if isinstance(resource, dict) and resource.get("resourceType") == "Patient":
            url = full_urls[position] if position < len(full_urls) else None
            for name in _patient_keys(resource, url if isinstance(url, str) else None):
                patients[name] = resource
    parsed = _Parsed()
    vaccines = _vaccines()
    seen: dict[tuple[str, str], int] = {}
    checked: list[dict[str, Any]] = []
    for number, resource in entries:
        if isinstance(resource, dict) and resource.get("resourceType") == "Patient":
            continue  # the people the doses name, not rows of their own
        parsed.rows += 1
        if parsed.rows > MAX_IMPORT_ROWS:
            raise InvalidInput(
                _("A file may have at most %(max)s doses; split it.") % {"max": MAX_IMPORT_ROWS}
            )
        outcome = _row_check(
            number, resource, patients=patients, vaccines=vaccines, source_name=source_name
        )
        if isinstance(outcome, RowError):
            parsed.errors.append(outcome)
            continue
        key = (outcome["system"], outcome["value"])
        if key in seen:
            parsed.errors.append(
                RowError(
                    number,
                    "identifier",
                    _("The same Immunization is already in row %(row)s.") % {"row": seen[key]},
                )
            )
            continue
        seen[key] = number
        checked.append(outcome)
    _people_match(actor=actor, rows=checked, parsed=parsed)
    parsed.errors.sort(key=lambda e: e.row)
    return parsed


def _people_match(*, actor: Any, rows: list[dict[str, Any]], parsed: _Parsed) -> None:
    """Each row's person (of the actor's area only) and whether it was imported before."""
    scope = actor_scope(actor)
    numbers = sorted({r["id_number"] for r in rows})
    people: dict[tuple[str, str], Person] = {}
    for start in range(0, len(numbers), 2000):
        for holder in Person.objects.filter(id_number__in=numbers[start : start + 2000]):
            if scope.covers_path(holder.commune_path):
                people[(holder.id_type, holder.id_number)] = holder
    done: set[tuple[str, str]] = set()
    values = sorted({r["value"] for r in rows})
    for start in range(0, len(values), 2000):
        done |= set(
            InboundDose.objects.filter(value__in=values[start : start + 2000]).values_list(
                "system", "value"
            )
        )
    for row in rows:
        if (row["system"], row["value"]) in done or row["system"] in OWN_SYSTEMS:
            parsed.already += 1
            continue
        person = people.get((row["id_type"], row["id_number"]))
        if person is None:
            parsed.errors.append(RowError(row["row"], "patient", not_found_message()))
            continue
        row["person"] = person.pk
        del row["id_type"], row["id_number"]  # the job keeps no identity numbers
        parsed.good.append(row)


# Importing ---------------------------------------------------------------------------------


def _inline_rows() -> int:
    return int(getattr(settings, "IMPORT_INLINE_ROWS", IMPORT_INLINE_ROWS))


def immunizations_import(
    *, actor: Any, filename: str, content: bytes, source_name: str = ""
) -> ImportJob:
    """Import the doses of a FHIR Bundle or NDJSON file given elsewhere to people of the
    actor's area: every row checked first, bad rows reported by number (they change
    nothing), the good ones applied as an import job (at once for a short file, by the
    worker for a long one: the job's `finished` tells which). Importing the same file
    again creates nothing twice."""
    scope = actor_scope(actor)
    if not scope.has_role(*OFFICER_ROLES):
        raise NotFound()
    source_name = " ".join(str(source_name or "").split())[:150]
    parsed = _parse(actor=actor, filename=filename, content=content, source_name=source_name)
    with transaction.atomic():
        job = import_job_create(
            actor=actor,
            kind=IMPORT_JOB_KIND,
            scope=" ".join(scope.area_paths),
            rows=parsed.good,
            errors=[e.as_dict() for e in parsed.errors],
            params={
                "rows": parsed.rows,
                "already": parsed.already,
                "invalid": len(parsed.errors),
                "source_name": source_name,
            },
        )
        audit_record(
            actor=actor,
            action="exchange.inbound.import_started",
            obj=job,
            details={"rows": parsed.rows, "good": len(parsed.good), "errors": len(parsed.errors)},
        )
        inline = len(parsed.good) <= _inline_rows()
        if not inline:
            from covidhub.exchange.tasks import immunizations_import_run_task

            job_uuid = str(job.uuid)
            transaction.on_commit(lambda: immunizations_import_run_task.enqueue(job_uuid))
    if inline:
        job = immunizations_import_run(job_uuid=job.uuid)
    return job


def immunizations_import_run(*, job_uuid: Any) -> ImportJob:
    """Apply an import job's remaining rows, chunk by chunk (the worker's task)."""
    return import_job_run(job_uuid=job_uuid, apply_row=_row_apply, finish=_import_finish)


def _error(item: dict[str, Any], field_name: str, message: str) -> dict[str, Any]:
    return {"row": item["row"], "field": field_name, "message": message}


def _row_apply(job: ImportJob, item: dict[str, Any]) -> RowOutcome:
    """One row, in the chunk's transaction, under a savepoint: a refused row leaves
    nothing behind (its dose, its certificate's queue row, its audit)."""
    from covidhub.vaccination.models import Vaccine
    from covidhub.vaccination.services import dose_record_elsewhere

    actor: Any = job.actor
    if InboundDose.objects.filter(system=item["system"], value=item["value"]).exists():
        return "skipped"  # imported meanwhile (the same file twice at once)
    person = Person.objects.filter(pk=item["person"]).first()
    vaccine = Vaccine.objects.filter(pk=item["vaccine"]).first()
    if person is None:
        return _error(item, "patient", not_found_message())
    if vaccine is None:
        return _error(item, "vaccineCode", _("Unknown vaccine code: %(codes)s.") % {"codes": "—"})
    source = job.payload["params"].get("source_name") or ""
    try:
        with transaction.atomic(), inbound_recording():
            dose = dose_record_elsewhere(
                actor=actor,
                person=person,
                vaccine=vaccine,
                administered_on=datetime.date.fromisoformat(item["day"]),
                place=item["place"],
                country="VN",
                evidence_note=f"FHIR {source} {item['system']}|{item['value']}".replace("  ", " ")[
                    :300
                ],
            )
            inbound = InboundDose.objects.create(
                system=item["system"], value=item["value"], dose=dose, imported_by=actor
            )
            audit_record(
                actor=actor,
                action="exchange.inbound.dose_imported",
                obj=inbound,
                person_uuid=person.uuid,
                details={"job": str(job.uuid), "row": item["row"], "dose": str(dose.uuid)},
            )
    except NotFound:
        return _error(item, "patient", not_found_message())
    except IntegrityError:
        return "skipped"  # the same identifier committed by another run meanwhile
    except DomainError as exc:
        fields = exc.details.get("fields") or {}
        first = next(iter(fields.values()), None)
        message = str(first[0]) if first else str(exc.message)
        return _error(item, "occurrenceDateTime", message)
    return "created"


def _import_finish(job: ImportJob) -> None:
    report = inbound_report(job)
    audit_record(
        actor=job.actor,
        action="exchange.inbound.imported",
        obj=job,
        details={
            "rows": report.rows,
            "imported": report.imported,
            "already": report.already,
            "errors": len(report.errors),
        },
    )


@dataclass
class InboundReport:
    rows: int
    imported: int
    already: int
    errors: list[RowError]
    applied: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "imported": self.imported,
            "already": self.already,
            "applied": self.applied,
            "errors": [e.as_dict() for e in self.errors],
        }


def inbound_report(job: ImportJob) -> InboundReport:
    """The row-by-row report of a job, in the words of the spreadsheet imports."""
    params = job.payload.get("params", {})
    refused_at_apply = max(len(job.errors) - int(params.get("invalid", 0)), 0)
    skipped = max(job.rows_done - job.created_count - refused_at_apply, 0)
    return InboundReport(
        rows=int(params.get("rows", job.rows_total)),
        imported=job.created_count,
        already=int(params.get("already", 0)) + skipped,
        errors=[RowError(e["row"], e["field"], e["message"]) for e in job.errors],
        applied=job.status == ImportJob.Status.DONE,
    )
