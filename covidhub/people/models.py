from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from covidhub.core.dates import PartialDate
from covidhub.people.identity import IdType, Sex


class Person(models.Model):
    """A person whose health records the platform keeps.

    An account manages its own person ("self") and family members who have no phone of
    their own. The UUID is the only identifier that leaves the system.
    """

    class Relationship(models.TextChoices):
        SELF = "self", _("Myself")
        CHILD = "child", _("Child")
        PARENT = "parent", _("Parent")
        SPOUSE = "spouse", _("Spouse")
        GRANDPARENT = "grandparent", _("Grandparent")
        SIBLING = "sibling", _("Brother or sister")
        OTHER = "other", _("Other relative")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    full_name = models.CharField(_("full name"), max_length=150)
    search_name = models.CharField(max_length=150, db_index=True, editable=False)
    icao_name = models.CharField(_("name as on travel documents"), max_length=150, editable=False)
    birth_year = models.PositiveSmallIntegerField(_("year of birth"))
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    nationality = models.CharField(_("nationality"), max_length=2, default="VN")
    id_type = models.CharField(
        _("identity document"), max_length=10, choices=IdType.choices, blank=True
    )
    id_number = models.CharField(_("identity number"), max_length=20, blank=True)
    phone = models.CharField(_("phone number"), max_length=20, blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True)
    address_line = models.CharField(_("house number, street, hamlet"), max_length=200, blank=True)
    commune = models.ForeignKey(
        "areas.Area",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("commune / ward"),
    )
    commune_path = models.CharField(max_length=64, db_index=True, editable=False)
    managed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="people",
        verbose_name=_("managed by"),
    )
    relationship = models.CharField(
        _("relationship"), max_length=15, choices=Relationship.choices, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["search_name", "id"]
        verbose_name = _("person")
        verbose_name_plural = _("people")
        constraints = [
            models.UniqueConstraint(
                fields=["id_type", "id_number"],
                condition=~Q(id_number=""),
                name="person_identity_unique",
            ),
            models.UniqueConstraint(
                fields=["managed_by"],
                condition=Q(relationship="self"),
                name="person_one_self_per_account",
            ),
            models.CheckConstraint(
                condition=Q(id_number="") | ~Q(id_type=""), name="person_id_has_type"
            ),
        ]
        indexes = [models.Index(fields=["commune_path", "search_name"])]

    def __str__(self) -> str:
        return self.full_name

    @property
    def birth(self) -> PartialDate:
        if self.birth_date:
            return PartialDate(self.birth_date.year, self.birth_date.month, self.birth_date.day)
        return PartialDate(self.birth_year)

    def age_on(self, day: datetime.date | None = None) -> int:
        day = day or timezone.localdate()
        if self.birth_date is None:
            return day.year - self.birth_year
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - int(before_birthday)

    @property
    def id_number_masked(self) -> str:
        if not self.id_number:
            return ""
        return "•" * (len(self.id_number) - 4) + self.id_number[-4:]


class CorrectionRequest(models.Model):
    """A change to a locked identity, or a claim to an identity number someone else holds,
    waiting for an officer of the person's commune.

    Four eyes: whoever asked never decides (a database constraint as well as a check), so
    an officer's own correction needs a second officer. Approval applies the proposed
    values and, through `person_identity_changed`, re-issues the person's certificates.
    """

    class Kind(models.TextChoices):
        CORRECTION = "correction", _("Identity correction")
        CLAIM = "claim", _("Identity number to verify")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the commune")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="correction_requests")
    # Identity fields as cleaned (`PersonInput`): full_name, birth (ISO, maybe partial),
    # sex, id_type, id_number. `previous` is what the record said when it was asked.
    proposed = models.JSONField(_("proposed values"))
    previous = models.JSONField(_("values when requested"))
    reason = models.CharField(_("reason"), max_length=500)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("evidence or reason"), max_length=500, blank=True)
    evidence_reference = models.CharField(_("evidence reference"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("identity correction request")
        verbose_name_plural = _("identity correction requests")
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status="pending"),
                name="people_one_pending_correction",
            ),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                name="people_correction_four_eyes",
            ),
            models.CheckConstraint(
                condition=Q(status="pending")
                | (Q(decided_by__isnull=False) & Q(decided_at__isnull=False)),
                name="people_correction_decided_has_decider",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.uuid} ({self.status})"

    @property
    def proposed_id_masked(self) -> str:
        number = str(self.proposed.get("id_number") or "")
        return "•" * (len(number) - 4) + number[-4:] if number else ""


class IdentityAttempt(models.Model):
    """One identity number entered by a citizen account: the per-account limit counts
    these rows, so it holds without Redis and survives restarts."""

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("identity number attempt")
        verbose_name_plural = _("identity number attempts")
        indexes = [models.Index(fields=["account", "at"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.at:%Y-%m-%d %H:%M}"
