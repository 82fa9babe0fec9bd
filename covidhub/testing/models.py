"""Testing: sites, labs, rounds, slots, appointments, sampling, tubes, results.

The path of a sample: Appointment (or walk-in) → Sample (one person in one Tube) → the
Tube is handed over in a Shipment → the Lab records a TubeResult → one Result per Sample
(the person's outcome). Invariants the database holds: a slot never overbooked, a tube
never over its pool size, one TubeResult per tube, one Result per sample.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class TestType(models.TextChoices):
    PCR = "pcr", _("RT-PCR")
    RAPID = "rapid", _("Rapid antigen")


class Site(models.Model):
    """A sampling site (a commune health station, a mobile team's post)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=150)
    address = models.CharField(_("address"), max_length=200, blank=True)
    commune = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("commune / ward")
    )
    commune_path = models.CharField(max_length=64, db_index=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("sampling site")
        verbose_name_plural = _("sampling sites")

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        self.commune_path = self.commune.path
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class Lab(models.Model):
    """A laboratory that receives tubes and records their results."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=150)
    code = models.CharField(_("short code"), max_length=10, unique=True)
    commune = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("commune / ward")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("laboratory")
        verbose_name_plural = _("laboratories")

    def __str__(self) -> str:
        return self.name


class TestingRound(models.Model):
    """A mass-testing round for an area: sites, dates, test type and pool size."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=150)
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area")
    )
    area_path = models.CharField(max_length=64, db_index=True, editable=False)
    streets = models.TextField(_("streets or hamlets"), blank=True)
    sites = models.ManyToManyField(Site, related_name="rounds", verbose_name=_("sites"))
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"))
    test_type = models.CharField(
        _("test type"), max_length=10, choices=TestType.choices, default=TestType.PCR
    )
    pool_size = models.PositiveSmallIntegerField(_("people per tube"), default=5)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_on", "id"]
        verbose_name = _("testing round")
        verbose_name_plural = _("testing rounds")
        constraints = [
            models.CheckConstraint(
                condition=Q(pool_size__gte=1, pool_size__lte=10), name="round_pool_size_range"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="round_dates_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Slot(models.Model):
    """A time slot at a site with a capacity; `booked` never exceeds it."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="slots")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    test_type = models.CharField(
        _("test type"), max_length=10, choices=TestType.choices, default=TestType.PCR
    )
    capacity = models.PositiveIntegerField(_("capacity"))
    booked = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("time slot")
        verbose_name_plural = _("time slots")
        constraints = [
            models.CheckConstraint(
                condition=Q(booked__lte=F("capacity")), name="slot_never_overbooked"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="slot_times_ordered"
            ),
        ]
        indexes = [models.Index(fields=["site", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.site} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def free(self) -> int:
        return self.capacity - self.booked


class Appointment(models.Model):
    """A person's registration: at a slot, in a round, or a retest; shown as a QR code."""

    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        CANCELLED = "cancelled", _("Cancelled")
        COLLECTED = "collected", pgettext_lazy("appointment status", "Sample taken")

    class Kind(models.TextChoices):
        SLOT = "slot", _("At a site and time")
        ROUND = "round", _("Mass-testing round")
        RETEST = "retest", _("Retest")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(_("appointment code"), max_length=12, unique=True)
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="test_appointments"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    slot = models.ForeignKey(
        Slot, on_delete=models.PROTECT, null=True, blank=True, related_name="appointments"
    )
    testing_round = models.ForeignKey(
        TestingRound,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
    )
    retest_of = models.OneToOneField(
        "Result", on_delete=models.PROTECT, null=True, blank=True, related_name="retest"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.BOOKED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("test appointment")
        verbose_name_plural = _("test appointments")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="slot", slot__isnull=False, testing_round__isnull=True)
                    | Q(kind="round", slot__isnull=True, testing_round__isnull=False)
                    | Q(kind="retest", retest_of__isnull=False)
                ),
                name="appointment_kind_matches_target",
            ),
            models.UniqueConstraint(
                fields=["person", "testing_round"],
                condition=Q(status="booked", testing_round__isnull=False),
                name="appointment_one_booked_per_round",
            ),
            models.UniqueConstraint(
                fields=["person", "slot"],
                condition=Q(status="booked", slot__isnull=False),
                name="appointment_one_booked_per_slot",
            ),
        ]
        indexes = [models.Index(fields=["person", "-created_at"])]

    def __str__(self) -> str:
        return self.code

    @property
    def qr_text(self) -> str:
        return f"CVHT:{self.code}"


