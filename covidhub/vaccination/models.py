"""Vaccination: vaccines and their rules, stock, campaigns and sessions, registrations,
bookings, the four steps of the vaccination day, doses, adverse events."""

from __future__ import annotations

import datetime
import secrets
import uuid
from uuid import UUID

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from covidhub.core.dates import date_text

# Minutes a vaccinated person stays under observation (Ministry of Health: 30 minutes).
OBSERVATION_MINUTES = 30
# The kind under which vaccination sites are referenced by RoleAssignment.unit_kind.
UNIT_KIND = "vaccination_site"


def booking_code_new() -> str:
    """A short random code for the booking's QR (no ambiguous characters)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(10))


class PriorityGroup(models.TextChoices):
    """The priority groups of Resolution 21/NQ-CP (26/02/2021), in priority order."""

    FRONTLINE = "g01", _("1. Front-line epidemic workers (health, army, police, volunteers)")
    DIPLOMATS_CUSTOMS = "g02", _("2. Diplomats sent abroad, customs and immigration officers")
    ESSENTIAL_SERVICES = (
        "g03",
        _("3. Essential services (aviation, transport, tourism, power, water)"),
    )
    EDUCATION_PUBLIC = "g04", _("4. Teachers, pupils, students; public-facing administrative staff")
    CHRONIC_ELDERLY = "g05", _("5. People with chronic diseases; people over 65")
    OUTBREAK_AREAS = "g06", _("6. People living in outbreak areas")
    POOR_SOCIAL = "g07", _("7. Poor households and social-policy beneficiaries")
    GOING_ABROAD = "g08", _("8. People sent abroad for work or study; foreign experts in Vietnam")
    WORKERS = "g09", _("9. Workers at enterprises and their relatives")
    RELIGIOUS = "g10", _("10. Religious dignitaries and officials")
    FREELANCE = "g11", _("11. Self-employed workers")
    OTHER = "g12", _("12. Others decided by the Minister of Health or the province")

    @classmethod
    def rank(cls, value: str) -> int:
        return int(value[1:]) if value in cls.values else 99


class Vaccine(models.Model):
    """A COVID-19 vaccine with its EU DCC codes and its rules; administrators edit these."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.SlugField(_("short code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    product_code = models.CharField(
        _("DCC medicinal product (mp)"), max_length=60, help_text=_("From vaccines-covid-19-names")
    )
    manufacturer_code = models.CharField(
        _("DCC manufacturer (ma)"),
        max_length=60,
        help_text=_("From vaccines-covid-19-auth-holders"),
    )
    prophylaxis_code = models.CharField(
        _("DCC prophylaxis (vp)"), max_length=20, help_text=_("From sct-vaccines-covid-19")
    )
    primary_doses = models.PositiveSmallIntegerField(_("doses in the primary series"), default=2)
    min_interval_days = models.PositiveSmallIntegerField(
        _("minimum days between primary doses"), default=21
    )
    recommended_interval_days = models.PositiveSmallIntegerField(
        _("recommended days between primary doses"), default=28
    )
    booster_allowed = models.BooleanField(_("may be given as a booster"), default=False)
    booster_interval_days = models.PositiveSmallIntegerField(
        _("days after the previous dose before a booster"), default=90
    )
    boosters_max = models.PositiveSmallIntegerField(
        _("boosters recommended after this primary series"), default=2
    )
    min_age = models.PositiveSmallIntegerField(_("minimum age (years)"), default=18)
    max_age = models.PositiveSmallIntegerField(_("maximum age (years)"), null=True, blank=True)
    doses_per_vial = models.PositiveSmallIntegerField(_("doses per vial"), default=10)
    active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("vaccine")
        verbose_name_plural = _("vaccines")
        constraints = [
            models.CheckConstraint(
                condition=Q(primary_doses__gte=1) & Q(primary_doses__lte=5),
                name="vaccine_primary_doses_range",
            ),
            models.CheckConstraint(
                condition=Q(recommended_interval_days__gte=F("min_interval_days")),
                name="vaccine_recommended_after_min",
            ),
            models.CheckConstraint(
                condition=Q(max_age__isnull=True) | Q(max_age__gte=F("min_age")),
                name="vaccine_age_range",
            ),
            models.CheckConstraint(condition=Q(doses_per_vial__gte=1), name="vaccine_vial_doses"),
        ]

    def __str__(self) -> str:
        return self.name


