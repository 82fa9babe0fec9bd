"""Home care of confirmed cases (F0) and quarantine of their contacts (F1).

An order follows one person from its opening (a positive result, an officer's decision, a
contact confirmed by the commune) to its release; the daily self-checks, the alerts they
raise, the medicine kits and the visits hang on it. The rules of the day (durations, release,
eligibility, warning signs) are versions of a care protocol, because they changed several
times in 2021–22.
"""

from __future__ import annotations

import uuid
from uuid import UUID

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class CareProtocol(models.Model):
    """One version of a province's rules; exactly one per province is in force (a partial
    unique constraint). A deployment serving several provinces keeps each one's versions
    apart: a province's officers change their own rules, never a neighbour's."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("In force")
        RETIRED = "retired", _("Retired")

    # The province's official code (the first segment of its areas' paths).
    province_code = models.CharField(_("province"), max_length=10)
    version = models.PositiveIntegerField(_("version"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    # The parameters, cleaned by `covidhub.homecare.protocol.protocol_rules_clean`.
    rules = models.JSONField(_("rules"), default=dict)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    activated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-version"]
        verbose_name = _("care protocol")
        verbose_name_plural = _("care protocols")
        constraints = [
            models.UniqueConstraint(
                fields=["province_code", "version"], name="homecare_protocol_version_once"
            ),
            models.UniqueConstraint(
                fields=["province_code"],
                condition=Q(state="active"),
                name="homecare_one_protocol_active",
            ),
        ]

    def __str__(self) -> str:
        return f"protocol {self.province_code} v{self.version}"


class StationDuty(models.Model):
    """A member of a commune health station's on-duty list: alerts go to them, in the app
    and by SMS. A change is a new row: the row in force is ended (`active` off, with who
    and when), never edited, so the list of any past day can be read back."""

    commune = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    commune_path = models.CharField(max_length=64, db_index=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    phone = models.CharField(_("phone number"), max_length=20, blank=True)
    active = models.BooleanField(_("on duty"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["commune_id", "id"]
        verbose_name = _("on-duty officer")
        verbose_name_plural = _("on-duty list")
        constraints = [
            models.UniqueConstraint(
                fields=["commune", "user"], condition=Q(active=True), name="homecare_duty_once"
            ),
            models.CheckConstraint(
                condition=Q(active=True) | Q(ended_at__isnull=False), name="homecare_duty_ended"
            ),
        ]

    def __str__(self) -> str:
        return f"duty {self.commune_id} {self.user_id}"


class CareOrder(models.Model):
    """An F0's home care or an F1's quarantine, followed by the commune's health station."""

    class Kind(models.TextChoices):
        HOME_CARE = "f0_home", _("Home care of a confirmed case (F0)")
        QUARANTINE = "f1_quarantine", _("Quarantine of a close contact (F1)")

    class Place(models.TextChoices):
        HOME = "home", _("At home")
        FACILITY = "facility", _("At a quarantine facility")

    class Status(models.TextChoices):
        OPEN = "open", _("Under care")
        REFERRED = "referred", _("Referred to a treatment facility")
        RELEASED = "released", _("Released")
        SUPERSEDED = "superseded", _("Replaced by a later order")

    class Source(models.TextChoices):
        TESTING = "testing", _("Positive test result")
        OFFICER = "officer", _("Officer's decision")
        CONTACT = "contact", _("Contact confirmed by the commune")

    class Risk(models.IntegerChoices):
        LOW = 1, _("Low")
        MODERATE = 2, _("Moderate")
        HIGH = 3, _("High")

    class ReleaseReason(models.TextChoices):
        DAYS = "days", _("The days of the protocol have passed")
        NEGATIVE_TEST = "negative_test", _("Negative test")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    place = models.CharField(_("place"), max_length=10, choices=Place.choices, default=Place.HOME)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    source_reference = models.CharField(max_length=64, blank=True)
    # The F0 order whose contact this is (the contact graph: F0 → F1 → F2).
    source_order = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="contact_orders"
    )
    venue_name = models.CharField(_("where the contact happened"), max_length=200, blank=True)
    contact_at = models.DateTimeField(_("contact at"), null=True, blank=True)
    protocol = models.ForeignKey(CareProtocol, on_delete=models.PROTECT, related_name="+")
    # The responsible station is the health station of the person's commune.
    commune = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    commune_path = models.CharField(max_length=64, editable=False)
    start_date = models.DateField(_("start"))
    onset_date = models.DateField(_("first day of illness"), null=True, blank=True)
    planned_end = models.DateField(_("planned end"))
    risk = models.PositiveSmallIntegerField(_("risk"), choices=Risk.choices, default=Risk.LOW)
    # Why the person is or is not eligible for home care: codes of `protocol.ELIGIBILITY`.
    eligibility = models.JSONField(default=list, blank=True)
    underlying_conditions = models.BooleanField(_("underlying conditions"), default=False)
    pregnant = models.BooleanField(_("pregnant"), default=False)
    caretaker_name = models.CharField(_("caretaker"), max_length=150, blank=True)
    caretaker_phone = models.CharField(_("caretaker's phone"), max_length=20, blank=True)
    referral_facility = models.CharField(_("treatment facility"), max_length=200, blank=True)
    referred_at = models.DateTimeField(null=True, blank=True)
    last_check_at = models.DateTimeField(null=True, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    release_reason = models.CharField(
        _("reason for release"), max_length=16, choices=ReleaseReason.choices, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start_date", "-id"]
        verbose_name = _("care order")
        verbose_name_plural = _("care orders")
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=Q(status="open"), name="homecare_one_open_order"
            ),
            models.CheckConstraint(
                condition=~Q(status="released")
                | (Q(released_at__isnull=False) & ~Q(release_reason="")),
                name="homecare_release_recorded",
            ),
            models.CheckConstraint(
                condition=Q(planned_end__gte=models.F("start_date")),
                name="homecare_end_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["commune_path", "status"], name="homecare_order_scope"),
            models.Index(fields=["status", "start_date"], name="homecare_order_day"),
            # The station's list reads a commune's open orders in the order of the index
            # `homecare_order_silence` (migration 0003: the longest silent first, NULLs
            # first, which SQLite writes without NULLS FIRST): `selectors.station_list`.
        ]

    def __str__(self) -> str:
        return f"order {self.uuid}"

    @property
    def person_uuid(self) -> UUID:
        return self.person.uuid

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class Symptom(models.TextChoices):
    FEVER = "fever", _("Fever")
    COUGH = "cough", _("Cough")
    SORE_THROAT = "sore_throat", _("Sore throat")
    RUNNY_NOSE = "runny_nose", _("Runny or stuffy nose")
    LOSS_OF_SMELL = "smell", _("Loss of taste or smell")
    FATIGUE = "fatigue", _("Tiredness, aches")
    DIARRHOEA = "diarrhoea", _("Diarrhoea")
    BREATHLESS = "breathless", _("Shortness of breath")
    CHEST_PAIN = "chest_pain", _("Chest pain or tightness")
    CONFUSION = "confusion", _("Confusion, drowsiness")
    CANNOT_DRINK = "cannot_drink", _("Cannot eat or drink")
    BLUE_LIPS = "blue_lips", _("Blue lips or fingertips")


class SelfCheck(models.Model):
    """One check-in of the person's vital signs, by them or their family."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    order = models.ForeignKey(CareOrder, on_delete=models.CASCADE, related_name="checks")
    measured_at = models.DateTimeField(_("measured at"))
    temperature = models.DecimalField(
        _("temperature (°C)"), max_digits=3, decimal_places=1, null=True, blank=True
    )
    spo2 = models.PositiveSmallIntegerField(_("SpO2 (%)"), null=True, blank=True)
    pulse = models.PositiveSmallIntegerField(_("pulse (beats a minute)"), null=True, blank=True)
    breathing_rate = models.PositiveSmallIntegerField(
        _("breathing (breaths a minute)"), null=True, blank=True
    )
    symptoms = models.JSONField(_("symptoms"), default=list, blank=True)
    # The key the phone made when the check was measured: a replay (queued offline, sent
    # twice) records nothing twice.
    client_key = models.CharField(max_length=64)
    warning_signs = models.JSONField(default=list, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-measured_at", "-id"]
        verbose_name = _("self-check")
        verbose_name_plural = _("self-checks")
        constraints = [
            models.UniqueConstraint(fields=["order", "client_key"], name="homecare_check_once"),
            models.CheckConstraint(
                condition=Q(spo2__isnull=True) | Q(spo2__gte=50, spo2__lte=100),
                name="homecare_spo2_range",
            ),
        ]
        indexes = [models.Index(fields=["order", "measured_at"], name="homecare_check_order")]

    def __str__(self) -> str:
        return f"check {self.uuid}"

    @property
    def has_warning(self) -> bool:
        return bool(self.warning_signs)


class CareAlert(models.Model):
    """Warning signs that the station must act on: an owner, a deadline, one closer."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    class Outcome(models.TextChoices):
        CALLED = "called", _("Called the person")
        VISITED = "visited", _("Visited the person")
        REFERRED = "referred", _("Referred to a hospital")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    order = models.ForeignKey(CareOrder, on_delete=models.CASCADE, related_name="alerts")
    self_check = models.OneToOneField(
        SelfCheck, on_delete=models.CASCADE, null=True, related_name="alert"
    )
    commune_path = models.CharField(max_length=64, editable=False)
    signs = models.JSONField(_("warning signs"), default=list)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.OPEN
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    due_at = models.DateTimeField(_("to be handled by"))
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open")
                | (Q(closed_by__isnull=False) & Q(closed_at__isnull=False) & ~Q(outcome="")),
                name="homecare_alert_closed_by_one",
            )
        ]
        indexes = [
            models.Index(fields=["commune_path", "status"], name="homecare_alert_scope"),
            # The station's open alerts, the soonest deadline first.
            models.Index(
                fields=["commune_path", "due_at", "id"],
                condition=Q(status="open"),
                name="homecare_alert_due",
            ),
        ]

    def __str__(self) -> str:
        return f"alert {self.uuid}"

    @property
    def person_uuid(self) -> UUID:
        return self.order.person.uuid


