"""Vaccination's reads: what citizens, site staff and officers see, and the reports.

Staff reads of a person's vaccination data are scoped (site or area) and audited.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, Model, Q, QuerySet, Sum
from django.utils import timezone

from covidhub.accounts.models import User
from covidhub.accounts.scoping import OFFICER_ROLES, actor_scope, area_path_q, primary_role
from covidhub.areas.models import Area
from covidhub.audit.services import audit_record_many
from covidhub.core.listing import Listing
from covidhub.core.metrics import DailyCount
from covidhub.people.models import Person
from covidhub.people.selectors import household_of
from covidhub.vaccination import rules
from covidhub.vaccination.models import (
    ACTIVE_BOOKING_STATES,
    OBSERVATION_MINUTES,
    AdverseEvent,
    Booking,
    Campaign,
    Dose,
    LotAllocation,
    PersonVaccination,
    PriorityGroup,
    Registration,
    Session,
    VaccinationSite,
    Vaccine,
    VaccineLot,
)
from covidhub.vaccination.scoping import PLANNER_ROLES, site_q


def _audit_list[T: Model](actor: Any, action: str, objects: list[T]) -> list[T]:
    """`objects`, their reading by staff audited."""
    if getattr(actor, "is_authenticated", False) and actor.kind == User.Kind.STAFF and objects:
        shown: list[Model] = list(objects)
        audit_record_many(
            actor=actor, actor_role=primary_role(actor_scope(actor)), action=action, objects=shown
        )
    return objects


def _rows(queryset: Any) -> list[dict[str, Any]]:
    """Rows of a values() query as plain dicts (their annotations are not typed)."""
    return [dict(row) for row in queryset]


def vaccine_list(*, active_only: bool = True) -> QuerySet[Vaccine]:
    qs = Vaccine.objects.all()
    return qs.filter(active=True) if active_only else qs


# Citizens ---------------------------------------------------------------------------------


def sessions_open_list(*, district: Area | None = None, limit: int = 100) -> list[Session]:
    return list(session_queryset_open(district=district)[:limit])


def session_queryset_open(*, district: Area | None = None) -> QuerySet[Session]:
    """Sessions a citizen may book: self-booking, today or later, campaign open."""
    qs = (
        Session.objects.filter(
            self_booking=True,
            cancelled=False,
            date__gte=timezone.localdate(),
            campaign__status=Campaign.Status.OPEN,
        )
        .select_related("site__commune", "campaign__vaccine")
        .order_by("date", "starts_at", "id")
    )
    if district is not None:
        qs = qs.filter(site__commune_path__startswith=district.path)
    return qs


@dataclass
class PersonVaccinationView:
    person: Person
    registration: Registration | None
    doses: list[Dose]
    bookings: list[Booking]
    next_dose: rules.NextDose
    adverse_events: list[AdverseEvent] = field(default_factory=list)

    @property
    def next_due_on(self) -> datetime.date | None:
        return self.next_dose.due_on

    @property
    def registration_answers(self) -> list[Any]:
        """The registration's "yes" answers as the questions people read (never the
        stored keys such as `chronic`)."""
        from covidhub.vaccination.checklists import HEALTH_QUESTIONS

        answers = self.registration.health_answers if self.registration else {}
        return [q.text for q in HEALTH_QUESTIONS if answers and answers.get(q.key)]

    @property
    def next_earliest_on(self) -> datetime.date | None:
        return self.next_dose.earliest_on


def person_vaccination_view(person: Person) -> PersonVaccinationView:
    doses = list(
        Dose.objects.filter(person=person, status=Dose.Status.VALID)
        .select_related("vaccine", "site", "lot")
        .order_by("sequence")
    )
    bookings = list(
        Booking.objects.filter(person=person)
        .exclude(status__in=(Booking.Status.CANCELLED, Booking.Status.DECLINED))
        .select_related("session__site", "session__campaign__vaccine")
        .order_by("-session__date", "-id")[:20]
    )
    facts = [rules.DoseFact(d.vaccine, d.series, d.dose_number, d.day) for d in doses]
    return PersonVaccinationView(
        person=person,
        registration=Registration.objects.filter(person=person)
        .select_related("preferred_site")
        .first(),
        doses=doses,
        bookings=bookings,
        next_dose=rules.next_dose(facts),
        adverse_events=list(AdverseEvent.objects.filter(person=person)[:20]),
    )


def household_vaccination(*, account: User) -> list[PersonVaccinationView]:
    """The account's household with each person's doses, bookings and next dose."""
    return [person_vaccination_view(p) for p in household_of(account=account)]


# Site staff -------------------------------------------------------------------------------


def site_sessions_list(*, actor: Any, site: VaccinationSite, day: datetime.date) -> list[Session]:
    return list(
        Session.objects.filter(site=site, date=day)
        .select_related("campaign__vaccine")
        .order_by("starts_at")
    )


def site_queue_list(
    *, actor: Any, site: VaccinationSite, day: datetime.date, statuses: Iterable[str]
) -> list[Booking]:
    """The first 200 of `site_queue_listing`."""
    return site_queue_listing(actor=actor, site=site, day=day, statuses=statuses)[:200]


def site_queue_listing(
    *, actor: Any, site: VaccinationSite, day: datetime.date, statuses: Iterable[str]
) -> Listing[Booking]:
    """Today's bookings at a site in the given states (each page audited: names are shown)."""
    return Listing(
        Booking.objects.filter(session__site=site, session__date=day, status__in=list(statuses))
        .select_related("person", "session__site", "session__campaign__vaccine", "screening")
        .order_by("checked_in_at", "created_at", "id"),
        each_page=lambda rows: _audit_list(actor, "vaccination.booking.listed", rows),
    )


