"""The admin of accounts, roles and authenticator apps (the site itself:
covidhub.accounts.adminsite). No page of it shows or edits a secret: TOTP keys, token and
code hashes stay out of every form and list."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tasks_db.models import DBTaskResult

from covidhub.accounts.backends import is_service_account
from covidhub.accounts.models import AuthenticatorDevice, RoleAssignment, User
from covidhub.accounts.services import role_scope_check
from covidhub.core.errors import DomainError

# django-otp registers its own TOTP admin, which shows and edits the key (and a QR code of
# it): devices are managed here instead, through a proxy with a translated name.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)
# Task rows keep their arguments, results and tracebacks (people's ids, error text) and have
# no translated pages: they are read with the worker's logs, not in the admin.
if admin.site.is_registered(DBTaskResult):
    admin.site.unregister(DBTaskResult)


class RoleAssignmentForm(forms.ModelForm[RoleAssignment]):
    """A role given in the admin follows the same rule as `role_assign`."""

    class Meta:
        model = RoleAssignment
        fields = ["role", "area", "unit_kind", "unit_uuid"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("role"):
            return data
        # An account being added here is a staff account (UserAdmin.save_model).
        user = self.instance.user if self.instance.user_id else User(kind=User.Kind.STAFF)
        try:
            role_scope_check(
                user=user,
                role=data["role"],
                area=data.get("area"),
                unit_kind=data.get("unit_kind") or "",
                unit_uuid=data.get("unit_uuid"),
            )
        except DomainError as exc:
            raise ValidationError(str(exc.message)) from exc
        return data


class RoleAssignmentInline(admin.TabularInline[RoleAssignment, User]):
    model = RoleAssignment
    form = RoleAssignmentForm
    fk_name = "user"
    extra = 0
    raw_id_fields = ["area"]
    exclude = ["granted_by"]


@admin.register(User)
class UserAdmin(BaseUserAdmin[User]):
    list_display = ["username", "display_name", "kind", "is_active", "last_seen_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["username", "display_name"]
    inlines = [RoleAssignmentInline]
    fieldsets = (
        (None, {"fields": ("username", "password", "kind", "display_name", "email", "language")}),
        (
            _("Status"),
            {"fields": ("is_active", "is_staff", "is_superuser", "last_login", "last_seen_at")},
        ),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "display_name", "usable_password", "password1", "password2"),
            },
        ),
    )

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        # A machine client's service account is managed on the client's page
        # (/staff/clients/): its roles, its secret, its revocation; here it is read-only.
        if obj is not None and is_service_account(obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if obj is not None and is_service_account(obj):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(
        self, request: HttpRequest, obj: User, form: ModelForm[User], change: bool
    ) -> None:
        if not change:
            # Citizens sign up with their phone; the admin creates staff accounts only.
            obj.kind = User.Kind.STAFF
        super().save_model(request, obj, form, change)

    def save_formset(
        self,
        request: HttpRequest,
        form: Any,
        formset: BaseInlineFormSet[Any, Any, Any],
        change: bool,
    ) -> None:
        for assignment in formset.save(commit=False):
            if isinstance(assignment, RoleAssignment) and assignment.pk is None:
                assignment.granted_by = request.user  # type: ignore[assignment]
            assignment.save()
        for removed in formset.deleted_objects:
            removed.delete()
        formset.save_m2m()


@admin.register(AuthenticatorDevice)
class AuthenticatorDeviceAdmin(admin.ModelAdmin[AuthenticatorDevice]):
    """Who has an authenticator app, and a way to take one away (lost phone): the owner then
    enrols a new one at their next sign-in. Devices are never added or keyed here."""

    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    list_filter = ["confirmed"]
    search_fields = ["user__username", "user__display_name"]
    fields = ["user", "name", "confirmed", "created_at", "last_used_at", "throttling_failure_count"]
    readonly_fields = [
        "user",
        "confirmed",
        "created_at",
        "last_used_at",
        "throttling_failure_count",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
