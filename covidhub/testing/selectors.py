"""Reads: a citizen's appointments and results, the lookup by code and date of birth,
and the staff lists (scoped to the actor's sites, labs or areas; audited when they show
a person's health data)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from covidhub.accounts.scoping import OFFICER_ROLES, actor_scope, area_path_q
from covidhub.areas.models import Area
from covidhub.audit.services import audit_record, audit_record_many
from covidhub.core.dates import partial_date_parse
from covidhub.core.errors import InvalidInput, NotFound, RateLimited
from covidhub.core.listing import Listing
from covidhub.core.rawsql import db_values, model_rows, placeholders
from covidhub.people.models import Person
from covidhub.testing.codes import appointment_code_normalise
from covidhub.testing.compiled import CompiledRows
from covidhub.testing.models import (
    Amendment,
    Appointment,
    CaseReport,
    ImportBatch,
    Lab,
    Result,
    Sample,
    SamplingSession,
    Shipment,
    Site,
    Slot,
    TestingRound,
    TestType,
    Tube,
    TubeResult,
)
from covidhub.testing.scope import (
    SITE_ROLES,
    labs_for_actor,
    parse_uuid,
    role_of,
    sampling_site_mark_checked,
    sampling_site_q,
    sampling_sites_for_actor,
)

LOOKUP_MAX_FAILURES_PER_ADDRESS = getattr(settings, "TESTING_LOOKUP_MAX_FAILURES_PER_ADDRESS", 10)
LOOKUP_MAX_FAILURES_PER_CODE = getattr(settings, "TESTING_LOOKUP_MAX_FAILURES_PER_CODE", 5)
LOOKUP_WINDOW_SECONDS = 15 * 60


class LookupFailed(NotFound):
    code = "lookup_failed"
    default_message = _(
        "No test matches this appointment code and date of birth. Check both and try again."
    )


# Citizens ------------------------------------------------------------------------------


def appointments_for_account(*, account: Any) -> list[Appointment]:
    return list(appointment_queryset_for_account(account=account)[:50])


def appointment_queryset_for_account(*, account: Any) -> QuerySet[Appointment]:
    """The household's appointments, newest first."""
    return (
        Appointment.objects.filter(person__managed_by=account)
        .select_related("person", "slot__site", "testing_round")
        .order_by("-created_at", "-id")
    )


def appointment_get_for_account(*, account: Any, appointment_uuid: Any) -> Appointment:
    appointment = (
        Appointment.objects.filter(person__managed_by=account, uuid=parse_uuid(appointment_uuid))
        .select_related("person", "slot__site__commune__parent", "testing_round")
        .first()
    )
    if appointment is None:
        raise NotFound()
    return appointment


def _result_qs() -> QuerySet[Result]:
    return Result.objects.select_related(
        "person", "site", "sample__tube__site", "tube_result__lab", "sample__appointment"
    )


def results_for_account(*, account: Any) -> list[Result]:
    """Every result of the account's household, newest first (two joins: the hot path of
    a result release, when the whole province opens the app)."""
    return list(
        Result.objects.filter(person__managed_by=account)
        .select_related("person", "site")
        .order_by("-released_at")[:100]
    )


def result_rows_for_account(*, account: Any) -> list[dict[str, Any]]:
    """`results_for_account` as the API shows it: the shown columns only, as plain rows
    (no model objects; the citizen app's hot path when a round's results are released)."""
    rows = _RESULT_ROWS.rows(account.pk)
    return [
        {
            "uuid": result_uuid,
            "person_uuid": person_uuid,
            "person_name": person_name,
            "outcome": outcome,
            "outcome_label": _outcome_label(outcome),
            "test_type": test_type,
            "pooled": pooled,
            "collected_at": collected_at,
            "released_at": released_at,
            "amended": version > 1,
            "site_name": site_name,
        }
        for (
            result_uuid,
            person_uuid,
            person_name,
            outcome,
            test_type,
            pooled,
            collected_at,
            released_at,
            version,
            site_name,
        ) in rows
    ]