def observation_list(
    *, actor: Any, site: VaccinationSite, now: datetime.datetime | None = None
) -> list[Dose]:
    """The first 200 of `observation_listing`."""
    return observation_listing(actor=actor, site=site, now=now)[:200]


def observation_listing(
    *, actor: Any, site: VaccinationSite, now: datetime.datetime | None = None
) -> Listing[Dose]:
    """Who is under observation at the site, and when each may leave (earliest first;
    each page audited)."""
    now = now or timezone.now()
    since = now - datetime.timedelta(minutes=OBSERVATION_MINUTES * 2)
    return Listing(
        Dose.objects.filter(site=site, status=Dose.Status.VALID, administered_at__gte=since)
        .select_related("person", "vaccine")
        .order_by("administered_at", "id"),
        each_page=lambda rows: _audit_list(actor, "vaccination.observation.listed", rows),
    )


def allocations_for_site(*, site: VaccinationSite) -> list[LotAllocation]:
    today = timezone.localdate()
    return [
        a
        for a in LotAllocation.objects.filter(site=site, lot__expiry_date__gte=today)
        .select_related("lot__vaccine")
        .order_by("lot__expiry_date")
        if a.doses_left > 0
    ]


def booking_person_for_staff(*, actor: Any, booking: Booking) -> PersonVaccinationView:
    """The person of a booking at the actor's site, with their history (audited)."""
    from covidhub.vaccination.services.common import audit

    with transaction.atomic():
        audit(actor, "vaccination.person.viewed", booking, person_uuid=booking.person.uuid)
    return person_vaccination_view(booking.person)


# Officers ---------------------------------------------------------------------------------


def campaigns_for_actor(*, actor: Any) -> QuerySet[Campaign]:
    scope = actor_scope(actor)
    # A campaign is visible to officers whose area overlaps it (inside or above).
    q = area_path_q(scope, "area_path")
    for path in scope.area_paths:
        q |= Q(area_path__in=list(_ancestors(path)))
    if not scope.has_role(*OFFICER_ROLES):
        q = Q(pk__in=[])
    return Campaign.objects.filter(q).select_related("vaccine", "area")


def _ancestors(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/".join(parts[:n]) + "/" for n in range(1, len(parts))]


def aefi_list_for_actor(*, actor: Any, limit: int = 100) -> list[AdverseEvent]:
    """The first `limit` of `aefi_listing_for_actor`."""
    return aefi_listing_for_actor(actor=actor)[:limit]


def aefi_listing_for_actor(*, actor: Any) -> Listing[AdverseEvent]:
    """Adverse events of people in the actor's areas, newest first (each page audited)."""
    return Listing(
        AdverseEvent.objects.filter(area_path_q(actor_scope(actor), "commune_path"))
        .select_related("person__commune", "dose__vaccine", "dose__lot")
        .order_by("-created_at", "-id"),
        each_page=lambda rows: _audit_list(actor, "vaccination.aefi.listed", rows),
    )


def person_doses_for_officer(*, actor: Any, person: Person) -> PersonVaccinationView:
    """Caller fetched `person` with people.selectors.person_get_for_actor (scoped, audited)."""
    return person_vaccination_view(person)


# Reports ----------------------------------------------------------------------------------


def doses_per_day(
    *, actor: Any, since: datetime.date, until: datetime.date
) -> list[dict[str, Any]]:
    """Doses given per day in the actor's area (aggregates only)."""
    scope = actor_scope(actor)
    rows = (
        Dose.objects.filter(
            area_path_q(scope, "commune_path"),
            status=Dose.Status.VALID,
            day__gte=since,
            day__lte=until,
        )
        .values("day")
        .annotate(
            doses=Count("id"),
            first=Count("id", filter=Q(sequence=1)),
            full=Count("id", filter=Q(completes_primary=True)),
            booster=Count("id", filter=Q(series=Dose.Series.BOOSTER)),
        )
        .order_by("day")
    )
    return _rows(rows)


AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-11", 0, 11),
    ("12-17", 12, 17),
    ("18-49", 18, 49),
    ("50-64", 50, 64),
    ("65+", 65, None),
)