class KitHandout(models.Model):
    """Medicine packages of the ministry handed to a person under care."""

    class Kind(models.TextChoices):
        A = "a", _("Package A (fever, vitamins)")
        B = "b", _("Package B (corticosteroid, anticoagulant; doctor's order)")
        C = "c", _("Package C (antiviral)")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    order = models.ForeignKey(CareOrder, on_delete=models.CASCADE, related_name="kits")
    kind = models.CharField(_("package"), max_length=2, choices=Kind.choices)
    count = models.PositiveSmallIntegerField(_("number of packages"), default=1)
    handed_at = models.DateTimeField(_("handed out at"))
    handed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-handed_at", "-id"]
        verbose_name = _("medicine kit")
        verbose_name_plural = _("medicine kits")
        constraints = [models.CheckConstraint(condition=Q(count__gte=1), name="homecare_kit_count")]

    def __str__(self) -> str:
        return f"kit {self.kind}×{self.count}"


class CareVisit(models.Model):
    """A call or visit of the station to a person under care."""

    class Kind(models.TextChoices):
        CALL = "call", _("Phone call")
        VISIT = "visit", _("Home visit")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    order = models.ForeignKey(CareOrder, on_delete=models.CASCADE, related_name="visits")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    at = models.DateTimeField(_("at"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("call or visit")
        verbose_name_plural = _("calls and visits")

    def __str__(self) -> str:
        return f"visit {self.uuid}"