class VaccinationSite(models.Model):
    """A place where vaccinations are given (a health station, hospital, school hall)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=150)
    address = models.CharField(_("address"), max_length=200, blank=True)
    commune = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("commune / ward")
    )
    commune_path = models.CharField(max_length=64, db_index=True, editable=False)
    active = models.BooleanField(_("open"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("vaccination site")
        verbose_name_plural = _("vaccination sites")

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        self.commune_path = self.commune.path
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class VaccineLot(models.Model):
    """A lot received into a province or district store."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    vaccine = models.ForeignKey(
        Vaccine, on_delete=models.PROTECT, related_name="lots", verbose_name=_("vaccine")
    )
    number = models.CharField(_("lot number"), max_length=40)
    expiry_date = models.DateField(_("expiry date"))
    doses_received = models.PositiveIntegerField(_("doses received"))
    doses_allocated = models.PositiveIntegerField(_("doses allocated to sites"), default=0)
    store_area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("held by")
    )
    store_path = models.CharField(max_length=64, db_index=True, editable=False)
    received_on = models.DateField(_("received on"))
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["expiry_date", "number"]
        verbose_name = _("vaccine lot")
        verbose_name_plural = _("vaccine lots")
        constraints = [
            models.UniqueConstraint(fields=["vaccine", "number"], name="lot_number_unique"),
            models.CheckConstraint(
                condition=Q(doses_allocated__lte=F("doses_received")),
                name="lot_not_overallocated",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.vaccine.code} {self.number}"

    def is_expired(self, day: datetime.date) -> bool:
        return self.expiry_date < day


class LotAllocation(models.Model):
    """Doses of a lot allocated to one site; each recorded dose and wasted dose takes one."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    lot = models.ForeignKey(
        VaccineLot, on_delete=models.PROTECT, related_name="allocations", verbose_name=_("lot")
    )
    site = models.ForeignKey(
        VaccinationSite,
        on_delete=models.PROTECT,
        related_name="allocations",
        verbose_name=_("site"),
    )
    doses_allocated = models.PositiveIntegerField(_("doses allocated"), default=0)
    doses_used = models.PositiveIntegerField(_("doses given"), default=0)
    doses_wasted = models.PositiveIntegerField(_("doses wasted"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["lot__expiry_date", "id"]
        verbose_name = _("lot allocation")
        verbose_name_plural = _("lot allocations")
        constraints = [
            models.UniqueConstraint(fields=["lot", "site"], name="allocation_lot_site_unique"),
            models.CheckConstraint(
                condition=Q(doses_used__lte=F("doses_allocated") - F("doses_wasted")),
                name="allocation_not_overdrawn",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lot} @ {self.site}"

    @property
    def doses_left(self) -> int:
        return self.doses_allocated - self.doses_used - self.doses_wasted


class StockWastage(models.Model):
    """Doses lost from an allocation: an opened vial's leftover, breakage, cold chain."""

    class Reason(models.TextChoices):
        OPENED_VIAL = "opened_vial", _("Opened vial not used up")
        BROKEN = "broken", _("Broken or contaminated vial")
        COLD_CHAIN = "cold_chain", _("Cold chain failure")
        EXPIRED = "expired", _("Expired")

    allocation = models.ForeignKey(
        LotAllocation, on_delete=models.PROTECT, related_name="wastage", verbose_name=_("lot")
    )
    doses = models.PositiveIntegerField(_("doses"))
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("wastage")
        verbose_name_plural = _("wastage")
        constraints = [models.CheckConstraint(condition=Q(doses__gte=1), name="wastage_positive")]

    def __str__(self) -> str:
        return f"{self.doses} × {self.reason}"


class Campaign(models.Model):
    """A vaccination campaign: target groups, an area, a vaccine, sites and sessions."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=150)
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area")
    )
    area_path = models.CharField(max_length=64, db_index=True, editable=False)
    vaccine = models.ForeignKey(
        Vaccine, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("vaccine")
    )
    priority_groups = models.JSONField(_("target priority groups"), default=list, blank=True)
    sites = models.ManyToManyField(
        VaccinationSite, related_name="campaigns", blank=True, verbose_name=_("sites")
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_on", "name"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="campaign_dates_ordered"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Session(models.Model):
    """A vaccination session at a site: date, time window and capacity.

    `booked_count` counts the places held (invited, confirmed, checked in, vaccinated);
    it changes only under a row lock and can never exceed `capacity` (a constraint).
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="sessions", verbose_name=_("campaign")
    )
    site = models.ForeignKey(
        VaccinationSite, on_delete=models.PROTECT, related_name="sessions", verbose_name=_("site")
    )
    date = models.DateField(_("date"))
    starts_at = models.TimeField(_("from"))
    ends_at = models.TimeField(_("until"))
    capacity = models.PositiveIntegerField(_("places"))
    booked_count = models.PositiveIntegerField(default=0, editable=False)
    self_booking = models.BooleanField(_("citizens may book themselves"), default=True)
    cancelled = models.BooleanField(_("cancelled"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["date", "starts_at", "id"]
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        constraints = [
            models.CheckConstraint(
                condition=Q(booked_count__lte=F("capacity")), name="session_not_overbooked"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="session_time_ordered"
            ),
        ]
        indexes = [models.Index(fields=["site", "date"])]

    def __str__(self) -> str:
        return f"{self.site} {date_text(self.date)} {self.starts_at:%H:%M}"

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.booked_count, 0)


class Registration(models.Model):
    """A person's registration for vaccination (one per person, updated on re-registration)."""

    class Source(models.TextChoices):
        CITIZEN = "citizen", _("Registered by the citizen")
        AGENCY = "agency", _("Agency staff list")
        COMMUNE = "commune", _("Commune resident list")
        OFFICER = "officer", _("Registered by an officer")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.OneToOneField(
        "people.Person", on_delete=models.CASCADE, related_name="vaccination_registration"
    )
    priority_group = models.CharField(
        _("priority group"), max_length=3, choices=PriorityGroup.choices
    )
    priority_rank = models.PositiveSmallIntegerField(editable=False, default=99)
    occupation = models.CharField(_("occupation"), max_length=100, blank=True)
    health_answers = models.JSONField(_("health questions"), default=dict, blank=True)
    preferred_site = models.ForeignKey(
        VaccinationSite,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("preferred site"),
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.CITIZEN)
    source_name = models.CharField(_("agency or list"), max_length=150, blank=True)
    commune_path = models.CharField(max_length=64, db_index=True, editable=False)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["priority_rank", "created_at", "id"]
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        indexes = [models.Index(fields=["commune_path", "priority_rank", "created_at"])]

    def __str__(self) -> str:
        return f"registration {self.uuid}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.priority_rank = PriorityGroup.rank(self.priority_group)
        super().save(*args, **kwargs)  # type: ignore[arg-type]


ACTIVE_BOOKING_STATES = ("invited", "confirmed", "checked_in", "waitlisted")
PLACE_HOLDING_STATES = ("invited", "confirmed", "checked_in", "vaccinated")


class Booking(models.Model):
    """A person's place in a session for one dose (or a place on its waiting list)."""

    class Status(models.TextChoices):
        INVITED = "invited", _("Invited")
        CONFIRMED = "confirmed", _("Booking confirmed")
        WAITLISTED = "waitlisted", _("On the waiting list")
        CHECKED_IN = "checked_in", _("Checked in")
        VACCINATED = "vaccinated", _("Vaccinated")
        DECLINED = "declined", _("Declined")
        CANCELLED = "cancelled", _("Cancelled")
        POSTPONED = "postponed", _("Postponed after screening")
        REFERRED = "referred", _("Referred to hospital")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(max_length=12, unique=True, default=booking_code_new, editable=False)
    session = models.ForeignKey(
        Session, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("session")
    )
    person = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="vaccination_bookings"
    )
    dose_number = models.PositiveSmallIntegerField(_("dose"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    invited_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "dose_number"],
                condition=Q(status__in=ACTIVE_BOOKING_STATES),
                name="booking_one_active_per_dose",
            ),
            models.CheckConstraint(condition=Q(dose_number__gte=1), name="booking_dose_positive"),
        ]
        indexes = [models.Index(fields=["session", "status", "created_at"])]

    def __str__(self) -> str:
        return f"booking {self.code}"

    @property
    def person_uuid(self) -> UUID:
        return self.person.uuid


