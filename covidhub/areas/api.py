from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Schema

from covidhub.areas.models import Area
from covidhub.areas.selectors import area_search
from covidhub.areas.served import served_q
from covidhub.core.api_base import Router

router = Router(tags=["areas"])


class AreaOut(Schema):
    code: str
    name: str
    level: int
    parent_code: str | None
    dissolved_on: str | None = None

    @staticmethod
    def resolve_parent_code(obj: Area) -> str | None:
        return obj.parent.code if obj.parent else None

    @staticmethod
    def resolve_dissolved_on(obj: Area) -> str | None:
        return obj.dissolved_on.isoformat() if obj.dissolved_on else None


@router.get("/areas", response=list[AreaOut], auth=None, summary="Search administrative units")
def areas(
    request: HttpRequest, q: str = "", level: int | None = None, parent: str | None = None
) -> QuerySet[Area]:
    """The served provinces' units (COVIDHUB_PROVINCES): what a form may name."""
    if parent:
        qs = Area.objects.filter(
            served_q(), parent__code=parent, dissolved_on__isnull=True
        ).select_related("parent")
        if level:
            qs = qs.filter(level=level)
        return qs
    return area_search(query=q, level=level, limit=None).filter(served_q())
