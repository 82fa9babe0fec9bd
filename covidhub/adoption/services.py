"""Writes: agencies, roster uploads (check, then import or discard), matching roster
members to people and accounts, daily snapshots, SMS invitations and opt-out."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from covidhub.accounts.models import User
from covidhub.adoption.errors import (
    AgencyInvalid,
    ReminderTooSoon,
    RosterChanged,
    UploadAlreadyDecided,
)
from covidhub.adoption.models import AdoptionSnapshot, Agency, RosterMember, RosterUpload
from covidhub.adoption.rosters import roster_parse
from covidhub.areas.models import Area
from covidhub.audit.services import audit_record
from covidhub.core.import_jobs import RowOutcome, import_job_create, import_job_run
from covidhub.core.models import ImportJob
from covidhub.notifications.services import message_queue
from covidhub.people.models import Person

# Tests switch this off to prove that the concurrency tests catch a missing lock.
ROW_LOCKS = True
REMINDER_MIN_DAYS = 7
REMINDER_MAX_COUNT = 3
AGENCY_REMINDER_HOURS = 20


def _locked(manager: Any) -> Any:
    return manager.select_for_update() if ROW_LOCKS else manager.all()


# -- Agencies --------------------------------------------------------------------------


@transaction.atomic
def agency_create(
    *,
    actor: Any,
    name: str,
    kind: str,
    area: Area,
    parent: Agency | None = None,
    code: str | None = None,
) -> Agency:
    """Add an agency under `parent` (or at the top), linked to its area."""
    from covidhub.core.text import nfc

    name = nfc(name or "")
    if not name or len(name) > 200:
        raise AgencyInvalid(details={"fields": {"name": [_("Enter the agency's name.")]}})
    if kind not in Agency.Kind.values:
        raise AgencyInvalid(details={"fields": {"kind": [_("Choose the kind of agency.")]}})
    if parent is not None and parent.depth >= 6:
        raise AgencyInvalid(_("Agencies can be nested at most seven levels deep."))
    agency = Agency.objects.create(
        name=name,
        kind=kind,
        area=area,
        area_path=area.path,
        parent=parent,
        code=code or None,
        depth=parent.depth + 1 if parent else 0,
    )
    agency.path = f"{parent.path if parent else ''}{agency.pk}/"
    agency.save(update_fields=["path"])
    audit_record(actor=actor, action="adoption.agency.created", obj=agency)
    return agency


@transaction.atomic
def agency_update(*, actor: Any, agency: Agency, name: str, kind: str, area: Area) -> Agency:
    from covidhub.core.text import nfc

    agency.name = nfc(name)
    agency.kind = kind
    agency.area = area
    agency.area_path = area.path
    agency.save(update_fields=["name", "kind", "area", "area_path", "updated_at"])
    audit_record(actor=actor, action="adoption.agency.updated", obj=agency)
    return agency


# -- Rosters ---------------------------------------------------------------------------


@transaction.atomic
def roster_upload_create(
    *, actor: Any, agency: Agency, data: bytes, file_name: str
) -> RosterUpload:
    """Check a roster file and keep its verdict until the operator decides.

    A file that cannot be a roster raises RosterFileInvalid and nothing is saved; a
    readable one is saved with its good rows and every bad row's number and reason.
    """
    parsed = roster_parse(data=data, file_name=file_name)
    upload = RosterUpload.objects.create(
        agency=agency,
        uploaded_by=actor,
        file_name=file_name[:200],
        file_sha256=parsed.sha256,
        # From the database: the caller's copy of the agency may be older.
        base_version=Agency.objects.values_list("roster_version", flat=True).get(pk=agency.pk),
        row_count=parsed.row_count,
        good_count=len(parsed.rows),
        bad_count=len(parsed.bad_rows),
        rows=parsed.rows,
        errors=[e.as_dict() for e in parsed.errors],
        bad_keys=sorted(parsed.bad_keys),
    )
    audit_record(
        actor=actor,
        action="adoption.roster.checked",
        obj=upload,
        details={"rows": parsed.row_count, "bad_rows": upload.bad_count},
    )
    return upload


_MEMBER_FIELDS = ("full_name", "birth_date", "birth_year", "id_type", "id_number", "phone")


def _member_values(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "full_name": row["full_name"],
        "birth_date": datetime.date.fromisoformat(row["birth_date"]) if row["birth_date"] else None,
        "birth_year": row["birth_year"],
        "id_type": row["id_type"],
        "id_number": row["id_number"],
        "phone": row["phone"],
        "position": row["position"],
        "unit_name": row["unit"],
    }


ROSTER_JOB_KIND = "adoption.roster"
ROSTER_INLINE_ROWS = 200
# A roster's operations are set-based (one UPDATE, one bulk INSERT per chunk): larger chunks
# than a registration list's, each still a fraction of a second on SQLite.
ROSTER_CHUNK_ROWS = 1000


def _inline_rows() -> int:
    return int(getattr(settings, "ROSTER_INLINE_ROWS", ROSTER_INLINE_ROWS))


def _chunk_rows() -> int:
    return int(getattr(settings, "ROSTER_CHUNK_ROWS", ROSTER_CHUNK_ROWS))


def roster_upload_apply(*, actor: Any, upload: RosterUpload) -> RosterUpload:
    """Import the good rows: new keys join, known keys are updated, members missing from
    the file leave (unless their row was only bad). Never twice, never over a newer file.

    Decided in one short transaction: the checks, the plan (who leaves, who changes, who
    joins), the agency's roster version moved on (so no other file applies over this one)
    and the upload marked `applying`. The plan is then applied as an import job
    (`core.import_jobs`), ROSTER_CHUNK_ROWS operations per transaction, leavers first so
    that the one-current-member-per-key constraint holds at every step: a roster of
    20,000 rows in one transaction held SQLite's write lock for a minute and a write that
    waited for it failed. A plan longer than ROSTER_INLINE_ROWS runs in the worker; the
    upload is `applied` when its last chunk is.
    """
    now = timezone.now()
    with transaction.atomic():
        # Locks in a fixed order: the agency, then the upload, then its members.
        agency = _locked(Agency.objects).get(pk=upload.agency_id)
        upload = _locked(RosterUpload.objects).get(pk=upload.pk)
        if upload.status != RosterUpload.Status.PENDING:
            raise UploadAlreadyDecided()
        if agency.roster_version != upload.base_version:
            raise RosterChanged()
        current = {
            m.match_key: m
            for m in _locked(RosterMember.objects).filter(agency=agency, left_at__isnull=True)
        }
        by_phone = {m.phone: m for m in current.values() if m.phone}
        seen: set[int] = set()
        joiners: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        for row in upload.rows:
            values = _member_values(row)
            member = current.get(row["key"])
            if member is None and row["phone"]:
                # Known until now by phone only (or the identity number was added).
                candidate = by_phone.get(row["phone"])
                if (
                    candidate is not None
                    and (not candidate.id_number or not row["id_number"])
                    and candidate.pk not in seen
                ):
                    member = candidate
            if member is None:
                joiners.append({"op": "join", "row": row})
                continue
            seen.add(member.pk)
            if member.match_key != row["key"] or any(
                getattr(member, k) != v for k, v in values.items()
            ):
                changed.append({"op": "change", "pk": member.pk, "row": row})
        keep = set(upload.bad_keys)
        leavers = [
            {"op": "leave", "pk": m.pk}
            for m in current.values()
            if m.pk not in seen and m.match_key not in keep and f"phone:{m.phone}" not in keep
        ]
        # Leavers before changes (a member whose key changed takes a leaver's key only
        # once that one is out), changes before joiners.
        plan = [*leavers, *changed, *joiners]
        agency.roster_version += 1
        agency.save(update_fields=["roster_version", "updated_at"])
        upload.status = RosterUpload.Status.APPLYING
        upload.joined_count = len(joiners)
        upload.left_count = len(leavers)
        upload.updated_count = len(changed)
        upload.rows = []
        upload.decided_by = actor
        upload.decided_at = now
        upload.save()
        job = import_job_create(
            actor=actor,
            kind=ROSTER_JOB_KIND,
            scope=f"agency:{agency.uuid}",
            rows=plan,
            errors=[],
            params={"upload": str(upload.uuid), "now": now.isoformat()},
        )
        inline = len(plan) <= _inline_rows()
        if not inline:
            from covidhub.adoption.tasks import roster_upload_run_task

            job_uuid = str(job.uuid)
            transaction.on_commit(lambda: roster_upload_run_task.enqueue(job_uuid))
    if inline:
        roster_upload_run(job_uuid=job.uuid)
        upload.refresh_from_db()
    return upload


def roster_upload_run(*, job_uuid: Any) -> ImportJob:
    """Apply a roster's plan chunk by chunk (the worker's task, or inline for a short one);
    a retry resumes at the cursor. Members are then matched to people and accounts,
    set-based and outside the chunks' transactions."""
    job = import_job_run(
        job_uuid=job_uuid,
        apply_chunk=_roster_chunk_apply,
        finish=_roster_done,
        chunk_size=_chunk_rows(),
    )
    upload = RosterUpload.objects.get(uuid=job.payload["params"]["upload"])
    roster_members_match(
        members=RosterMember.objects.filter(agency_id=upload.agency_id, left_at__isnull=True)
    )
    return job


