from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog, set_language

from covidhub.api.main import api_urls
from covidhub.core import views as core_views
from covidhub.core.monitoring import metrics_view

handler404 = "covidhub.api.errors.page_not_found"
handler500 = "covidhub.core.views.error_500"

urlpatterns = [
    # The API first: most requests are API requests, and URL resolution tries in order.
    path("api/v1/", api_urls()),
    path("", include("covidhub.fhir.urls")),
    path("", include("covidhub.core.urls")),
    path("", include("covidhub.accounts.urls")),
    path("", include("covidhub.people.urls")),
    path("", include("covidhub.notifications.urls")),
    path("", include("covidhub.declarations.urls")),
    path("", include("covidhub.testing.urls")),
    path("", include("covidhub.vaccination.urls")),
    path("", include("covidhub.certificates.urls")),
    path("", include("covidhub.portal.urls")),
    path("", include("covidhub.adoption.urls")),
    path("", include("covidhub.clients.urls")),
    path("", include("covidhub.exchange.urls")),
    path("", include("covidhub.homecare.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
]

if settings.BENCH_ENDPOINTS:
    urlpatterns += [path("", include("covidhub.core.bench_views"))]
