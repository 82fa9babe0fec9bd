"""Registrations: by the citizen for their household, by officers, and from lists that
agencies and communes upload (XLSX or CSV)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from covidhub.accounts.models import Role, User
from covidhub.accounts.scoping import OFFICER_ROLES, actor_scope
from covidhub.core.errors import InvalidInput, NotFound
from covidhub.core.import_jobs import RowOutcome, import_job_create, import_job_run
from covidhub.core.models import ImportJob
from covidhub.core.spreadsheets import SheetLimits, sheet_read
from covidhub.people.claims import identity_names_the_holder
from covidhub.people.models import Person
from covidhub.people.services import person_create
from covidhub.people.validation import person_input_clean
from covidhub.vaccination.checklists import HEALTH_QUESTIONS
from covidhub.vaccination.errors import ImportRefused
from covidhub.vaccination.models import (
    PersonVaccination,
    PriorityGroup,
    Registration,
    VaccinationSite,
)
from covidhub.vaccination.services.common import audit

IMPORT_ROLES = (*OFFICER_ROLES, Role.AGENCY_HEAD)
MAX_IMPORT_ROWS = 20_000
MAX_IMPORT_BYTES = 10 * 1024 * 1024


def priority_group_parse(value: Any) -> str:
    """'g05', '5', '05', 5 → 'g05'; '' if not a group."""
    text = str(value or "").strip().lower()
    if text in PriorityGroup.values:
        return text
    digits = text.removeprefix("g").split(".")[0].strip()
    if digits.isdigit():
        code = f"g{int(digits):02d}"
        if code in PriorityGroup.values:
            return code
    return ""


def _clean_registration(
    *, priority_group: str, occupation: str, health_answers: dict[str, Any]
) -> tuple[str, str, dict[str, bool]]:
    errors: dict[str, list[str]] = {}
    group = priority_group_parse(priority_group)
    if not group:
        errors["priority_group"] = [_("Choose the priority group.")]
    occupation = (occupation or "").strip()
    if len(occupation) > 100:
        errors["occupation"] = [_("The occupation is too long (up to 100 characters).")]
    known = {q.key for q in HEALTH_QUESTIONS}
    unknown = set(health_answers) - known
    if unknown:
        errors["health_answers"] = [_("Answer only the questions asked.")]
    answers = {k: bool(v) for k, v in health_answers.items() if k in known}
    if errors:
        raise InvalidInput(details={"fields": errors})
    return group, occupation, answers


def _upsert(
    *,
    actor: Any,
    person: Person,
    group: str,
    occupation: str,
    answers: dict[str, bool],
    preferred_site: VaccinationSite | None,
    source: str,
    source_name: str,
) -> tuple[Registration, bool]:
    registration = Registration.objects.select_for_update().filter(person=person).first()
    created = registration is None
    if registration is None:
        registration = Registration(person=person)
    registration.priority_group = group
    if occupation or created:
        registration.occupation = occupation
    if answers or created:
        registration.health_answers = answers
    if preferred_site is not None or created:
        registration.preferred_site = preferred_site
    if created:
        registration.source = source
        registration.source_name = source_name[:150]
        registration.registered_by = actor if getattr(actor, "pk", None) else None
    registration.commune_path = person.commune_path
    registration.save()
    PersonVaccination.objects.filter(person=person).update(priority_group=group)
    return registration, created


@transaction.atomic
def registration_submit(
    *,
    actor: User,
    person: Person,
    priority_group: str,
    occupation: str = "",
    health_answers: dict[str, Any] | None = None,
    preferred_site: VaccinationSite | None = None,
) -> Registration:
    """Register a person (a citizen for their household, an officer for their area)."""
    if actor.kind == User.Kind.CITIZEN:
        if person.managed_by_id != actor.pk:
            raise NotFound()
        source = Registration.Source.CITIZEN
    else:
        scope = actor_scope(actor)
        if not (scope.has_role(*OFFICER_ROLES) and scope.covers_path(person.commune_path)):
            raise NotFound()
        source = Registration.Source.OFFICER
    group, occupation, answers = _clean_registration(
        priority_group=priority_group, occupation=occupation, health_answers=health_answers or {}
    )
    if preferred_site is not None and not preferred_site.active:
        raise InvalidInput(details={"fields": {"preferred_site": [_("This site is not open.")]}})
    registration, created = _upsert(
        actor=actor,
        person=person,
        group=group,
        occupation=occupation,
        answers=answers,
        preferred_site=preferred_site,
        source=source,
        source_name="",
    )
    audit(
        actor,
        "vaccination.registration.created" if created else "vaccination.registration.updated",
        registration,
        person_uuid=person.uuid,
    )
    return registration


# Imports ---------------------------------------------------------------------------------

# Column headers we accept, in English and in Vietnamese (folded, without accents).
COLUMNS: dict[str, tuple[str, ...]] = {
    "full_name": ("full_name", "name", "ho va ten", "ho ten"),
    "birth": ("birth", "date_of_birth", "ngay sinh", "ngay thang nam sinh"),
    "sex": ("sex", "gioi tinh"),
    "id_type": ("id_type", "loai giay to"),
    "id_number": ("id_number", "so giay to", "so cccd", "cccd", "so cccd/cmnd", "cccd/cmnd"),
    "phone": ("phone", "so dien thoai", "dien thoai"),
    "commune": ("commune", "ma xa", "ma phuong xa", "commune_code"),
    "address_line": ("address_line", "address", "dia chi"),
    "priority_group": ("priority_group", "nhom uu tien", "nhom"),
    "occupation": ("occupation", "nghe nghiep"),
}
REQUIRED_COLUMNS = ("full_name", "birth", "sex", "id_number", "commune", "priority_group")
SEX_WORDS = {"nam": "M", "male": "M", "m": "M", "nu": "F", "female": "F", "f": "F"}


@dataclass
class RowError:
    row: int
    field: str
    message: str


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    created_people: int = 0
    merged: int = 0
    errors: list[RowError] = field(default_factory=list)
    applied: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "imported": self.imported,
            "created_people": self.created_people,
            "merged": self.merged,
            "applied": self.applied,
            "errors": [{"row": e.row, "field": e.field, "message": e.message} for e in self.errors],
        }


def _fold_header(text: str) -> str:
    from covidhub.core.text import fold_ascii

    return " ".join(fold_ascii(str(text or "")).lower().replace("_", " ").split())


def _read_rows(*, filename: str, content: bytes) -> list[list[str]]:
    if not filename.lower().endswith((".xlsx", ".csv")):
        raise InvalidInput(_("Upload an XLSX or CSV file."))
    limits = SheetLimits(max_bytes=MAX_IMPORT_BYTES, max_rows=MAX_IMPORT_ROWS + 1)
    return [[_cell(v) for v in row] for row in sheet_read(content=content, limits=limits)]


def _cell(value: Any) -> str:
    import datetime

    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@dataclass
class _GoodRow:
    row: int
    raw: dict[str, str]
    data: Any
    group: str
    occupation: str
    person: Person | None = None


def not_importable_message() -> str:
    """One message for every row whose identity number the actor may not use: a person
    outside their area, or one whose name and birth differ from the row. The same words
    for both, so that the answer does not tell that the number exists elsewhere."""
    return _(
        "This row cannot be imported with this identity number. Check the number, the name "
        "and the date of birth."
    )


def _people_by_identity(identities: set[tuple[str, str]]) -> dict[tuple[str, str], Person]:
    """The people who already hold these identity numbers, wherever they live. Only for the
    import's decision below: nothing of a person outside the actor's area leaves it."""
    numbers = sorted({number for _t, number in identities})
    found: dict[tuple[str, str], Person] = {}
    for start in range(0, len(numbers), 2000):
        for person in Person.objects.filter(id_number__in=numbers[start : start + 2000]):
            if (person.id_type, person.id_number) in identities:
                found[(person.id_type, person.id_number)] = person
    return found


def _may_change(*, scope: Any, person: Person, data: Any) -> bool:
    """A list may change an existing person only inside the actor's area (an agency head
    has none: their lists only add people) and only if the row names the same person."""
    if not (scope.has_role(*OFFICER_ROLES) and scope.covers_path(person.commune_path)):
        return False
    return identity_names_the_holder(holder=person, data=data)


def _matches_check(*, scope: Any, good: list[_GoodRow], report: ImportReport) -> list[_GoodRow]:
    """Attach each row's existing person; a row the actor may not apply becomes an error."""
    people = _people_by_identity({(r.data.id_type, r.data.id_number) for r in good})
    kept = []
    for row in good:
        person = people.get((row.data.id_type, row.data.id_number))
        if person is not None and not _may_change(scope=scope, person=person, data=row.data):
            report.errors.append(RowError(row.row, "id_number", not_importable_message()))
            continue
        row.person = person
        kept.append(row)
    report.errors.sort(key=lambda e: e.row)
    return kept


