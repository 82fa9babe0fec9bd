"""Administrators edit the vaccines and their rules, and see stock and sites."""

from __future__ import annotations

from django.contrib import admin

from covidhub.vaccination.models import (
    Campaign,
    LotAllocation,
    Session,
    VaccinationSite,
    Vaccine,
    VaccineLot,
)


@admin.register(Vaccine)
class VaccineAdmin(admin.ModelAdmin[Vaccine]):
    list_display = (
        "name",
        "code",
        "product_code",
        "manufacturer_code",
        "prophylaxis_code",
        "primary_doses",
        "min_interval_days",
        "recommended_interval_days",
        "booster_allowed",
        "min_age",
        "max_age",
        "active",
    )
    list_filter = ("active", "booster_allowed")
    search_fields = ("name", "code", "product_code")
    fieldsets = (
        (None, {"fields": ("code", "name", "active")}),
        ("EU DCC", {"fields": ("product_code", "manufacturer_code", "prophylaxis_code")}),
        (
            "Rules",
            {
                "fields": (
                    "primary_doses",
                    "min_interval_days",
                    "recommended_interval_days",
                    "booster_allowed",
                    "booster_interval_days",
                    "boosters_max",
                    "min_age",
                    "max_age",
                    "doses_per_vial",
                )
            },
        ),
    )


@admin.register(VaccinationSite)
class VaccinationSiteAdmin(admin.ModelAdmin[VaccinationSite]):
    list_display = ("name", "commune", "active")
    list_filter = ("active",)
    search_fields = ("name",)
    raw_id_fields = ("commune",)
    readonly_fields = ("uuid",)


class AllocationInline(admin.TabularInline[LotAllocation, VaccineLot]):
    model = LotAllocation
    extra = 0
    readonly_fields = ("site", "doses_allocated", "doses_used", "doses_wasted")
    can_delete = False


@admin.register(VaccineLot)
class VaccineLotAdmin(admin.ModelAdmin[VaccineLot]):
    list_display = ("number", "vaccine", "expiry_date", "doses_received", "doses_allocated")
    list_filter = ("vaccine",)
    search_fields = ("number",)
    readonly_fields = ("doses_allocated", "store_area", "received_by")
    inlines = (AllocationInline,)

    def has_add_permission(self, request: object) -> bool:
        return False  # lots are received through the stock page (audited)


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin[Campaign]):
    list_display = ("name", "vaccine", "area", "starts_on", "ends_on", "status")
    list_filter = ("status", "vaccine")
    readonly_fields = ("area", "created_by")
    filter_horizontal = ("sites",)


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin[Session]):
    list_display = ("site", "date", "starts_at", "ends_at", "capacity", "booked_count", "cancelled")
    list_filter = ("date", "cancelled")
    readonly_fields = ("campaign", "site", "booked_count")
