"""Public API of the portal (no sign-in): the key figures, the daily figures of an area,
the announcements. The same published (suppressed) figures as the pages and open data."""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Schema
from ninja.decorators import decorate_view

from covidhub.core.api_base import Router
from covidhub.core.errors import NotFound
from covidhub.core.replicas import reads_from_replica
from covidhub.portal import cache as portal_cache
from covidhub.portal import opendata
from covidhub.portal.models import Announcement

router = Router(tags=["portal"])


class AnnouncementOut(Schema):
    uuid: str
    title: str
    summary: str
    body_html: str
    language: str
    category: str
    published_at: datetime.datetime
    url: str

    @staticmethod
    def resolve_uuid(obj: Announcement) -> str:
        return str(obj.uuid)

    @staticmethod
    def resolve_body_html(obj: Announcement) -> str:
        return obj.body

    @staticmethod
    def resolve_category(obj: Announcement) -> str:
        return obj.category.slug

    @staticmethod
    def resolve_url(obj: Announcement) -> str:
        return f"{settings.SITE_URL}{obj.get_absolute_url()}"


@router.get("/summary", auth=None, summary="Key figures of the latest day (province)")
@decorate_view(reads_from_replica)
def summary(request: HttpRequest) -> dict[str, Any]:
    content = portal_cache.cached("api:summary", opendata.summary_json)
    return json.loads(content)  # type: ignore[no-any-return]


@router.get("/daily/{code}", auth=None, summary="Daily figures of an area and the areas below")
@decorate_view(reads_from_replica)
def daily(request: HttpRequest, code: str) -> dict[str, Any]:
    """`code` is the province's code (province and districts) or a district's (district
    and communes); the same content as /portal/data/daily/<code>.json (which is cached:
    prefer the file for bulk use)."""
    areas = opendata.scope_areas(code)
    if not areas:
        raise NotFound()
    content = portal_cache.cached(f"api:daily:{code}", lambda: opendata.daily_json(areas))
    return json.loads(content)  # type: ignore[no-any-return]


@router.get(
    "/announcements",
    auth=None,
    response=list[AnnouncementOut],
    summary="Published announcements, newest first",
)
@decorate_view(reads_from_replica)
def announcements(request: HttpRequest, language: str = "vi") -> Any:
    return (
        Announcement.objects.filter(status=Announcement.Status.PUBLISHED, language=language)
        .select_related("category")
        .order_by("-published_at")
    )