def _parse(*, actor: User, rows: list[list[str]], report: ImportReport) -> list[_GoodRow]:
    if not rows:
        raise InvalidInput(_("The file is empty."))
    headers = [_fold_header(h) for h in rows[0]]
    index: dict[str, int] = {}
    for key, names in COLUMNS.items():
        for position, header in enumerate(headers):
            if header in {_fold_header(n) for n in names}:
                index.setdefault(key, position)
    missing = [c for c in REQUIRED_COLUMNS if c not in index]
    if missing:
        raise InvalidInput(
            _("The first row must name the columns; missing: %(columns)s.")
            % {"columns": ", ".join(missing)},
            details={"missing_columns": missing},
        )
    body = rows[1:]
    if len(body) > MAX_IMPORT_ROWS:
        raise InvalidInput(
            _("A list may have at most %(max)s rows; split the file.") % {"max": MAX_IMPORT_ROWS}
        )
    scope = actor_scope(actor)
    officer = scope.has_role(*OFFICER_ROLES)
    seen: dict[tuple[str, str], int] = {}
    good: list[_GoodRow] = []
    for offset, values in enumerate(body):
        number = offset + 2  # spreadsheet row number (the header is row 1)
        if not any(v.strip() for v in values):
            continue
        report.rows += 1
        raw = {k: (values[i] if i < len(values) else "").strip() for k, i in index.items()}
        sex_word = raw.get("sex", "").lower()
        from covidhub.core.text import fold_ascii

        raw["sex"] = SEX_WORDS.get(fold_ascii(sex_word), raw.get("sex", ""))
        if not raw.get("id_type"):
            digits = raw.get("id_number", "").replace(" ", "")
            raw["id_type"] = "cccd" if len(digits) == 12 else "cmnd" if len(digits) == 9 else ""
        else:
            raw["id_type"] = fold_ascii(raw["id_type"]).lower()
        row_errors: list[RowError] = []
        if not raw.get("id_number"):
            row_errors.append(
                RowError(number, "id_number", _("The identity number is required in a list."))
            )
        data = None
        try:
            data = person_input_clean(raw)
        except InvalidInput as exc:
            for name, messages in exc.details.get("fields", {}).items():
                for message in messages:
                    row_errors.append(RowError(number, name, str(message)))
        group = priority_group_parse(raw.get("priority_group"))
        if not group:
            row_errors.append(
                RowError(number, "priority_group", _("The priority group must be a number 1–12."))
            )
        occupation = raw.get("occupation", "")
        if len(occupation) > 100:
            row_errors.append(RowError(number, "occupation", _("The occupation is too long.")))
        if data is not None and officer and not scope.covers_path(data.commune.path):
            row_errors.append(RowError(number, "commune", _("This commune is outside your area.")))
        if row_errors or data is None:
            report.errors.extend(row_errors)
            continue
        identity = (data.id_type, data.id_number)
        if identity in seen:
            # A duplicate in the same file: merged into the first row that carries it.
            report.merged += 1
            first = good[seen[identity]]
            if occupation and not first.occupation:
                first.occupation = occupation
            if PriorityGroup.rank(group) < PriorityGroup.rank(first.group):
                first.group = group
            continue
        seen[identity] = len(good)
        good.append(_GoodRow(number, raw, data, group, occupation))
    return _matches_check(scope=scope, good=good, report=report)