_RESULT_ROWS = CompiledRows(
    lambda account_id: (
        Result.objects.filter(person__managed_by_id=account_id)
        .order_by("-released_at")
        .values_list(
            "uuid",
            "person__uuid",
            "person__full_name",
            "outcome",
            "test_type",
            "pooled",
            "collected_at",
            "released_at",
            "version",
            "site__name",
        )[:100]
    ),
    int,
)


def _outcome_label(outcome: str) -> str:
    # As Result.get_outcome_display(): the label in the active language, else the value.
    return str(_OUTCOME_LABELS.get(outcome, outcome))


_OUTCOME_LABELS = dict(Result.Outcome.choices)


def result_get_for_account(*, account: Any, result_uuid: Any) -> Result:
    result = _result_qs().filter(person__managed_by=account, uuid=parse_uuid(result_uuid)).first()
    if result is None:
        raise NotFound()
    return result


def slots_open_for_booking(*, test_type: str | None = None, limit: int = 60) -> list[Slot]:
    return list(slot_queryset_open(test_type=test_type)[:limit])


def slot_queryset_open(*, test_type: str | None = None, area: Area | None = None) -> QuerySet[Slot]:
    """Slots with room that have not ended, soonest first; in `area` (a district or a
    commune) when given."""
    now = timezone.now()
    qs = Slot.objects.filter(
        ends_at__gt=now, site__is_active=True, booked__lt=F("capacity")
    ).select_related("site__commune__parent")
    if test_type:
        qs = qs.filter(test_type=test_type)
    if area is not None:
        qs = qs.filter(site__commune_path__startswith=area.path)
    return qs.order_by("starts_at", "id")


def rounds_for_person(*, person: Person) -> list[TestingRound]:
    """Current rounds whose area contains the person's commune."""
    today = timezone.localdate()
    prefixes = []
    path = ""
    for part in person.commune_path.strip("/").split("/"):
        path += part + "/"
        prefixes.append(path)
    return list(
        TestingRound.objects.filter(area_path__in=prefixes, ends_on__gte=today)
        .select_related("area")
        .prefetch_related("sites")
        .order_by("starts_on")
    )


@dataclass(frozen=True)
class LookupResult:
    """One result as the lookup shows it (no name, no place)."""

    uuid: UUID
    outcome: str
    test_type: str
    collected_at: datetime.datetime
    released_at: datetime.datetime
    version: int

    @property
    def outcome_label(self) -> str:
        return _outcome_label(self.outcome)

    @property
    def test_type_label(self) -> str:
        return str(_TEST_TYPE_LABELS.get(self.test_type, self.test_type))

    @property
    def amended(self) -> bool:
        return self.version > 1


_TEST_TYPE_LABELS = dict(TestType.choices)


@dataclass(frozen=True)
class Lookup:
    person_name: str
    appointment_status: str
    results: list[LookupResult]


def result_lookup(*, code: str, birth: str, client_address: str | None) -> Lookup:
    """Find an appointment's results by its code and the person's date of birth.

    A wrong code and a wrong date of birth get the same answer (and the same work); the
    failures are counted per client address and per code and then refused for a while.
    """
    normalised = appointment_code_normalise(code) or ""
    keys = [f"testing:lookup:a:{client_address or '-'}", f"testing:lookup:c:{normalised}"]
    failures = cache.get_many(keys)
    if (
        failures.get(keys[0], 0) >= LOOKUP_MAX_FAILURES_PER_ADDRESS
        or failures.get(keys[1], 0) >= LOOKUP_MAX_FAILURES_PER_CODE
    ):
        raise RateLimited()
    try:
        entered = partial_date_parse(birth)
    except InvalidInput:
        entered = None
    # One query on the usual path (a collected appointment with its results), of the
    # columns shown and checked only.
    rows = _LOOKUP_ROWS.rows(normalised) if normalised else []
    appointment = (
        rows[0][6:]
        if rows
        else Appointment.objects.filter(code=normalised)
        .values_list("status", "person__full_name", "person__birth_date", "person__birth_year")
        .first()
        if normalised
        else None
    )
    born = (
        Person(birth_date=appointment[2], birth_year=appointment[3]).birth if appointment else None
    )
    if appointment is None or entered is None or born != entered:
        for key in keys:
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, LOOKUP_WINDOW_SECONDS)
        raise LookupFailed()
    return Lookup(
        person_name=appointment[1],
        appointment_status=appointment[0],
        results=[LookupResult(*row[:6]) for row in rows],
    )


