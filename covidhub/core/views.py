from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET

from covidhub.core.tasks_catalog import CITIZEN_TASKS, entry_url_name


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_authenticated and getattr(user, "kind", "") == "staff":
        return redirect("accounts:workspace")
    tasks = []
    for task in CITIZEN_TASKS:
        url = None
        name = entry_url_name(task.key)
        if name:
            try:
                url = reverse(name)
            except NoReverseMatch:
                url = None
        tasks.append({"task": task, "url": url})
    return render(request, "core/home.html", {"tasks": tasks})


@require_GET
def task_pending(request: HttpRequest, key: str) -> HttpResponse:
    task = next((t for t in CITIZEN_TASKS if t.key == key), None)
    if task is None:
        raise Http404
    return render(request, "core/task_pending.html", {"task": task})


@require_GET
@cache_control(max_age=3600)
def manifest(request: HttpRequest) -> JsonResponse:
    data = {
        "name": settings.PLATFORM_NAME,
        "short_name": "covidhub",
        "description": _("Health declarations, tests, vaccinations and certificates."),
        "lang": request.LANGUAGE_CODE,
        "start_url": "/?source=pwa",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b5d3b",
        "icons": [
            {"src": static("covidhub/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("covidhub/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static("covidhub/icon.svg"),
                "sizes": "any",
                "type": "image/svg+xml",
                "purpose": "any",
            },
        ],
    }
    return JsonResponse(
        data, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False}
    )


@require_GET
@cache_control(max_age=86400)
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on any page that names no icon (an embedded figure, a
    PDF viewer, a bookmark): send them to the platform's icon rather than a 404."""
    return HttpResponsePermanentRedirect(static("covidhub/icon-192.png"))


@require_GET
@cache_control(max_age=0, no_cache=True)
def service_worker(request: HttpRequest) -> HttpResponse:
    response = render(
        request,
        "core/sw.js",
        {
            "offline_url": reverse("core:offline"),
            "css": static("covidhub/app.css"),
            "js": static("covidhub/app.js"),
        },
        content_type="text/javascript",
    )
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    return render(request, "core/offline.html")


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers and reaches its database. /readyz says how well."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness for a load balancer and monitoring: 503 without the primary database
    (nothing can be served); 200 "degraded" when something is slower than it should be —
    Redis unreachable (served from the database), the worker behind (its oldest due task
    waited over WORKER_LAG_MAX_SECONDS), a standby unusable or lagging (reads on the
    primary); else 200 "ok"."""
    from django.db import DatabaseError, connection

    from covidhub.core.cache import cache_readiness
    from covidhub.core.monitoring import tasks_due_depth
    from covidhub.core.replicas import replica_aliases, replicas_readiness

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except DatabaseError:
        database = "unavailable"
    cache = cache_readiness()
    body: dict[str, Any] = {"status": "ok", "database": database, "cache": cache}
    if database != "ok":
        body["status"] = "unavailable"
        return JsonResponse(body, status=503)
    due = tasks_due_depth()
    lag = round(due.oldest_seconds or 0.0, 1)
    body["worker"] = {
        "status": "ok" if lag <= settings.WORKER_LAG_MAX_SECONDS else "lagging",
        "due": due.count,
        "oldest_due_seconds": lag,
    }
    degraded = cache != "ok" or body["worker"]["status"] != "ok"
    if replica_aliases():
        body["replicas"] = replicas_readiness()
        degraded = degraded or any(r["status"] != "ok" for r in body["replicas"].values())
    body["status"] = "degraded" if degraded else "ok"
    return JsonResponse(body)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def error_500(request: HttpRequest) -> HttpResponse:
    return render(request, "500.html", status=500)