def age_band(age: int) -> str:
    for label, low, high in AGE_BANDS:
        if age >= low and (high is None or age <= high):
            return label
    return AGE_BANDS[0][0]


@dataclass
class CoverageRow:
    key: str
    label: str
    population: int = 0
    at_least_one: int = 0
    full: int = 0
    booster: int = 0

    def percent(self, value: int) -> float:
        return round(100.0 * value / self.population, 1) if self.population else 0.0

    @property
    def at_least_one_pct(self) -> float:
        return self.percent(self.at_least_one)

    @property
    def full_pct(self) -> float:
        return self.percent(self.full)

    @property
    def booster_pct(self) -> float:
        return self.percent(self.booster)


def _area_for(actor: Any, area_path: str) -> list[str]:
    """The area paths to report on: `area_path` limited to the actor's scope."""
    if actor is None:
        return [area_path] if area_path else [""]
    scope = actor_scope(actor)
    if not scope.has_role(*OFFICER_ROLES):
        return []
    if not area_path:
        return list(scope.area_paths)
    if scope.covers_path(area_path):
        return [area_path]
    return [p for p in scope.area_paths if p.startswith(area_path)]


def coverage_counts(
    *,
    by: str = "commune",
    area_path: str = "",
    actor: Any = None,
    today: datetime.date | None = None,
) -> list[CoverageRow]:
    """Coverage — at least one dose, full primary series, booster — by commune, age band or
    priority group, over an area (the whole province when empty).

    Aggregates only. With `actor`, limited to the actor's areas; without (the public
    portal), over `area_path`. One grouped scan of the summary table and one of people.
    """
    paths = _area_for(actor, area_path)
    if not paths:
        return []
    commune_q = Q()
    for path in paths:
        commune_q |= Q(path__startswith=path)
    communes = dict(
        Area.objects.filter(commune_q, level=Area.Level.COMMUNE).values_list("id", "name")
    )
    ids = list(communes)
    numerators = PersonVaccination.objects.filter(commune_id__in=ids, doses__gte=1)
    aggregates = {
        "one": Count("person_id"),
        "full": Count("person_id", filter=Q(primary_complete=True)),
        "booster": Count("person_id", filter=Q(boosters__gte=1)),
    }
    rows: dict[str, CoverageRow] = {}
    year = (today or timezone.localdate()).year

    def row(key: str, label: str) -> CoverageRow:
        if key not in rows:
            rows[key] = CoverageRow(key=key, label=label)
        return rows[key]

    if by == "commune":
        for commune_id, population in (
            Person.objects.filter(commune_id__in=ids)
            .values_list("commune_id")
            .annotate(n=Count("id"))
            .values_list("commune_id", "n")
        ):
            row(str(commune_id), communes[commune_id]).population = population
        for item in _rows(numerators.values("commune_id").annotate(**aggregates).order_by()):
            r = row(str(item["commune_id"]), communes[item["commune_id"]])
            r.at_least_one, r.full, r.booster = item["one"], item["full"], item["booster"]
        return sorted(rows.values(), key=lambda r: r.label)
    if by == "age_band":
        for band, _low, _high in AGE_BANDS:
            row(band, band)
        for birth_year, population in (
            Person.objects.filter(commune_id__in=ids)
            .values_list("birth_year")
            .annotate(n=Count("id"))
            .values_list("birth_year", "n")
        ):
            row(age_band(year - birth_year), "").population += population
        for item in _rows(numerators.values("birth_year").annotate(**aggregates).order_by()):
            r = row(age_band(year - item["birth_year"]), "")
            r.at_least_one += item["one"]
            r.full += item["full"]
            r.booster += item["booster"]
        for r in rows.values():
            r.label = r.key
        return [rows[band] for band, _l, _h in AGE_BANDS]
    if by == "priority_group":
        for choice in PriorityGroup:
            row(choice.value, str(choice.label))
        registered = Q()
        for path in paths:
            registered |= Q(commune_path__startswith=path)
        for group_code, population in (
            Registration.objects.filter(registered)
            .values_list("priority_group")
            .annotate(n=Count("id"))
            .values_list("priority_group", "n")
        ):
            row(group_code, group_code).population = population
        for item in _rows(
            numerators.exclude(priority_group="")
            .values("priority_group")
            .annotate(**aggregates)
            .order_by()
        ):
            r = row(item["priority_group"], item["priority_group"])
            r.at_least_one, r.full, r.booster = item["one"], item["full"], item["booster"]
        return [rows[g.value] for g in PriorityGroup]
    raise ValueError(f"unknown grouping {by!r}")