_LOOKUP_ROWS = CompiledRows(
    lambda code: (
        Result.objects.filter(sample__appointment__code=code)
        .order_by("-released_at")
        .values_list(
            "uuid",
            "outcome",
            "test_type",
            "collected_at",
            "released_at",
            "version",
            "sample__appointment__status",
            "sample__appointment__person__full_name",
            "sample__appointment__person__birth_date",
            "sample__appointment__person__birth_year",
        )
    ),
    str,
)


def result_get_public(*, result_uuid: Any) -> Result | None:
    return _result_qs().filter(uuid=parse_uuid(result_uuid)).first()


# Samplers ------------------------------------------------------------------------------


def session_get_for_actor(
    *, actor: Any, session_uuid: Any, related: bool = True
) -> SamplingSession:
    """A session at one of the actor's sampling sites; `related=False` reads the session
    row alone, by a plain (prepared) statement: a scan needs no more, and it is the hot
    path of a testing round."""
    key = parse_uuid(session_uuid)
    if related:
        sessions = SamplingSession.objects.filter(sampling_site_q(actor), uuid=key)
        found = list(sessions.select_related("site", "testing_round", "pending_person"))
    else:
        found = _session_at_sampling_site(actor, key)
    if not found:
        raise NotFound()
    session = found[0]
    sampling_site_mark_checked(actor, session.site_id)
    return session


def _session_at_sampling_site(actor: Any, key: UUID) -> list[SamplingSession]:
    scope = actor_scope(actor)
    sites = sorted(scope.units_of("site")) if scope.has_role(*SITE_ROLES) else []
    if not sites:
        return []
    return model_rows(
        SamplingSession,
        f"uuid = %s AND site_id IN (SELECT id FROM {Site._meta.db_table} "  # noqa: S608 - a table name from model metadata
        f"WHERE is_active = %s AND uuid IN ({placeholders(len(sites))}))",
        [*db_values(SamplingSession, "uuid", [key]), True, *db_values(Site, "uuid", sites)],
    )


def sessions_for_actor(*, actor: Any) -> list[SamplingSession]:
    return list(
        SamplingSession.objects.filter(site__in=sampling_sites_for_actor(actor))
        .select_related("site")
        .order_by("-opened_at")[:20]
    )


def session_tubes(*, actor: Any, session: SamplingSession) -> list[Tube]:
    """The session's tubes with their samples (names shown to the sampler: audited)."""
    tubes = list(
        Tube.objects.filter(session=session).select_related("result").order_by("-id")[:200]
    )
    samples = list(
        Sample.objects.filter(tube__in=tubes, status=Sample.Status.ACTIVE)
        .select_related("person")
        .order_by("id")
    )
    by_tube: dict[int, list[Sample]] = {}
    for sample in samples:
        by_tube.setdefault(sample.tube_id, []).append(sample)
    for tube in tubes:
        tube.active_samples = by_tube.get(tube.pk, [])  # type: ignore[attr-defined]
    with transaction.atomic():
        audit_record_many(
            actor=actor,
            actor_role=role_of(actor),
            action="testing.sample.listed",
            objects=[s.person for s in samples],
        )
    return tubes


def sample_get_for_actor(*, actor: Any, sample_uuid: Any) -> Sample:
    sample = (
        Sample.objects.filter(
            uuid=parse_uuid(sample_uuid), tube__site__in=sampling_sites_for_actor(actor)
        )
        .select_related("tube__site", "person")
        .first()
    )
    if sample is None:
        raise NotFound()
    return sample


def tube_get_for_sampler(*, actor: Any, tube_uuid: Any) -> Tube:
    tube = (
        Tube.objects.filter(uuid=parse_uuid(tube_uuid), site__in=sampling_sites_for_actor(actor))
        .select_related("site", "session")
        .first()
    )
    if tube is None:
        raise NotFound()
    return tube


