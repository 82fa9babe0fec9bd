from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice


class AccountManager(UserManager["User"]):
    def create_superuser(
        self, username: str, email: str | None = None, password: str | None = None, **extra: Any
    ) -> User:
        # `createsuperuser` makes the first administrator: a staff account (a citizen needs
        # a phone), who enrols TOTP at the staff sign-in like everyone else.
        extra.setdefault("kind", User.Kind.STAFF)
        return super().create_superuser(username, email, password, **extra)


class User(AbstractUser):
    """An account. Citizens sign in with a phone number; staff with password and TOTP."""

    class Kind(models.TextChoices):
        CITIZEN = "citizen", _("Citizen")
        STAFF = "staff", _("Staff")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.CITIZEN)
    phone = models.CharField(_("phone number"), max_length=20, null=True, blank=True, unique=True)
    display_name = models.CharField(_("display name"), max_length=150, blank=True)
    language = models.CharField(
        _("language"), max_length=5, choices=[("vi", "Tiếng Việt"), ("en", "English")], default="vi"
    )
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects: AccountManager = AccountManager()  # type: ignore[misc,assignment]

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="staff") | Q(phone__isnull=False), name="citizen_has_phone"
            )
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_citizen(self) -> bool:
        return self.kind == self.Kind.CITIZEN

    @property
    def is_staff_member(self) -> bool:
        return self.kind == self.Kind.STAFF


class Role(models.TextChoices):
    SAMPLER = "sampler", _("Sampler")
    LAB_TECHNICIAN = "lab_technician", _("Laboratory technician")
    VACCINATOR = "vaccinator", _("Vaccinator")
    SITE_MANAGER = "site_manager", _("Site manager")
    COMMUNE_OFFICER = "commune_officer", _("Commune health officer")
    DISTRICT_OFFICER = "district_officer", _("District health officer")
    PROVINCE_OFFICER = "province_officer", _("Province health officer")
    NATIONAL_OFFICER = "national_officer", _("National health officer")
    AGENCY_HEAD = "agency_head", _("Agency head")
    PORTAL_EDITOR = "portal_editor", _("Portal editor")
    ADMINISTRATOR = "administrator", _("Administrator")


# Roles scoped to an area of the tree, and the level the area must have.
AREA_ROLES: dict[str, int] = {
    Role.COMMUNE_OFFICER: 3,
    Role.DISTRICT_OFFICER: 2,
    Role.PROVINCE_OFFICER: 1,
    Role.ADMINISTRATOR: 1,
    Role.PORTAL_EDITOR: 1,
}
# Roles whose scope is every province the deployment serves (settings.PROVINCES): given
# without an area, and holding in each served province what the implied roles hold there.
NATIONAL_ROLES: dict[str, tuple[str, ...]] = {
    Role.NATIONAL_OFFICER: (Role.PROVINCE_OFFICER,),
}


def roles_with_implied(roles: Iterable[str]) -> frozenset[str]:
    """The roles given and the roles a national role among them implies."""
    held = set(roles)
    for role in list(held):
        held.update(NATIONAL_ROLES.get(role, ()))
    return frozenset(held)


# Roles scoped to a unit that a capability defines (a site, a lab, an agency).
UNIT_ROLES: dict[str, str] = {
    Role.SAMPLER: "site",
    Role.VACCINATOR: "site",
    Role.SITE_MANAGER: "site",
    Role.LAB_TECHNICIAN: "lab",
    Role.AGENCY_HEAD: "agency",
}
# Further unit kinds a unit role may also be given for (vaccination sites are not sampling
# sites: both capabilities define a "site", so vaccination's units have their own kind).
UNIT_ROLE_EXTRA_KINDS: dict[str, tuple[str, ...]] = {
    Role.VACCINATOR: ("vaccination_site",),
    Role.SITE_MANAGER: ("vaccination_site",),
}


def unit_kinds_for(role: str) -> tuple[str, ...]:
    """Every unit kind that `role` may be given for (empty for a role that is not a unit role)."""
    if role not in UNIT_ROLES:
        return ()
    return (UNIT_ROLES[role], *UNIT_ROLE_EXTRA_KINDS.get(role, ()))


class RoleAssignment(models.Model):
    """A staff member's role, scoped to an area or to one unit (site, lab, agency), or, for
    a national role, to every served province (no area).

    Units belong to capabilities above this app, so they are referenced by kind and UUID;
    each capability's selectors filter by the UUIDs an actor holds.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="role_assignments", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    area = models.ForeignKey(
        "areas.Area",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("area"),
    )
    unit_kind = models.CharField(_("unit kind"), max_length=20, blank=True)
    unit_uuid = models.UUIDField(_("unit"), null=True, blank=True)
    granted_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user_id", "role"]
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.CheckConstraint(
                condition=Q(area__isnull=False)
                | Q(unit_uuid__isnull=False)
                | Q(role__in=["national_officer"]),
                name="role_has_scope",
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=Q(area__isnull=True, unit_uuid__isnull=True),
                name="role_assignment_national_unique",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "area"],
                condition=Q(unit_uuid__isnull=True),
                name="role_assignment_area_unique",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "unit_uuid"],
                condition=Q(unit_uuid__isnull=False),
                name="role_assignment_unit_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"


class PhoneCode(models.Model):
    """A one-time sign-in code: only its keyed hash is stored; 5 minutes; single use."""

    phone = models.CharField(max_length=20)
    code_hash = models.CharField(max_length=64)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["phone", "-created_at"]),
            models.Index(fields=["client_address", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"code #{self.pk}"


class ApiToken(models.Model):
    """A revocable bearer token for the mobile app; only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}…"


class AuthenticatorDevice(TOTPDevice):
    """A staff member's authenticator app (django-otp's TOTP device), as the admin shows it:
    under the accounts, in the user's language, and never with its key."""

    class Meta:
        proxy = True
        verbose_name = _("authenticator app")
        verbose_name_plural = _("authenticator apps")
