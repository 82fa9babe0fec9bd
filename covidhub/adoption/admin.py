from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from covidhub.adoption.models import Agency
from covidhub.adoption.services import agency_create, agency_update


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin[Agency]):
    list_display = ["name", "kind", "area", "parent", "code"]
    list_filter = ["kind"]
    search_fields = ["name", "code"]
    raw_id_fields = ["area", "parent"]
    readonly_fields = ["uuid", "path"]
    fields = ["name", "code", "kind", "parent", "area", "uuid", "path"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Moving an agency would change its subtree's paths: create a new one instead.
        return [*self.readonly_fields, "parent"] if obj is not None else list(self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: Agency, form: Any, change: bool) -> None:
        # Through the services, so that paths are set and the change is audited.
        if change:
            agency_update(
                actor=request.user, agency=obj, name=obj.name, kind=obj.kind, area=obj.area
            )
            return
        created = agency_create(
            actor=request.user,
            name=obj.name,
            kind=obj.kind,
            area=obj.area,
            parent=obj.parent,
            code=obj.code,
        )
        obj.pk = created.pk
        obj.path = created.path