# Laboratories --------------------------------------------------------------------------


def shipments_for_lab(*, actor: Any, lab: Lab) -> list[Shipment]:
    if not labs_for_actor(actor).filter(pk=lab.pk).exists():
        raise NotFound()
    return list(Shipment.objects.filter(lab=lab).select_related("site").order_by("-sent_at")[:50])


def shipment_get_for_actor(*, actor: Any, shipment_uuid: Any) -> Shipment:
    """A shipment seen from its lab, or from its sending site."""
    shipment = (
        Shipment.objects.filter(uuid=parse_uuid(shipment_uuid))
        .filter(Q(lab__in=labs_for_actor(actor)) | Q(site__in=sampling_sites_for_actor(actor)))
        .select_related("site", "lab")
        .first()
    )
    if shipment is None:
        raise NotFound()
    return shipment


def tube_result_get_for_lab(*, actor: Any, tube_result_uuid: Any) -> TubeResult:
    tube_result = (
        TubeResult.objects.filter(uuid=parse_uuid(tube_result_uuid), lab__in=labs_for_actor(actor))
        .select_related("tube", "lab")
        .first()
    )
    if tube_result is None:
        raise NotFound()
    return tube_result


def tube_result_get_by_barcode(*, actor: Any, lab: Lab, barcode: str) -> TubeResult:
    tube_result = (
        TubeResult.objects.filter(tube__barcode=barcode.strip().upper(), lab=lab)
        .filter(lab__in=labs_for_actor(actor))
        .select_related("tube", "lab")
        .first()
    )
    if tube_result is None:
        raise NotFound()
    return tube_result


def amendments_pending_for_lab(*, actor: Any, lab: Lab) -> list[Amendment]:
    if not labs_for_actor(actor).filter(pk=lab.pk).exists():
        raise NotFound()
    return list(
        Amendment.objects.filter(tube_result__lab=lab, status=Amendment.Status.PENDING)
        .select_related("tube_result__tube", "requested_by")
        .order_by("requested_at")
    )


def amendment_get_for_actor(*, actor: Any, amendment_uuid: Any) -> Amendment:
    amendment = (
        Amendment.objects.filter(
            uuid=parse_uuid(amendment_uuid), tube_result__lab__in=labs_for_actor(actor)
        )
        .select_related("tube_result__tube")
        .first()
    )
    if amendment is None:
        raise NotFound()
    return amendment


def import_get_for_actor(*, actor: Any, import_uuid: Any) -> ImportBatch:
    batch = (
        ImportBatch.objects.filter(uuid=parse_uuid(import_uuid), lab__in=labs_for_actor(actor))
        .select_related("lab")
        .first()
    )
    if batch is None:
        raise NotFound()
    return batch


# Officers ------------------------------------------------------------------------------


def rounds_for_actor(*, actor: Any) -> list[TestingRound]:
    return list(round_queryset_for_actor(actor=actor)[:100])


def round_queryset_for_actor(*, actor: Any) -> QuerySet[TestingRound]:
    """Rounds in the officer's areas, latest start first."""
    return (
        TestingRound.objects.filter(area_path_q(actor_scope(actor), "area_path"))
        .select_related("area")
        .order_by("-starts_on", "-id")
    )


def case_reports_for_actor(*, actor: Any, limit: int = 100) -> list[CaseReport]:
    """The first `limit` of `case_report_listing_for_actor`."""
    return case_report_listing_for_actor(actor=actor)[:limit]


def case_report_listing_for_actor(*, actor: Any) -> Listing[CaseReport]:
    """Positive individual results in the officer's areas, newest first (each page
    audited: names are shown)."""
    scope = actor_scope(actor)

    def shown(reports: list[CaseReport]) -> list[CaseReport]:
        with transaction.atomic():
            audit_record_many(
                actor=actor,
                actor_role=role_of(actor),
                action="testing.case.listed",
                objects=[r.person for r in reports],
            )
        return reports

    return Listing(
        CaseReport.objects.filter(area_path_q(scope, "commune_path"), withdrawn_at__isnull=True)
        .select_related("person", "commune", "result")
        .order_by("-reported_at", "-id"),
        each_page=shown,
    )