class SamplingSession(models.Model):
    """A sampler's working session at a site."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="sessions")
    testing_round = models.ForeignKey(
        TestingRound, on_delete=models.PROTECT, null=True, blank=True, related_name="sessions"
    )
    test_type = models.CharField(max_length=10, choices=TestType.choices, default=TestType.PCR)
    pool_size = models.PositiveSmallIntegerField(default=1)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    # A person scanned before their tube (single tubes: person, then tube).
    pending_person = models.ForeignKey(
        "people.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    pending_appointment = models.ForeignKey(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("sampling session")
        verbose_name_plural = _("sampling sessions")
        constraints = [
            models.CheckConstraint(
                condition=Q(pool_size__gte=1, pool_size__lte=10), name="session_pool_size_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site} {self.opened_at:%Y-%m-%d}"


class Shipment(models.Model):
    """Tubes of a session handed to a laboratory; received by scanning."""

    class Status(models.TextChoices):
        SENT = "sent", _("On the way")
        RECEIVED = "received", _("Received")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(SamplingSession, on_delete=models.PROTECT, related_name="shipments")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="shipments")
    lab = models.ForeignKey(Lab, on_delete=models.PROTECT, related_name="shipments")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENT)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    sent_at = models.DateTimeField(auto_now_add=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    received_at = models.DateTimeField(null=True, blank=True)
    missing_barcodes = models.JSONField(default=list, blank=True)
    unexpected_barcodes = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")

    def __str__(self) -> str:
        return str(self.uuid)


class Tube(models.Model):
    """One tube (or rapid-test cassette): one person, or a pool of up to `capacity`."""

    class Status(models.TextChoices):
        OPEN = "open", _("Taking samples")
        CLOSED = "closed", _("Closed")
        SHIPPED = "shipped", _("Handed over")
        RECEIVED = "received", _("Received by the laboratory")
        RESULTED = "resulted", _("Result recorded")
        MISSING = "missing", _("Missing at the laboratory")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    barcode = models.CharField(_("tube barcode"), max_length=32, unique=True)
    session = models.ForeignKey(SamplingSession, on_delete=models.PROTECT, related_name="tubes")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="tubes")
    test_type = models.CharField(max_length=10, choices=TestType.choices)
    capacity = models.PositiveSmallIntegerField(default=1)
    member_count = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    shipment = models.ForeignKey(
        Shipment, on_delete=models.PROTECT, null=True, blank=True, related_name="tubes"
    )
    lab = models.ForeignKey(
        Lab, on_delete=models.PROTECT, null=True, blank=True, related_name="tubes"
    )
    collected_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    resulted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-collected_at", "-id"]
        verbose_name = _("tube")
        verbose_name_plural = _("tubes")
        constraints = [
            models.CheckConstraint(
                condition=Q(member_count__lte=F("capacity")), name="tube_never_over_pool_size"
            ),
            models.CheckConstraint(
                condition=Q(capacity__gte=1, capacity__lte=10), name="tube_capacity_range"
            ),
        ]
        indexes = [
            models.Index(fields=["lab", "status"]),
            models.Index(fields=["site", "collected_at"]),
        ]

    def __str__(self) -> str:
        return self.barcode

    @property
    def is_pooled(self) -> bool:
        return self.capacity > 1


class Sample(models.Model):
    """One person's swab in one tube. A correction removes it (with a reason)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("In the tube")
        REMOVED = "removed", _("Removed by a correction")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tube = models.ForeignKey(Tube, on_delete=models.PROTECT, related_name="samples")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    appointment = models.ForeignKey(
        Appointment, on_delete=models.PROTECT, null=True, blank=True, related_name="samples"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    collected_at = models.DateTimeField(auto_now_add=True)
    removed_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["collected_at", "id"]
        verbose_name = _("sample")
        verbose_name_plural = _("samples")
        constraints = [
            models.UniqueConstraint(
                fields=["tube", "person"],
                condition=Q(status="active"),
                name="sample_person_once_per_tube",
            ),
            models.UniqueConstraint(
                fields=["appointment"],
                condition=Q(status="active", appointment__isnull=False),
                name="sample_one_per_appointment",
            ),
        ]
        indexes = [models.Index(fields=["tube", "status"])]

    def __str__(self) -> str:
        return str(self.uuid)


class ImportBatch(models.Model):
    """An uploaded instrument export: validated first, then committed or discarded."""

    class Status(models.TextChoices):
        VALIDATED = "validated", _("Checked, waiting for a decision")
        COMMITTED = "committed", _("Imported")
        DISCARDED = "discarded", _("Nothing imported")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    lab = models.ForeignKey(Lab, on_delete=models.PROTECT, related_name="imports")
    file_name = models.CharField(max_length=200)
    file_sha256 = models.CharField(max_length=64, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.VALIDATED)
    rows_total = models.PositiveIntegerField(default=0)
    good_rows = models.JSONField(default=list)  # [[row number, barcode, value, ct], …]
    bad_rows = models.JSONField(default=list)  # [[row number, barcode, reason code], …]
    imported_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("result import")
        verbose_name_plural = _("result imports")

    def __str__(self) -> str:
        return self.file_name


class TubeResult(models.Model):
    """What the laboratory (or, for rapid tests, the sampler) found in one tube."""

    class Value(models.TextChoices):
        NEGATIVE = "negative", _("Negative")
        POSITIVE = "positive", _("Positive")
        INVALID = "invalid", _("Invalid")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tube = models.OneToOneField(Tube, on_delete=models.PROTECT, related_name="result")
    lab = models.ForeignKey(
        Lab, on_delete=models.PROTECT, null=True, blank=True, related_name="results"
    )
    value = models.CharField(max_length=10, choices=Value.choices)
    ct_value = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()
    import_batch = models.ForeignKey(
        ImportBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="results"
    )
    version = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name = _("tube result")
        verbose_name_plural = _("tube results")
        constraints = [
            models.CheckConstraint(
                condition=Q(ct_value__isnull=True) | Q(ct_value__gte=0, ct_value__lte=50),
                name="tube_result_ct_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tube_id}: {self.value}"


class Result(models.Model):
    """A person's outcome from one sample: released, notified, possibly amended."""

    class Outcome(models.TextChoices):
        NEGATIVE = "negative", _("Negative")
        POSITIVE = "positive", _("Positive")
        POOL_POSITIVE = "pool_positive", _("Pool positive — individual retest required")
        INVALID = "invalid", _("Invalid — a new sample is required")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sample = models.OneToOneField(Sample, on_delete=models.PROTECT, related_name="result")
    # The tube's result and the sample's person, copied here (see `site` below): no
    # database constraint of their own, since the originals (tube result → tube, sample →
    # tube and person) have theirs; checked at each import's commit, 400,000 of them took
    # a third of a 200,000-result import.
    tube_result = models.ForeignKey(
        TubeResult, on_delete=models.PROTECT, related_name="outcomes", db_constraint=False
    )
    # Indexed by (person, -released_at) below, which also serves lookups by person alone.
    person = models.ForeignKey(
        "people.Person",
        on_delete=models.PROTECT,
        related_name="test_results",
        db_index=False,
        db_constraint=False,
    )
    outcome = models.CharField(max_length=15, choices=Outcome.choices)
    test_type = models.CharField(max_length=10, choices=TestType.choices)
    pooled = models.BooleanField(default=False)
    # Copied from the tube so that reading a household's results joins two tables, not six.
    # The copies (site, commune) carry no database constraint of their own: the originals
    # (tube.site, person.commune) do, the ORM still protects them from deletion, and their
    # checks were half of the PostgreSQL work of a 200,000-result import.
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    collected_at = models.DateTimeField()
    released_at = models.DateTimeField(db_index=True)
    # Where the person lived at release, for the daily counts (read by release day: the
    # index on released_at serves them; no index here keeps the 200,000-row import lean).
    commune = models.ForeignKey(
        "areas.Area",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    commune_path = models.CharField(max_length=64)
    version = models.PositiveSmallIntegerField(default=1)
    amended_at = models.DateTimeField(null=True, blank=True)
    notified_version = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-released_at", "-id"]
        verbose_name = _("test result")
        verbose_name_plural = _("test results")
        indexes = [
            models.Index(fields=["person", "-released_at"]),
            models.Index(
                fields=["released_at"],
                condition=Q(notified_version__lt=F("version")),
                name="result_pending_notice",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.uuid}: {self.outcome}"

    @property
    def needs_retest(self) -> bool:
        return self.outcome in (self.Outcome.POOL_POSITIVE, self.Outcome.INVALID)


class Amendment(models.Model):
    """A correction of a released tube result: asked by one technician, approved by another."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tube_result = models.ForeignKey(TubeResult, on_delete=models.PROTECT, related_name="amendments")
    old_value = models.CharField(max_length=10, choices=TubeResult.Value.choices)
    new_value = models.CharField(max_length=10, choices=TubeResult.Value.choices)
    new_ct_value = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("result amendment")
        verbose_name_plural = _("result amendments")
        constraints = [
            models.UniqueConstraint(
                fields=["tube_result"],
                condition=Q(status="pending"),
                name="amendment_one_pending_per_result",
            ),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                name="amendment_second_person_decides",
            ),
        ]

    def __str__(self) -> str:
        return str(self.uuid)


class CaseReport(models.Model):
    """A positive individual result, reported to the person's commune health officers."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    result = models.OneToOneField(Result, on_delete=models.PROTECT, related_name="case_report")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    commune = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    commune_path = models.CharField(max_length=64, db_index=True)
    reported_at = models.DateTimeField(auto_now_add=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-reported_at", "-id"]
        verbose_name = _("positive case report")
        verbose_name_plural = _("positive case reports")

    def __str__(self) -> str:
        return str(self.uuid)
