"""Health declarations, venues and check-ins, the commune's follow-up list, and confirmed
cases with their exposure candidates (F1)."""

from __future__ import annotations

import secrets
import uuid
from uuid import UUID

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

# Venue codes are typed by people reading a poster: no 0/O, 1/I/L.
VENUE_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
VENUE_CODE_LENGTH = 8


def venue_code_new() -> str:
    return "".join(secrets.choice(VENUE_CODE_ALPHABET) for _i in range(VENUE_CODE_LENGTH))


class Symptom(models.TextChoices):
    FEVER = "fever", _("Fever")
    COUGH = "cough", _("Cough")
    SHORTNESS_OF_BREATH = "shortness_of_breath", _("Shortness of breath")
    PNEUMONIA = "pneumonia", _("Pneumonia")
    SORE_THROAT = "sore_throat", _("Sore throat")
    FATIGUE = "fatigue", _("Fatigue")


SEVERE_SYMPTOMS = frozenset({Symptom.SHORTNESS_OF_BREATH, Symptom.PNEUMONIA})


class Exposure(models.TextChoices):
    CONFIRMED_OR_SUSPECTED = "contact_case", _("Contact with a confirmed or suspected case")
    OUTBREAK_AREA = (
        "contact_outbreak_area",
        _("Contact with a person from a country or area with COVID-19"),
    )
    SYMPTOMATIC = (
        "contact_symptomatic",
        _("Contact with a person with fever, cough, shortness of breath or pneumonia"),
    )


class Declaration(models.Model):
    """One domestic health declaration, kept exactly as submitted.

    The contact details are a snapshot of what the person declared, not a link to their
    current record; `answers` holds every answer of the form.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey(
        "people.Person",
        on_delete=models.CASCADE,
        related_name="declarations",
        verbose_name=_("person"),
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    full_name = models.CharField(_("full name"), max_length=150)
    birth_year = models.PositiveSmallIntegerField(_("year of birth"))
    phone = models.CharField(_("phone number"), max_length=20, blank=True)
    address_line = models.CharField(_("house number, street, hamlet"), max_length=200, blank=True)
    commune = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("commune / ward")
    )
    commune_path = models.CharField(max_length=64, editable=False)
    answers = models.JSONField(_("answers"), default=dict)
    has_symptoms = models.BooleanField(_("has symptoms"), default=False)
    has_exposure = models.BooleanField(_("has exposure"), default=False)
    day = models.DateField(_("day"), editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("health declaration")
        verbose_name_plural = _("health declarations")
        indexes = [
            models.Index(fields=["person", "-created_at"], name="decl_person_recent"),
            models.Index(fields=["day"], name="decl_day"),
        ]

    def __str__(self) -> str:
        return f"declaration {self.uuid}"

    @property
    def person_uuid(self) -> UUID:
        return self.person.uuid

    @property
    def symptoms(self) -> list[str]:
        return list(self.answers.get("symptoms", []))

    @property
    def exposures(self) -> list[str]:
        return [code for code in Exposure.values if self.answers.get(code)]


class Venue(models.Model):
    """A public place with a QR poster; `code` is its public, random check-in code."""

    class Kind(models.TextChoices):
        MARKET = "market", _("Market")
        SHOP = "shop", _("Shop or supermarket")
        RESTAURANT = "restaurant", _("Restaurant or café")
        OFFICE = "office", _("Office or agency")
        FACTORY = "factory", _("Factory or company")
        SCHOOL = "school", _("School")
        HEALTH = "health", _("Hospital or clinic")
        TRANSPORT = "transport", _("Bus or railway station")
        WORSHIP = "worship", _("Place of worship")
        EVENT = "event", _("Event or gathering")
        OTHER = "other", _("Other")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(
        _("check-in code"), max_length=16, unique=True, default=venue_code_new, editable=False
    )
    name = models.CharField(_("name"), max_length=150)
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    address_line = models.CharField(_("address"), max_length=200)
    commune = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("commune / ward")
    )
    commune_path = models.CharField(max_length=64, db_index=True, editable=False)
    contact_name = models.CharField(_("contact person"), max_length=150)
    contact_phone = models.CharField(_("contact phone"), max_length=20)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_venues",
        verbose_name=_("owner"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("venue")
        verbose_name_plural = _("venues")

    def __str__(self) -> str:
        return self.name

    @property
    def code_display(self) -> str:
        return f"{self.code[:4]}-{self.code[4:]}"


class VenueStaff(models.Model):
    """An account that may scan people's QR codes at a venue's entrance.

    Venue staff are not a platform role (they are usually citizens' accounts); the owner
    or a commune officer adds and removes them.
    """

    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="staff")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="venue_roles"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["venue_id", "created_at"]
        verbose_name = _("venue staff member")
        verbose_name_plural = _("venue staff")
        constraints = [models.UniqueConstraint(fields=["venue", "user"], name="venue_staff_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.venue}"


class CheckIn(models.Model):
    """A person's presence at a venue. Exposure tracing reads these by (venue, time)."""

    class Method(models.TextChoices):
        SELF = "self", _("Scanned the venue's code")
        STAFF = "staff", _("Scanned by venue staff")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="checkins")
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    checked_in_at = models.DateTimeField(_("checked in"))
    checked_out_at = models.DateTimeField(_("checked out"), null=True, blank=True)
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    day = models.DateField(editable=False)

    class Meta:
        ordering = ["-checked_in_at", "-id"]
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        indexes = [
            models.Index(fields=["venue", "checked_in_at"], name="checkin_venue_time"),
            models.Index(fields=["person", "checked_in_at"], name="checkin_person_time"),
            models.Index(fields=["day"], name="checkin_day"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(checked_out_at__isnull=True)
                | Q(checked_out_at__gte=F("checked_in_at")),
                name="checkin_out_after_in",
            )
        ]

    def __str__(self) -> str:
        return f"check-in {self.uuid}"

    @property
    def person_uuid(self) -> UUID:
        return self.person.uuid


