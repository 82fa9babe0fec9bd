"""The information portal: published statistics, official entries, announcements, tickets.

Statistics are aggregates only: `StatCell` holds one figure per day × area × metric, computed
by the rollups from the capabilities' daily counts. The true value stays inside the database;
pages and open data read `shown`, which is empty where the cell is suppressed.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class StatCell(models.Model):
    """One published figure: a metric's count for one area on one day.

    Rows exist only for non-zero values (an absent row is zero, which is never suppressed).
    """

    class Suppression(models.TextChoices):
        NONE = "", _("Published")
        SMALL = "small", _("Small count")
        COMPLEMENTARY = "complementary", _("Withheld to protect a small count")

    day = models.DateField(_("day"))
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area")
    )
    level = models.PositiveSmallIntegerField(_("level"))
    metric = models.CharField(_("metric"), max_length=40)
    value = models.BigIntegerField(_("value"))
    shown = models.BigIntegerField(_("published value"), null=True, blank=True)
    suppression = models.CharField(
        _("suppression"), max_length=15, choices=Suppression.choices, blank=True, default=""
    )
    official = models.BooleanField(_("official entry"), default=False)

    class Meta:
        ordering = ["day", "area_id", "metric"]
        verbose_name = _("statistics cell")
        verbose_name_plural = _("statistics cells")
        constraints = [
            models.UniqueConstraint(fields=["area", "metric", "day"], name="stat_cell_unique"),
            models.CheckConstraint(condition=Q(value__gte=0), name="stat_cell_value_gte_0"),
            models.CheckConstraint(
                condition=(Q(suppression="") & Q(shown__isnull=False))
                | (~Q(suppression="") & Q(shown__isnull=True)),
                name="stat_cell_shown_matches_suppression",
            ),
        ]
        indexes = [models.Index(fields=["level", "day"], name="stat_cell_level_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.area_id} {self.metric}"


class AreaPopulation(models.Model):
    """People registered in an area (the coverage denominator), counted by the rollup."""

    area = models.OneToOneField(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area")
    )
    level = models.PositiveSmallIntegerField(_("level"))
    population = models.BigIntegerField(_("population"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["area_id"]
        verbose_name = _("area population")
        verbose_name_plural = _("area populations")
        constraints = [
            models.CheckConstraint(condition=Q(population__gte=0), name="population_gte_0")
        ]

    def __str__(self) -> str:
        return f"{self.area_id}: {self.population}"


class RollupRun(models.Model):
    """One run of the statistics rollup: when, over which days, how long."""

    class Kind(models.TextChoices):
        HOURLY = "hourly", _("Hourly (recent days)")
        DAILY = "daily", _("Daily (all days)")
        MANUAL = "manual", _("Manual")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    since = models.DateField()
    until = models.DateField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    cells = models.PositiveIntegerField(default=0)
    sources = models.JSONField(default=list)

    class Meta:
        ordering = ["-finished_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.since}–{self.until}"


class OfficialCaseCount(models.Model):
    """The official number of new cases in an area on a day, entered by a health officer
    from a report outside the platform (e.g. the Ministry's daily bulletin)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    day = models.DateField(_("day"))
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area")
    )
    cases = models.PositiveIntegerField(_("new cases"))
    source = models.CharField(_("source"), max_length=300)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-day", "area_id"]
        verbose_name = _("official case count")
        verbose_name_plural = _("official case counts")
        constraints = [
            models.UniqueConstraint(fields=["area", "day"], name="official_count_area_day_unique"),
            models.CheckConstraint(condition=~Q(source=""), name="official_count_has_source"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.area_id}: {self.cases}"


class Category(models.Model):
    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    name_vi = models.CharField(_("name (Vietnamese)"), max_length=80)
    name_en = models.CharField(_("name (English)"), max_length=80)
    order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["order", "slug"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        from django.utils.translation import get_language

        return self.name_for((get_language() or "vi")[:2])

    def name_for(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_vi


class PortalImage(models.Model):
    """An image an editor uploaded for announcements (served by the portal)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    file = models.ImageField(_("image"), upload_to="portal/images/")
    content_type = models.CharField(max_length=40)
    alt = models.CharField(_("description for screen readers"), max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("image")
        verbose_name_plural = _("images")

    def __str__(self) -> str:
        return self.alt

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("portal:image", args=[self.uuid])


class Announcement(models.Model):
    """News for the public. Visible once published and its publication time has come."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        PUBLISHED = "published", _("Published")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    slug = models.SlugField(max_length=120, unique=True)
    language = models.CharField(
        _("language"), max_length=2, choices=[("vi", "Tiếng Việt"), ("en", "English")]
    )
    title = models.CharField(_("title"), max_length=200)
    summary = models.CharField(_("summary"), max_length=400, blank=True)
    body = models.TextField(_("text"))  # sanitised HTML (covidhub.portal.sanitise)
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        related_name="announcements",
        verbose_name=_("category"),
    )
    image = models.ForeignKey(
        PortalImage,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("illustration"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    publish_at = models.DateTimeField(_("publish at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-published_at", "-created_at"]
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="scheduled") | Q(publish_at__isnull=False),
                name="announcement_scheduled_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="announcement_published_has_time",
            ),
        ]
        indexes = [models.Index(fields=["status", "language", "-published_at"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("portal:announcement", args=[self.slug])


class SupportTicket(models.Model):
    """A question or problem sent through the contact form; staff answer and close it."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ANSWERED = "answered", _("Answered")
        CLOSED = "closed", _("Closed")

    class Topic(models.TextChoices):
        ACCOUNT = "account", _("Signing in and accounts")
        DECLARATION = "declaration", _("Health declarations")
        TESTING = "testing", _("Tests and results")
        VACCINATION = "vaccination", _("Vaccination")
        CERTIFICATE = "certificate", _("Certificates")
        FIGURES = "figures", _("Statistics and open data")
        OTHER = "other", _("Something else")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(_("reference"), max_length=12, unique=True)
    name = models.CharField(_("your name"), max_length=120)
    phone = models.CharField(_("phone number"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    topic = models.CharField(_("topic"), max_length=20, choices=Topic.choices)
    message = models.TextField(_("message"))
    language = models.CharField(max_length=5, default="vi")
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    client_address = models.GenericIPAddressField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("support ticket")
        verbose_name_plural = _("support tickets")
        constraints = [
            models.CheckConstraint(
                condition=~Q(phone="") | ~Q(email=""), name="ticket_has_contact"
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(closed_at__isnull=False),
                name="ticket_closed_has_time",
            ),
        ]
        indexes = [models.Index(fields=["status", "-created_at"])]

    def __str__(self) -> str:
        return self.reference


class TicketReply(models.Model):
    ticket = models.ForeignKey(SupportTicket, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("answer"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("answer")
        verbose_name_plural = _("answers")

    def __str__(self) -> str:
        return f"{self.ticket_id} #{self.pk}"