def _roster_chunk_apply(job: ImportJob, items: list[dict[str, Any]]) -> list[RowOutcome]:
    params = job.payload["params"]
    upload = RosterUpload.objects.get(uuid=params["upload"])
    now = datetime.datetime.fromisoformat(params["now"])
    leaving = [item["pk"] for item in items if item["op"] == "leave"]
    RosterMember.objects.filter(pk__in=leaving, left_at__isnull=True).update(
        left_at=now, left_upload=upload, updated_at=timezone.now()
    )
    rows = {item["pk"]: item["row"] for item in items if item["op"] == "change"}
    changed = list(_locked(RosterMember.objects).filter(pk__in=rows).order_by("pk"))
    for member in changed:
        row = rows[member.pk]
        member.match_key = row["key"]
        for field, value in _member_values(row).items():
            setattr(member, field, value)
    RosterMember.objects.bulk_update(
        changed,
        ["match_key", "position", "unit_name", *_MEMBER_FIELDS, "updated_at"],
        batch_size=1000,
    )
    RosterMember.objects.bulk_create(
        [
            RosterMember(
                agency_id=upload.agency_id,
                match_key=item["row"]["key"],
                joined_upload=upload,
                joined_at=now,
                **_member_values(item["row"]),
            )
            for item in items
            if item["op"] == "join"
        ],
        batch_size=1000,
    )
    return ["created" if item["op"] == "join" else "updated" for item in items]


