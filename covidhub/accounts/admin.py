from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from covidhub.accounts.models import RoleAssignment, User


class RoleAssignmentInline(admin.TabularInline[RoleAssignment, User]):
    model = RoleAssignment
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
            "Status",
            {"fields": ("is_active", "is_staff", "is_superuser", "last_login", "last_seen_at")},
        ),
    )
