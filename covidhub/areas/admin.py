from django.contrib import admin

from covidhub.areas.models import Area


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin[Area]):
    list_display = ["name", "code", "level", "parent", "dissolved_on", "successor"]
    list_filter = ["level", "dissolved_on"]
    search_fields = ["search_name", "code"]
    readonly_fields = ["path", "search_name"]
    raw_id_fields = ["parent", "successor"]