def _roster_done(job: ImportJob) -> None:
    upload = _locked(RosterUpload.objects).get(uuid=job.payload["params"]["upload"])
    upload.status = RosterUpload.Status.APPLIED
    upload.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=job.actor,
        action="adoption.roster.imported",
        obj=upload,
        details={
            "joined": upload.joined_count,
            "left": upload.left_count,
            "updated": upload.updated_count,
            "bad_rows": upload.bad_count,
        },
    )


def roster_upload_discard(*, actor: Any, upload: RosterUpload) -> RosterUpload:
    """Import nothing from this file."""
    with transaction.atomic():
        upload = RosterUpload.objects.select_for_update().get(pk=upload.pk)
        if upload.status != RosterUpload.Status.PENDING:
            raise UploadAlreadyDecided()
        upload.status = RosterUpload.Status.DISCARDED
        upload.rows = []
        upload.decided_by = actor
        upload.decided_at = timezone.now()
        upload.save()
        audit_record(actor=actor, action="adoption.roster.discarded", obj=upload)
    return upload


def roster_members_match(*, members: Any = None) -> int:
    """Link current roster members to a person (identity number, else the phone of
    someone's own profile) and to a citizen account (the account that manages that
    person as itself, else the account with the member's phone).

    Set-based: one SELECT computes every member's match with indexed subqueries, and only
    the rows whose match changed are written, so that the hourly run over a province's
    rosters does not rewrite (and bloat) tens of thousands of unchanged rows.
    Returns how many members changed."""
    qs = (members if members is not None else RosterMember.objects.all()).filter(
        left_at__isnull=True
    )
    by_identity = (
        Person.objects.filter(id_type=OuterRef("id_type"), id_number=OuterRef("id_number"))
        .exclude(id_number="")
        .order_by("pk")
        .values("pk")[:1]
    )
    by_phone = (
        Person.objects.filter(phone=OuterRef("phone"), relationship=Person.Relationship.SELF)
        .exclude(phone="")
        .order_by("pk")
        .values("pk")[:1]
    )
    new_person = Coalesce(
        Subquery(by_identity, output_field=IntegerField()),
        Subquery(by_phone, output_field=IntegerField()),
    )
    people = _changed(qs, "person_id", new_person)
    own_account = Person.objects.filter(
        pk=OuterRef("person_id"),
        relationship=Person.Relationship.SELF,
        managed_by__kind=User.Kind.CITIZEN,
    ).values("managed_by_id")[:1]
    phone_account = (
        User.objects.filter(phone=OuterRef("phone"), kind=User.Kind.CITIZEN)
        .exclude(phone="")
        .values("pk")[:1]
    )
    new_account = Coalesce(
        Subquery(own_account, output_field=IntegerField()),
        Subquery(phone_account, output_field=IntegerField()),
    )
    accounts = _changed(qs, "account_id", new_account)
    return len(people | accounts)