class Screening(models.Model):
    """The pre-vaccination screening (the Ministry of Health's checklist) of a booking."""

    class Outcome(models.TextChoices):
        VACCINATE = "vaccinate", _("Vaccinate now")
        POSTPONE = "postpone", _("Postpone")
        REFER = "refer", _("Refer to hospital")

    booking = models.OneToOneField(Booking, on_delete=models.CASCADE, related_name="screening")
    answers = models.JSONField(_("answers"), default=dict)
    temperature = models.DecimalField(
        _("temperature (°C)"), max_digits=3, decimal_places=1, null=True, blank=True
    )
    outcome = models.CharField(_("conclusion"), max_length=10, choices=Outcome.choices)
    notes = models.CharField(_("notes"), max_length=500, blank=True)
    screened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("screening")
        verbose_name_plural = _("screenings")

    def __str__(self) -> str:
        return f"screening {self.booking_id}: {self.outcome}"


class Dose(models.Model):
    """A dose given to a person: here (from a lot at a site) or elsewhere (with evidence)."""

    class Series(models.TextChoices):
        PRIMARY = "primary", _("Primary series")
        BOOSTER = "booster", _("Booster")

    class Status(models.TextChoices):
        VALID = "valid", _("Valid")
        VOIDED = "voided", _("Voided")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="vaccination_doses"
    )
    vaccine = models.ForeignKey(
        Vaccine, on_delete=models.PROTECT, related_name="doses", verbose_name=_("vaccine")
    )
    series = models.CharField(_("series"), max_length=8, choices=Series.choices)
    dose_number = models.PositiveSmallIntegerField(_("dose in the series"))
    sequence = models.PositiveSmallIntegerField(_("dose"))  # overall: 1, 2, 3, …
    completes_primary = models.BooleanField(default=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.VALID)
    administered_at = models.DateTimeField(_("given at"))
    day = models.DateField(editable=False, db_index=True)
    commune = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    commune_path = models.CharField(max_length=64, db_index=True, editable=False)
    lot = models.ForeignKey(
        VaccineLot, on_delete=models.PROTECT, null=True, blank=True, related_name="doses"
    )
    allocation = models.ForeignKey(
        LotAllocation, on_delete=models.PROTECT, null=True, blank=True, related_name="doses"
    )
    site = models.ForeignKey(
        VaccinationSite, on_delete=models.PROTECT, null=True, blank=True, related_name="doses"
    )
    booking = models.OneToOneField(
        Booking, on_delete=models.PROTECT, null=True, blank=True, related_name="dose"
    )
    vaccinator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    given_elsewhere = models.BooleanField(_("given elsewhere"), default=False)
    elsewhere_place = models.CharField(_("where it was given"), max_length=200, blank=True)
    elsewhere_country = models.CharField(_("country"), max_length=2, blank=True)
    evidence = models.FileField(
        _("evidence"), upload_to="vaccination/evidence/%Y/%m/", blank=True, max_length=200
    )
    evidence_note = models.CharField(_("evidence"), max_length=300, blank=True)
    override_reason = models.CharField(_("officer's override"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    void_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["person_id", "sequence"]
        verbose_name = _("dose")
        verbose_name_plural = _("doses")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "series", "dose_number"],
                condition=Q(status="valid"),
                name="dose_number_unique_per_series",
            ),
            models.UniqueConstraint(
                fields=["person", "sequence"],
                condition=Q(status="valid"),
                name="dose_sequence_unique",
            ),
            models.CheckConstraint(condition=Q(dose_number__gte=1), name="dose_number_positive"),
            models.CheckConstraint(
                condition=Q(given_elsewhere=True) | Q(lot__isnull=False),
                name="dose_here_has_lot",
            ),
        ]
        indexes = [
            models.Index(fields=["day", "commune"]),
            models.Index(fields=["site", "administered_at"]),
        ]

    def __str__(self) -> str:
        return f"dose {self.uuid}"

    @property
    def person_uuid(self) -> UUID:
        return self.person.uuid

    @property
    def observation_ends_at(self) -> datetime.datetime:
        return self.administered_at + datetime.timedelta(minutes=OBSERVATION_MINUTES)