IMPORT_JOB_KIND = "vaccination.registration"
# A list this short is applied in the request (one chunk, one short transaction); a longer
# one in the background, with a progress page.
IMPORT_INLINE_ROWS = 200


def _inline_rows() -> int:
    return int(getattr(settings, "IMPORT_INLINE_ROWS", IMPORT_INLINE_ROWS))


def registration_import(
    *,
    actor: User,
    filename: str,
    content: bytes,
    source: str,
    source_name: str = "",
    only_good_rows: bool = False,
) -> ImportJob:
    """Import a staff or resident list: every row validated, bad rows reported by number.

    With errors, nothing is imported unless `only_good_rows` (then exactly the good rows).
    A row whose identity number is a person's already changes that person only if they
    live in the actor's area and the row's name and birth agree; otherwise it is a row
    error worded the same whichever the reason. The good rows become an import job,
    applied in chunks of short transactions: at once for a short list, by the worker for
    a long one (the job's `finished` tells which).
    """
    scope = actor_scope(actor)
    if not scope.has_role(*IMPORT_ROLES):
        raise NotFound()
    if source not in (Registration.Source.AGENCY, Registration.Source.COMMUNE):
        raise InvalidInput(details={"fields": {"source": [_("Choose the kind of list.")]}})
    report = ImportReport()
    good = _parse(actor=actor, rows=_read_rows(filename=filename, content=content), report=report)
    if report.errors and not only_good_rows:
        raise ImportRefused(
            _("%(count)s rows have errors; nothing was imported.")
            % {"count": len({e.row for e in report.errors})},
            details=report.as_dict(),
        )
    with transaction.atomic():
        job = import_job_create(
            actor=actor,
            kind=IMPORT_JOB_KIND,
            scope=" ".join(scope.area_paths),
            rows=[
                {"row": r.row, "raw": r.raw, "group": r.group, "occupation": r.occupation}
                for r in good
            ],
            errors=[{"row": e.row, "field": e.field, "message": e.message} for e in report.errors],
            params={
                "source": source,
                "source_name": source_name[:150],
                "rows": report.rows,
                "merged_in_file": report.merged,
            },
        )
        audit(actor, "vaccination.registration.import_started", job, details={"rows": len(good)})
        inline = len(good) <= _inline_rows()
        if not inline:
            from covidhub.vaccination.tasks import registration_import_run_task

            job_uuid = str(job.uuid)
            transaction.on_commit(lambda: registration_import_run_task.enqueue(job_uuid))
    if inline:
        job = registration_import_run(job_uuid=job.uuid)
    return job