def case_report_get_for_actor(*, actor: Any, case_uuid: Any) -> CaseReport:
    scope = actor_scope(actor)
    if not scope.has_role(*OFFICER_ROLES):
        raise NotFound()
    report = (
        CaseReport.objects.filter(area_path_q(scope, "commune_path"), uuid=parse_uuid(case_uuid))
        .select_related("person__commune", "result__sample__tube__site", "commune")
        .first()
    )
    if report is None:
        raise NotFound()
    with transaction.atomic():
        audit_record(
            actor=actor,
            actor_role=role_of(actor),
            action="testing.case.viewed",
            obj=report,
            person_uuid=report.person.uuid,
        )
    return report


@dataclass
class BoardRow:
    kind: str  # "site" | "lab"
    name: str
    collected: int
    received: int
    resulted: int
    median_hours: float | None
    late_receipt: int
    late_result: int


def turnaround_board(
    *, actor: Any, since: datetime.datetime, late_hours: int = 24
) -> list[BoardRow]:
    """Per site and per lab, for tubes collected since `since` at sites in the officer's
    areas: counts, median hours from collection to result, and tubes late to arrive or to
    be resulted (`late_hours` after handover or receipt). Counts only — no people."""
    scope = actor_scope(actor)
    if not scope.has_role(*OFFICER_ROLES):
        raise NotFound()
    now = timezone.now()
    late = now - datetime.timedelta(hours=late_hours)
    tubes = Tube.objects.filter(
        area_path_q(scope, "site__commune_path"), collected_at__gte=since
    ).values_list(
        "site__name",
        "lab__name",
        "status",
        "collected_at",
        "shipped_at",
        "received_at",
        "resulted_at",
    )
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for site, lab, status, collected, shipped, received, resulted in tubes.iterator():
        for key in (("site", site), ("lab", lab)) if lab else (("site", site),):
            row = rows.setdefault(
                key,
                {"collected": 0, "received": 0, "resulted": 0, "hours": [], "lr": 0, "lres": 0},
            )
            row["collected"] += 1
            if received:
                row["received"] += 1
            if resulted:
                row["resulted"] += 1
                row["hours"].append((resulted - collected).total_seconds() / 3600)
            if shipped and not received and shipped < late:
                row["lr"] += 1
            if received and not resulted and received < late:
                row["lres"] += 1
            _ = status
    out = []
    for (kind, name), row in sorted(rows.items()):
        hours = sorted(row["hours"])
        median = hours[len(hours) // 2] if hours else None
        out.append(
            BoardRow(
                kind=kind,
                name=name,
                collected=row["collected"],
                received=row["received"],
                resulted=row["resulted"],
                median_hours=round(median, 1) if median is not None else None,
                late_receipt=row["lr"],
                late_result=row["lres"],
            )
        )
    return out


def health_measures_of_people(
    people: QuerySet[Person], since: datetime.date
) -> dict[int, dict[str, datetime.date]]:
    """The `covidhub.people.health_status` provider: a positive pool whose member has no
    later result yet is awaiting the individual retest (from the pool's release)."""
    from covidhub.people.health_status import AWAITING_RETEST

    start = timezone.make_aware(datetime.datetime.combine(since, datetime.time.min))
    pooled = Result.objects.filter(
        person__in=people, outcome=Result.Outcome.POOL_POSITIVE, released_at__gte=start
    ).values_list("person_id", flat=True)
    latest: dict[int, tuple[datetime.datetime, str]] = {}
    rows = Result.objects.filter(person_id__in=pooled, released_at__gte=start).values_list(
        "person_id", "released_at", "outcome"
    )
    for person_id, released_at, outcome in rows:
        if person_id not in latest or released_at > latest[person_id][0]:
            latest[person_id] = (released_at, outcome)
    return {
        person_id: {AWAITING_RETEST: timezone.localdate(released_at)}
        for person_id, (released_at, outcome) in latest.items()
        if outcome == Result.Outcome.POOL_POSITIVE
    }
