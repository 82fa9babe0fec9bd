from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from covidhub.core.sealing import secret_derive, secret_digest

_OPT_OUT = "covidhub.adoption.opt-out"


def _opt_out_token() -> str:
    """The random token of migration 0001 (no longer a field); kept for that migration."""
    return secrets.token_urlsafe(12)


def opt_out_token_for(member_uuid: UUID) -> str:
    """The token of a roster member's opt-out link: derived from their UUID with a key the
    database does not hold, so that it is rebuilt for each reminder and never stored."""
    return secret_derive(str(member_uuid), purpose=_OPT_OUT, length=16)


def opt_out_token_hash(token: str) -> str:
    """What the database holds to find the member behind an opt-out link."""
    return secret_digest(token, purpose=_OPT_OUT + ".lookup")


class Agency(models.Model):
    """A public body whose staff the "100% of officials" directive counts.

    Agencies form a tree (a department and its boards, a district People's Committee and
    its offices); `path` is materialised from primary keys ("4/17/") so that an agency
    head's subtree is one indexed prefix query. `area_path` copies the area's path so
    that reports by area group without a join.
    """

    class Kind(models.TextChoices):
        DEPARTMENT = "department", _("Provincial department or board")
        MASS_ORGANISATION = "mass_org", _("Mass organisation")
        DISTRICT_COMMITTEE = "district_committee", _("District People's Committee")
        COMMUNE_COMMITTEE = "commune_committee", _("Commune People's Committee")
        PUBLIC_SERVICE_UNIT = "public_service", _("Public service unit")
        OTHER = "other", _("Other unit")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(_("code"), max_length=30, unique=True, null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent agency"),
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area")
    )
    area_path = models.CharField(max_length=64, db_index=True, editable=False)
    # Bumped by every applied roster upload: a preview made before another upload was
    # applied is refused, so that an old file cannot silently undo a newer one.
    roster_version = models.PositiveIntegerField(default=0, editable=False)
    last_reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["path"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")

    def __str__(self) -> str:
        return self.name


class RosterUpload(models.Model):
    """One roster file: validated rows wait here until the operator decides.

    The operator sees every bad row (number and reason) and chooses to import nothing or
    only the good rows; the parsed rows are then cleared.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a decision")
        APPLYING = "applying", _("Being imported")
        APPLIED = "applied", _("Imported")
        DISCARDED = "discarded", _("Nothing imported")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="uploads")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    file_name = models.CharField(max_length=200)
    file_sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    base_version = models.PositiveIntegerField()
    row_count = models.PositiveIntegerField(default=0)
    good_count = models.PositiveIntegerField(default=0)
    bad_count = models.PositiveIntegerField(default=0)
    # Validated good rows (cleared once decided) and bad rows as {row, field, reason}.
    rows = models.JSONField(default=list, blank=True)
    errors = models.JSONField(default=list, blank=True)
    # Keys of bad rows: a member whose row is bad is kept as is, never taken for a leaver.
    bad_keys = models.JSONField(default=list, blank=True)
    joined_count = models.PositiveIntegerField(default=0)
    left_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["agency", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"


class RosterMemberQuerySet(models.QuerySet["RosterMember"]):
    def for_opt_out_token(self, token: str) -> RosterMemberQuerySet:
        return self.filter(opt_out_token_hash=opt_out_token_hash(token))

    def bulk_create(self, objs: Iterable[RosterMember], *args: Any, **kwargs: Any) -> Any:
        objs = list(objs)
        for member in objs:
            member.opt_out_token_hash_fill()
        return super().bulk_create(objs, *args, **kwargs)


class RosterMember(models.Model):
    """A person on an agency's roster, from the upload that brought them in until the
    upload that no longer lists them (`left_at`): joiners and leavers, never duplicates."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="members")
    # "id:<number>" or "phone:<E.164>": how a later upload recognises the same person.
    match_key = models.CharField(max_length=40)
    full_name = models.CharField(_("full name"), max_length=150)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("year of birth"), null=True, blank=True)
    id_type = models.CharField(_("identity document"), max_length=10, blank=True)
    id_number = models.CharField(_("identity number"), max_length=20, blank=True, db_index=True)
    phone = models.CharField(_("phone number"), max_length=20, blank=True, db_index=True)
    position = models.CharField(_("position"), max_length=150, blank=True)
    unit_name = models.CharField(_("unit"), max_length=150, blank=True)
    person = models.ForeignKey(
        "people.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    joined_upload = models.ForeignKey(
        RosterUpload, on_delete=models.SET_NULL, null=True, blank=True, related_name="joiners"
    )
    left_upload = models.ForeignKey(
        RosterUpload, on_delete=models.SET_NULL, null=True, blank=True, related_name="leavers"
    )
    joined_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)
    # The keyed hash of the opt-out link's token (`opt_out_token_for`), never the token.
    opt_out_token_hash = models.CharField(max_length=64, unique=True, editable=False)
    opted_out_at = models.DateTimeField(null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    last_reminded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RosterMemberQuerySet.as_manager()

    class Meta:
        ordering = ["agency_id", "full_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "match_key"],
                condition=Q(left_at__isnull=True),
                name="roster_member_current_unique",
            ),
            models.CheckConstraint(
                condition=Q(left_at__isnull=True) | Q(left_at__gte=models.F("joined_at")),
                name="roster_member_leaves_after_joining",
            ),
        ]
        indexes = [
            models.Index(
                fields=["agency", "account"],
                condition=Q(left_at__isnull=True),
                name="roster_member_current_idx",
            )
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.opt_out_token_hash_fill()
        super().save(*args, **kwargs)

    def opt_out_token_hash_fill(self) -> None:
        if not self.opt_out_token_hash:
            self.opt_out_token_hash = opt_out_token_hash(self.opt_out_token)

    @property
    def opt_out_token(self) -> str:
        return opt_out_token_for(self.uuid)

    @property
    def person_uuid(self) -> UUID | None:
        """The matched person's UUID, so that audit rows show in that person's access log."""
        return self.person.uuid if self.person_id and self.person else None


class AdoptionSnapshot(models.Model):
    """An agency's own figures on one day, so that reports show change over time."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="snapshots")
    day = models.DateField()
    staff = models.PositiveIntegerField()
    with_account = models.PositiveIntegerField()
    active_7d = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agency_id", "day"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "day"], name="adoption_snapshot_unique"),
            models.CheckConstraint(
                condition=Q(with_account__lte=models.F("staff"))
                & Q(active_7d__lte=models.F("with_account")),
                name="adoption_snapshot_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agency_id} {self.day}"
