"""Public pages of the portal (no sign-in): statistics, announcements, feed, embeddable
figures, guides, FAQ, contact form and open data."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable
from typing import Any

from csp.decorators import csp_replace
from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET, require_http_methods

from covidhub.areas import served
from covidhub.areas.models import Area
from covidhub.core import request_context
from covidhub.core.errors import InvalidInput
from covidhub.core.replicas import reads_from_replica
from covidhub.portal import cache as portal_cache
from covidhub.portal import charts, guides, opendata, stats_pages
from covidhub.portal.errors import TicketJunk, TicketRateLimited
from covidhub.portal.forms import ContactForm
from covidhub.portal.models import Announcement, Category, PortalImage
from covidhub.portal.services import ticket_input_clean, ticket_open
from covidhub.portal.wsgi import CSRF_PLACEHOLDER, mark_shared

ANNOUNCEMENTS_ON_HOME = 3
FEED_ITEMS = 30


def _language() -> str:
    return "en" if (get_language() or "vi").startswith("en") else "vi"


def _cacheable(request: HttpRequest) -> bool:
    """Only anonymous requests with nothing personal to show share a cached page."""
    return not (
        request.COOKIES.get(settings.SESSION_COOKIE_NAME) or request.COOKIES.get("messages")
    )


def cached_page(
    request: HttpRequest,
    key: str,
    build: Callable[[dict[str, Any]], HttpResponse],
    *,
    shared: bool = True,
) -> HttpResponse:
    """A page rendered once per language and generation, with this visitor's CSRF token
    put back into the shared HTML. `shared`: the fast path may replay it (not when the view
    checks something per request before the cached page)."""
    if not _cacheable(request):
        return build({})
    language = _language()

    def render_once() -> tuple[int, str, bytes]:
        response = build({"csrf_token": CSRF_PLACEHOLDER})
        return response.status_code, response["Content-Type"], response.content

    cache_key = f"page:{language}:{key}"
    (status, content_type, content), entry = portal_cache.cached_entry(cache_key, render_once)
    body = content.replace(CSRF_PLACEHOLDER.encode(), get_token(request).encode())
    response = HttpResponse(body, content_type=content_type, status=status)
    patch_vary_headers(response, ("Cookie", "Accept-Language"))
    # Declared, since an anonymous page that says nothing is no-store (core/headers.py): the
    # browser may keep it, no proxy may (it carries this visitor's CSRF token).
    patch_cache_control(response, private=True, no_cache=True)
    if shared:
        mark_shared(response, cache_key=cache_key, entry=entry, template=content)
    return response


def _cached_file(
    request: HttpRequest, key: str, content_type: str, build: Callable[[], bytes]
) -> HttpResponse:
    """A file built once per generation, kept with its gzip form and ETag; b"" = 404."""

    def build_all() -> tuple[bytes, bytes, str]:
        content = build()
        if not content:
            return b"", b"", ""
        etag = '"' + hashlib.sha256(content).hexdigest()[:32] + '"'
        return content, gzip.compress(content, compresslevel=6, mtime=0), etag

    (content, compressed, etag), entry = portal_cache.cached_entry(key, build_all)
    if not content:
        raise Http404
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    elif "gzip" in request.headers.get("Accept-Encoding", "") and len(compressed) < len(content):
        response = HttpResponse(compressed, content_type=content_type)
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(content, content_type=content_type)
    response["ETag"] = etag
    patch_vary_headers(response, ("Accept-Encoding",))
    patch_cache_control(response, public=True, max_age=300)
    mark_shared(response, cache_key=key, entry=entry)
    return response


def _province(code: str | None = None) -> Area:
    """A served province (the home province when no code is given), or 404."""
    code = code or served.home_province_code()
    if code not in served.served_province_codes():
        raise Http404
    area = Area.objects.filter(level=Area.Level.PROVINCE, code=code).first()
    if area is None:
        raise Http404
    return area


def _province_picker(current: Area) -> list[dict[str, Any]]:
    """The served provinces as links, when there is more than one to choose from."""
    provinces = served.served_provinces()
    if len(provinces) < 2:
        return []
    return [
        {"area": p, "url": stats_pages.area_url(p), "current": p.pk == current.pk}
        for p in provinces
    ]


def _announcements(language: str, limit: int) -> list[Announcement]:
    return list(
        Announcement.objects.filter(status=Announcement.Status.PUBLISHED, language=language)
        .select_related("category", "image")
        .order_by("-published_at")[:limit]
    )


# Statistics ----------------------------------------------------------------------------


@require_GET
@reads_from_replica
def home(request: HttpRequest) -> HttpResponse:
    def build(extra: dict[str, Any]) -> HttpResponse:
        language = _language()
        area = _province()
        context = stats_pages.stats_context(area=area, language=language)
        context.update(
            announcements=_announcements(language, ANNOUNCEMENTS_ON_HOME),
            guides=guides.GUIDES,
            is_home=True,
            provinces=_province_picker(area),
            **extra,
        )
        return render(request, "portal/area.html", context)

    return cached_page(request, "home", build)


@require_GET
@reads_from_replica
def province(request: HttpRequest, code: str) -> HttpResponse:
    """A served province's figures (the home province's are also the portal's home page,
    with the announcements)."""
    return _area_page(request, Area.Level.PROVINCE, code)


def _area_page(request: HttpRequest, level: int, code: str) -> HttpResponse:
    def build(extra: dict[str, Any]) -> HttpResponse:
        area = Area.objects.filter(level=level, code=code).select_related("parent").first()
        if area is None or not served.is_served(area):
            raise Http404
        language = _language()
        context = stats_pages.stats_context(area=area, language=language)
        context.update(
            parent=area.parent,
            parent_url=stats_pages.area_url(area.parent) if area.parent else "",
            is_province=area.level == Area.Level.PROVINCE,
            provinces=_province_picker(area) if area.level == Area.Level.PROVINCE else [],
            **extra,
        )
        return render(request, "portal/area.html", context)

    return cached_page(request, f"area:{level}:{code}", build)


@require_GET
@reads_from_replica
def district(request: HttpRequest, code: str) -> HttpResponse:
    return _area_page(request, Area.Level.DISTRICT, code)


@require_GET
@reads_from_replica
def commune(request: HttpRequest, code: str) -> HttpResponse:
    return _area_page(request, Area.Level.COMMUNE, code)


@require_GET
@reads_from_replica
def chart(request: HttpRequest, level: int, code: str, kind: str, language: str) -> HttpResponse:
    if kind not in stats_pages.CHART_KINDS or language not in ("vi", "en"):
        raise Http404

    def build() -> bytes:
        from covidhub.portal.selectors import stats_latest_day

        area = Area.objects.filter(level=level, code=code).first()
        day = stats_latest_day()
        if area is None or day is None or not served.is_served(area):
            return b""  # not found (cached as such)
        data = stats_pages.chart_data(area=area, day=day, kind=kind, language=language)
        svg = charts.chart_svg(
            title=data.title,
            days=data.days,
            series=data.series,
            language=language,
            percent=data.percent,
        )
        return svg.encode()

    return _cached_file(request, f"chart:{level}:{code}:{kind}:{language}", "image/svg+xml", build)


# Embeddable figures --------------------------------------------------------------------


def _embed_context() -> dict[str, Any]:
    language = _language()
    area = _province()
    context = stats_pages.stats_context(area=area, language=language)
    context["site_url"] = settings.SITE_URL
    return context


@require_GET
@xframe_options_exempt
@csp_replace({"frame-ancestors": ["*"]})
@reads_from_replica
def embed(request: HttpRequest) -> HttpResponse:
    """The key figures as a small page a newspaper can put in an iframe (the one view
    exempt from X-Frame-Options)."""
    language = _language()

    def build() -> bytes:
        return render(request, "portal/embed.html", _embed_context()).content

    response = _cached_file(request, f"embed:{language}", "text/html; charset=utf-8", build)
    patch_vary_headers(response, ("Accept-Language", "Cookie"))
    return response


@require_GET
@reads_from_replica
def embed_snippet(request: HttpRequest) -> HttpResponse:
    """The key figures as an HTML fragment with inline styles, for server-side includes
    or fetching from another site (CORS allowed)."""
    language = _language()

    def build() -> bytes:
        return render(request, "portal/embed_snippet.html", _embed_context()).content

    response = _cached_file(request, f"snippet:{language}", "text/html; charset=utf-8", build)
    response["Access-Control-Allow-Origin"] = "*"
    patch_vary_headers(response, ("Accept-Language", "Cookie"))
    return response


# Announcements -------------------------------------------------------------------------


@require_GET
@reads_from_replica
def announcements(request: HttpRequest) -> HttpResponse:
    categories = list(Category.objects.all())
    slug = request.GET.get("category", "")
    category = next((c for c in categories if c.slug == slug), None)
    page_number = request.GET.get("page", "1")
    if not page_number.isdigit():
        page_number = "1"

    def build(extra: dict[str, Any]) -> HttpResponse:
        language = _language()
        qs = Announcement.objects.filter(
            status=Announcement.Status.PUBLISHED, language=language
        ).select_related("category", "image")
        if category is not None:
            qs = qs.filter(category=category)
        page = Paginator(qs.order_by("-published_at"), 10).get_page(page_number)
        return render(
            request,
            "portal/announcements.html",
            {"page": page, "categories": categories, "category": category, **extra},
        )

    return cached_page(
        request, f"announcements:{category.slug if category else ''}:{page_number}", build
    )


@require_GET
@reads_from_replica
def announcement(request: HttpRequest, slug: str) -> HttpResponse:
    item = get_object_or_404(
        Announcement.objects.select_related("category", "image"),
        slug=slug,
        status=Announcement.Status.PUBLISHED,
    )

    def build(extra: dict[str, Any]) -> HttpResponse:
        return render(request, "portal/announcement.html", {"item": item, **extra})

    # Not replayed: a withdrawn announcement is gone at once (the lookup above).
    return cached_page(request, f"announcement:{slug}", build, shared=False)


@require_GET
@reads_from_replica
def feed(request: HttpRequest, language: str) -> HttpResponse:
    """Atom feed of the published announcements in one language."""
    if language not in ("vi", "en"):
        raise Http404

    def build() -> bytes:
        from django.utils import translation

        with translation.override(language):
            atom = Atom1Feed(
                title=_("%(site)s: announcements") % {"site": settings.PLATFORM_NAME},
                link=f"{settings.SITE_URL}/portal/announcements/",
                description=_("COVID-19 announcements of the province."),
                language=language,
                feed_url=f"{settings.SITE_URL}/portal/feed/{language}.atom",
                feed_guid=f"{settings.SITE_URL}/portal/feed/{language}.atom",
            )
            for item in _announcements(language, FEED_ITEMS):
                atom.add_item(
                    title=item.title,
                    link=f"{settings.SITE_URL}{item.get_absolute_url()}",
                    description=item.body,
                    unique_id=f"urn:uuid:{item.uuid}",
                    pubdate=item.published_at,
                    updateddate=item.updated_at,
                    categories=[item.category.name_for(language)],
                    author_name=settings.PLATFORM_NAME,
                )
            return atom.writeString("utf-8").encode()

    return _cached_file(request, f"feed:{language}", "application/atom+xml; charset=utf-8", build)


@require_GET
@reads_from_replica
def image(request: HttpRequest, uuid: str) -> HttpResponse:
    item = get_object_or_404(PortalImage, uuid=uuid)
    with item.file.open("rb") as handle:
        data = handle.read()
    response = HttpResponse(data, content_type=item.content_type)
    patch_cache_control(response, public=True, max_age=7 * 24 * 3600, immutable=True)
    response["Content-Disposition"] = "inline"
    return response


# Guides, FAQ, contact ------------------------------------------------------------------


@require_GET
@reads_from_replica
def guide_index(request: HttpRequest) -> HttpResponse:
    def build(extra: dict[str, Any]) -> HttpResponse:
        return render(request, "portal/guides.html", {"guides": guides.GUIDES, **extra})

    return cached_page(request, "guides", build)


@require_GET
@reads_from_replica
def guide(request: HttpRequest, key: str) -> HttpResponse:
    item = guides.guide_get(key)
    if item is None:
        raise Http404

    def build(extra: dict[str, Any]) -> HttpResponse:
        from covidhub.core.tasks_catalog import entry_url_name

        return render(
            request,
            "portal/guide.html",
            {
                "guide": item,
                "screenshot": item.screenshot(_language()),
                # The guide's button opens the task itself, not the home page.
                "entry_url": entry_url_name(key),
                "guides": guides.GUIDES,
                **extra,
            },
        )

    return cached_page(request, f"guide:{key}", build)


@require_GET
@reads_from_replica
def faq(request: HttpRequest) -> HttpResponse:
    def build(extra: dict[str, Any]) -> HttpResponse:
        return render(request, "portal/faq.html", {"faq": guides.FAQ, **extra})

    return cached_page(request, "faq", build)


@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest) -> HttpResponse:
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if form.looks_automated():
            form.add_error(None, str(TicketJunk.default_message))
        else:
            try:
                data = ticket_input_clean(form.cleaned_data)
                context = request_context.current()
                ticket = ticket_open(
                    data=data,
                    client_address=context.client_address if context else None,
                    language=_language(),
                )
            except (TicketJunk, TicketRateLimited) as exc:
                form.add_error(None, str(exc.message))
            except InvalidInput as exc:
                for field, errors in exc.details.get("fields", {}).items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                request.session["portal_ticket"] = ticket.reference
                return redirect("portal:contact_sent")
    status = 400 if request.method == "POST" else 200
    return render(request, "portal/contact.html", {"form": form}, status=status)


@require_GET
def contact_sent(request: HttpRequest) -> HttpResponse:
    reference = request.session.get("portal_ticket")
    if not reference:
        return redirect("portal:contact")
    return render(request, "portal/contact_sent.html", {"reference": reference})


# Open data -----------------------------------------------------------------------------


@require_GET
@reads_from_replica
def data_index(request: HttpRequest) -> HttpResponse:
    def build(extra: dict[str, Any]) -> HttpResponse:
        provinces = [
            (province, list(Area.objects.filter(parent=province).order_by("name")))
            for province in served.served_provinces()
        ]
        return render(
            request,
            "portal/data.html",
            {
                "provinces": provinces,
                "columns": opendata.COLUMNS,
                "site_url": settings.SITE_URL,
                **extra,
            },
        )

    return cached_page(request, "data", build)


@require_GET
@reads_from_replica
def data_daily(
    request: HttpRequest, code: str, extension: str, period: str = "all"
) -> HttpResponse:
    recent = period == "recent"

    def build() -> bytes:
        # b"" (not found) is cached too, so that unknown codes cost no query either.
        areas = opendata.scope_areas(code)
        if not areas:
            return b""
        if extension == "csv":
            return opendata.daily_csv(areas, recent=recent)
        return opendata.daily_json(areas, recent=recent)

    key = f"data:{code}:{period}:{extension}"
    if extension == "csv":
        response = _cached_file(request, key, "text/csv; charset=utf-8", build)
        name = f"covidhub-daily-{code}{'-recent' if recent else ''}.csv"
        response["Content-Disposition"] = f'inline; filename="{name}"'
    else:
        response = _cached_file(request, key, "application/json", build)
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
@reads_from_replica
def data_summary(request: HttpRequest) -> HttpResponse:
    response = _cached_file(request, "data:summary", "application/json", opendata.summary_json)
    response["Access-Control-Allow-Origin"] = "*"
    return response