def _changed(qs: Any, field: str, expression: Any, chunk: int = 5_000) -> set[int]:
    """Write `expression` into `field` only where it differs: a SELECT finds those rows,
    then set-based UPDATEs (in chunks) rewrite just them."""
    rows = qs.order_by().annotate(new_value=expression).values_list("pk", field, "new_value")
    changed = sorted(pk for pk, old, new in rows if old != new)
    for start in range(0, len(changed), chunk):
        RosterMember.objects.filter(pk__in=changed[start : start + chunk]).update(
            **{field: expression}
        )
    return set(changed)


# -- Snapshots -------------------------------------------------------------------------


def adoption_snapshot_take(*, day: datetime.date | None = None) -> int:
    """Record every agency's own figures for `day` (today); running it again the same
    day replaces that day's row."""
    from covidhub.adoption.selectors import _own_figures

    day = day or timezone.localdate()
    figures = _own_figures(None, Q())
    rows = [
        AdoptionSnapshot(
            agency_id=agency_id,
            day=day,
            staff=f.staff,
            with_account=f.with_account,
            active_7d=f.active,
        )
        for agency_id, f in figures.items()
    ]
    with transaction.atomic():
        AdoptionSnapshot.objects.bulk_create(
            rows,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["agency", "day"],
            update_fields=["staff", "with_account", "active_7d"],
        )
    return len(rows)


# -- Reminders -------------------------------------------------------------------------


def reminder_text(*, agency: Agency, member: RosterMember) -> str:
    install = settings.SITE_URL + "/"
    opt_out = settings.SITE_URL + reverse("adoption:opt_out", args=[member.opt_out_token])
    return _(
        "%(agency)s invites you to install and use %(platform)s for health declarations, "
        "tests and vaccination: %(install)s Support: %(support)s. "
        "To stop these messages: %(opt_out)s"
    ) % {
        "agency": agency.name,
        "platform": settings.PLATFORM_NAME,
        "install": install,
        "support": settings.SUPPORT_PHONE,
        "opt_out": opt_out,
    }


def roster_reminders_send(*, actor: Any, agency: Agency) -> int:
    """Invite by SMS the agency's current members (its units' too) who have no account:
    at most once a day per agency, once a week and three times in all per person, never
    after an opt-out. Returns how many messages were queued."""
    now = timezone.now()
    with transaction.atomic():
        agency = Agency.objects.select_for_update().get(pk=agency.pk)
        if agency.last_reminded_at and agency.last_reminded_at > now - datetime.timedelta(
            hours=AGENCY_REMINDER_HOURS
        ):
            raise ReminderTooSoon()
        due = list(
            RosterMember.objects.select_for_update()
            .filter(
                agency__path__startswith=agency.path,
                left_at__isnull=True,
                account__isnull=True,
                opted_out_at__isnull=True,
                reminders_sent__lt=REMINDER_MAX_COUNT,
            )
            .exclude(phone="")
            .filter(
                Q(last_reminded_at__isnull=True)
                | Q(last_reminded_at__lt=now - datetime.timedelta(days=REMINDER_MIN_DAYS))
            )
            .select_related("agency")
            .order_by("pk")
        )
        # One message per phone number even if it is on several rosters.
        sent_to: set[str] = set()
        queued = []
        with override("vi"):
            for member in due:
                if member.phone in sent_to:
                    continue
                sent_to.add(member.phone)
                message_queue(
                    channel="sms",
                    to=member.phone,
                    body=reminder_text(agency=member.agency, member=member),
                    language="vi",
                    dedupe_key=f"adoption.invite:{member.uuid}:{member.reminders_sent + 1}",
                )
                queued.append(member.pk)
        RosterMember.objects.filter(pk__in=queued).update(
            reminders_sent=F("reminders_sent") + 1, last_reminded_at=now
        )
        agency.last_reminded_at = now
        agency.save(update_fields=["last_reminded_at", "updated_at"])
        audit_record(
            actor=actor,
            action="adoption.reminders.sent",
            obj=agency,
            details={"queued": len(queued)},
        )
    return len(queued)


def roster_opt_out(*, token: str) -> RosterMember | None:
    """Stop invitations to the roster member behind `token` (and to their phone number
    on any other roster)."""
    with transaction.atomic():
        member = RosterMember.objects.select_for_update().for_opt_out_token(token).first()
        if member is None:
            return None
        now = timezone.now()
        targets = Q(pk=member.pk)
        if member.phone:
            targets |= Q(phone=member.phone)
        RosterMember.objects.filter(targets, opted_out_at__isnull=True).update(opted_out_at=now)
        audit_record(actor=None, action="adoption.reminders.opted_out", obj=member)
    member.refresh_from_db()
    return member