def registration_import_run(*, job_uuid: Any) -> ImportJob:
    """Apply an import job's remaining rows, chunk by chunk (the worker's task)."""
    return import_job_run(job_uuid=job_uuid, apply_row=_row_apply, finish=_import_finish)


def _row_apply(job: ImportJob, item: dict[str, Any]) -> RowOutcome:
    """One row, in the chunk's transaction: the checks of the validation are made again
    under the person's row lock (they may have moved since)."""
    actor: Any = job.actor
    scope = actor_scope(actor)
    params = job.payload["params"]
    try:
        data = person_input_clean(item["raw"])
    except InvalidInput:
        return {"row": item["row"], "field": "id_number", "message": not_importable_message()}
    person = (
        Person.objects.select_for_update()
        .filter(id_type=data.id_type, id_number=data.id_number)
        .first()
    )
    if person is None:
        if scope.has_role(*OFFICER_ROLES) and not scope.covers_path(data.commune.path):
            return {"row": item["row"], "field": "commune", "message": not_importable_message()}
        person = person_create(actor=actor, data=data)
        outcome = "created"
    elif not _may_change(scope=scope, person=person, data=data):
        return {"row": item["row"], "field": "id_number", "message": not_importable_message()}
    else:
        outcome = "updated"
    registration, created = _upsert(
        actor=actor,
        person=person,
        group=item["group"],
        occupation=item["occupation"],
        answers={},
        preferred_site=None,
        source=params["source"],
        source_name=params["source_name"],
    )
    # One audit row per person changed, like a registration made by hand.
    audit(
        actor,
        "vaccination.registration.created" if created else "vaccination.registration.updated",
        registration,
        person_uuid=person.uuid,
        details={"import": str(job.uuid), "row": item["row"]},
    )
    return outcome


def _import_finish(job: ImportJob) -> None:
    audit(
        job.actor,
        "vaccination.registration.imported",
        job,
        details={
            "rows": job.rows_total,
            "created": job.created_count,
            "updated": job.updated_count,
            "errors": len(job.errors),
            "source": job.payload["params"]["source"],
        },
    )


def import_report(job: ImportJob) -> ImportReport:
    """The report of a job, in the words of the synchronous import."""
    params = job.payload.get("params", {})
    return ImportReport(
        rows=params.get("rows", job.rows_total),
        imported=job.created_count + job.updated_count,
        created_people=job.created_count,
        merged=job.updated_count + params.get("merged_in_file", 0),
        errors=[RowError(e["row"], e["field"], e["message"]) for e in job.errors],
        applied=job.status == ImportJob.Status.DONE,
    )