class PersonVaccination(models.Model):
    """One row per vaccinated person: the summary that follow-up and coverage read.

    Rewritten from the person's valid doses under a row lock (which also serialises the
    dose numbering of one person); commune, birth year and priority group are copied here
    so that coverage over millions of people is one scan of this table.
    """

    person = models.OneToOneField(
        "people.Person", on_delete=models.CASCADE, related_name="vaccination_status"
    )
    commune = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    birth_year = models.PositiveSmallIntegerField()
    priority_group = models.CharField(max_length=3, blank=True)
    doses = models.PositiveSmallIntegerField(default=0)
    primary_vaccine = models.ForeignKey(
        Vaccine, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    primary_doses = models.PositiveSmallIntegerField(default=0)
    primary_complete = models.BooleanField(default=False)
    boosters = models.PositiveSmallIntegerField(default=0)
    last_dose_on = models.DateField(null=True, blank=True)
    next_earliest_on = models.DateField(null=True, blank=True)
    next_due_on = models.DateField(null=True, blank=True, db_index=True)
    reminded_for = models.CharField(max_length=40, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["person_id"]
        verbose_name = _("vaccination status")
        verbose_name_plural = _("vaccination statuses")

    def __str__(self) -> str:
        return f"status {self.person_id}"


class AdverseEvent(models.Model):
    """An adverse event following immunisation (AEFI)."""

    class Severity(models.TextChoices):
        MILD = "mild", _("Mild (common reaction)")
        MODERATE = "moderate", _("Moderate")
        SERIOUS = "serious", _("Serious (hospitalisation, anaphylaxis, life-threatening, death)")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="adverse_events"
    )
    dose = models.ForeignKey(
        Dose, on_delete=models.PROTECT, null=True, blank=True, related_name="adverse_events"
    )
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    symptoms = models.CharField(_("what happened"), max_length=1000)
    onset_at = models.DateTimeField(_("when it started"))
    reported_by_citizen = models.BooleanField(default=False)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    commune_path = models.CharField(max_length=64, db_index=True, editable=False)
    escalated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("adverse event")
        verbose_name_plural = _("adverse events")

    def __str__(self) -> str:
        return f"AEFI {self.uuid}"

    @property
    def person_uuid(self) -> UUID:
        return self.person.uuid