@dataclass
class StockRow:
    key: str
    label: str
    vaccine: str
    lot: str
    expiry_date: datetime.date | None
    received: int = 0
    allocated: int = 0
    used: int = 0
    wasted: int = 0

    @property
    def left(self) -> int:
        return self.allocated - self.used - self.wasted


def stock_by_site(*, actor: Any) -> list[StockRow]:
    """Per site and lot: allocated, given, wasted, left (sites the actor may see)."""
    allocations = (
        LotAllocation.objects.filter(site_q(actor, prefix="site__"))
        .select_related("site", "lot__vaccine")
        .order_by("site__name", "lot__expiry_date")
    )
    return [
        StockRow(
            key=str(a.site.uuid),
            label=a.site.name,
            vaccine=a.lot.vaccine.name,
            lot=a.lot.number,
            expiry_date=a.lot.expiry_date,
            allocated=a.doses_allocated,
            used=a.doses_used,
            wasted=a.doses_wasted,
        )
        for a in allocations
    ]


def stock_by_district(*, actor: Any) -> list[StockRow]:
    """Per district and vaccine: doses received in store, allocated to sites, used, wasted."""
    scope = actor_scope(actor)
    rows: dict[tuple[str, str], StockRow] = {}
    site_rows = (
        LotAllocation.objects.filter(site_q(actor, prefix="site__", roles=OFFICER_ROLES))
        .values("site__commune__parent__path", "site__commune__parent__name", "lot__vaccine__name")
        .annotate(
            allocated=Sum("doses_allocated"), used=Sum("doses_used"), wasted=Sum("doses_wasted")
        )
    )
    for item in _rows(site_rows):
        key = (item["site__commune__parent__path"], item["lot__vaccine__name"])
        rows[key] = StockRow(
            key=key[0],
            label=item["site__commune__parent__name"],
            vaccine=key[1],
            lot="",
            expiry_date=None,
            allocated=item["allocated"] or 0,
            used=item["used"] or 0,
            wasted=item["wasted"] or 0,
        )
    for item in _rows(
        VaccineLot.objects.filter(area_path_q(scope, "store_path", roles=PLANNER_ROLES))
        .values("store_path", "store_area__name", "vaccine__name")
        .annotate(received=Sum("doses_received"))
    ):
        key = (item["store_path"], item["vaccine__name"])
        if key not in rows:
            rows[key] = StockRow(key[0], item["store_area__name"], key[1], "", None)
        rows[key].received = item["received"] or 0
    return sorted(rows.values(), key=lambda r: (r.key, r.vaccine))


# For the portal and other capabilities ------------------------------------------------------


def daily_counts(since: datetime.date, until: datetime.date) -> Iterable[DailyCount]:
    """Daily doses per commune: "doses", "doses_dose1", "doses_full", "doses_booster"."""
    rows = (
        Dose.objects.filter(status=Dose.Status.VALID, day__gte=since, day__lte=until)
        .values("day", "commune_id")
        .annotate(
            doses=Count("id"),
            dose1=Count("id", filter=Q(sequence=1)),
            full=Count("id", filter=Q(completes_primary=True)),
            booster=Count("id", filter=Q(series=Dose.Series.BOOSTER)),
        )
        .order_by("day", "commune_id")
    )
    for item in _rows(rows):
        for metric, key in (
            ("doses", "doses"),
            ("doses_dose1", "dose1"),
            ("doses_full", "full"),
            ("doses_booster", "booster"),
        ):
            yield DailyCount(item["day"], item["commune_id"], metric, item[key])


def vaccinated_indicator(person_ids: set[int]) -> set[int]:
    """Which of these people have at least one valid dose."""
    return set(
        PersonVaccination.objects.filter(person_id__in=person_ids, doses__gte=1).values_list(
            "person_id", flat=True
        )
    )


def active_booking_exists(person: Person, dose_number: int) -> bool:
    return Booking.objects.filter(
        person=person, dose_number=dose_number, status__in=ACTIVE_BOOKING_STATES
    ).exists()