class FollowUp(models.Model):
    """An item on the commune health station's list: a declaration with a symptom or an
    exposure. Kept after the declaration itself is deleted by retention."""

    class Status(models.TextChoices):
        OPEN = "open", _("To call")
        CLOSED = "closed", _("Done")

    class Outcome(models.TextChoices):
        ADVISED_TEST = "advised_test", _("Advised to get tested")
        HOME_ISOLATION = "home_isolation", _("Home isolation")
        REFERRED = "referred", _("Referred to a health facility")
        NO_ACTION = "no_action", _("No action needed")
        NOT_REACHED = "not_reached", _("Could not be reached")

    class Urgency(models.IntegerChoices):
        LOW = 1, _("Normal")
        HIGH = 2, _("High")
        URGENT = 3, _("Urgent")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    # No database constraint: declarations are partitioned by day on PostgreSQL
    # (covidhub.core.partitions), and nothing may hold a foreign key to such a table.
    # Retention sets it to NULL before the day's declarations go, by either path.
    declaration = models.OneToOneField(
        Declaration,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="followup",
        db_constraint=False,
    )
    commune = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    commune_path = models.CharField(max_length=64, editable=False)
    reasons = models.JSONField(_("reasons"), default=list)
    urgency = models.PositiveSmallIntegerField(_("urgency"), choices=Urgency.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    calls = models.PositiveSmallIntegerField(_("calls"), default=0)
    last_called_at = models.DateTimeField(_("last called"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # Open first, then the most urgent, then the newest.
        ordering = ["-status", "-urgency", "-created_at", "-id"]
        verbose_name = _("follow-up item")
        verbose_name_plural = _("follow-up items")
        indexes = [
            models.Index(
                fields=["commune_path", "-status", "-urgency", "-created_at"],
                name="followup_list",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open") | ~Q(outcome=""), name="followup_closed_has_outcome"
            )
        ]

    def __str__(self) -> str:
        return f"follow-up {self.uuid}"

    @property
    def person_uuid(self) -> UUID:
        return self.person.uuid


class FollowUpCall(models.Model):
    """One call by the health station, with what came of it."""

    followup = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="call_log")
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=FollowUp.Outcome.choices)
    note = models.TextField(_("note"), blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("follow-up call")
        verbose_name_plural = _("follow-up calls")

    def __str__(self) -> str:
        return f"call {self.pk}"


class Case(models.Model):
    """A confirmed case (F0). Marking one is restricted: it takes effect only when an
    officer other than the one who proposed it approves (held by a database check)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting a second officer's approval")
        CONFIRMED = "confirmed", _("Confirmed")
        REJECTED = "rejected", _("Rejected")

    class Source(models.TextChoices):
        OFFICER = "officer", _("Proposed by an officer")
        TESTING = "testing", _("Positive test result")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    commune_path = models.CharField(max_length=64, editable=False)
    onset_date = models.DateField(_("onset date"))
    window_minutes = models.PositiveIntegerField(_("time window (minutes)"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    source_reference = models.CharField(max_length=64, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    traced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("confirmed case")
        verbose_name_plural = _("confirmed cases")
        constraints = [
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True)
                | Q(proposed_by__isnull=True)
                | ~Q(decided_by=F("proposed_by")),
                name="case_two_officers",
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(decided_by__isnull=False),
                name="case_decided_by_officer",
            ),
            models.UniqueConstraint(
                fields=["person"], condition=Q(status="pending"), name="case_one_pending"
            ),
            models.UniqueConstraint(
                fields=["person", "onset_date"],
                condition=Q(status="confirmed"),
                name="case_confirmed_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"case {self.uuid}"

    @property
    def person_uuid(self) -> UUID:
        return self.person.uuid


class ExposureCandidate(models.Model):
    """A person checked in at a venue near a case's visit (an F1 candidate)."""

    class Status(models.TextChoices):
        CANDIDATE = "candidate", _("To review")
        NOTIFIED = "notified", _("Notified")
        DISMISSED = "dismissed", _("Dismissed")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="candidates")
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    commune_path = models.CharField(max_length=64, editable=False)
    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="+")
    first_overlap_at = models.DateTimeField(_("at the venue"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.CANDIDATE
    )
    notified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["first_overlap_at", "id"]
        verbose_name = _("exposure candidate")
        verbose_name_plural = _("exposure candidates")
        constraints = [
            models.UniqueConstraint(fields=["case", "person"], name="candidate_once_per_case")
        ]
        indexes = [models.Index(fields=["commune_path", "case"], name="candidate_scope")]

    def __str__(self) -> str:
        return f"candidate {self.uuid}"

    @property
    def person_uuid(self) -> UUID:
        return self.person.uuid


class DailyTally(models.Model):
    """Daily counts of days whose rows retention has deleted (the statistics survive)."""

    day = models.DateField()
    commune = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    metric = models.CharField(max_length=30)
    value = models.PositiveIntegerField()

    class Meta:
        ordering = ["day", "metric", "commune_id"]
        constraints = [
            models.UniqueConstraint(fields=["day", "commune", "metric"], name="tally_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.metric} {self.value}"


class TalliedDay(models.Model):
    """A day whose counts are in DailyTally (its rows may then be deleted)."""

    day = models.DateField()
    metric = models.CharField(max_length=30)

    class Meta:
        ordering = ["day", "metric"]
        constraints = [models.UniqueConstraint(fields=["day", "metric"], name="tallied_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.metric}"


class PersonalCard(models.Model):
    """The version of a person's printed QR card: printing a new card revokes the old."""

    person = models.OneToOneField("people.Person", on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField(default=1)
    printed_at = models.DateTimeField()

    class Meta:
        ordering = ["person_id"]

    def __str__(self) -> str:
        return f"card {self.person_id} v{self.version}"
