"""The versioned REST API, mounted at /api/v1/ (OpenAPI 3.1 at /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, include, path
from ninja import NinjaAPI
from ninja.operation import Operation
from ninja.renderers import JSONRenderer

from covidhub.accounts.api_auth import any_auth, citizen_auth
from covidhub.api import errors
from covidhub.api.parsing import CleaningParser


class Utf8JSONRenderer(JSONRenderer):
    """Vietnamese text as UTF-8 rather than escape sequences: a third smaller on the wire."""

    json_dumps_params = {"ensure_ascii": False}


class CovidhubAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        """`<tag>_<view>` (`people_household`), not the Python module path: a generated
        client names its functions after these."""
        tags = operation.tags or ["api"]
        return f"{tags[0]}_{operation.view_func.__name__}"


api = CovidhubAPI(
    renderer=Utf8JSONRenderer(),
    parser=CleaningParser(),
    title="covidhub API",
    version="1.1.0",
    description=(
        "The API of the provincial COVID-19 platform, for the province's native app and for "
        "national systems. Errors have one format: {code, message, details}. POSTs that "
        "create something honour an Idempotency-Key header."
    ),
    urls_namespace="api-v1",
    auth=any_auth,
)
errors.install(api)


def _mount() -> None:
    from covidhub.api import media

    media.install(api)  # before the routers: their operations take its check when built
    from covidhub.accounts.api import router as accounts_router
    from covidhub.areas.api import router as areas_router
    from covidhub.notifications.api import router as inbox_router
    from covidhub.people.api import router as people_router
    from covidhub.people.corrections_api import router as corrections_router

    api.add_router("/", accounts_router)
    api.add_router("/", areas_router)
    api.add_router("/", people_router)
    api.add_router("/", corrections_router)
    api.add_router("/", inbox_router, auth=citizen_auth)
    # Each capability's router, under its own prefix.
    from covidhub.adoption.api import router as adoption_router
    from covidhub.certificates.api import router as certificates_router
    from covidhub.declarations.api import router as declarations_router
    from covidhub.exchange.api import router as exchange_router
    from covidhub.homecare.api import router as homecare_router
    from covidhub.portal.api import router as portal_router
    from covidhub.testing.api import router as testing_router
    from covidhub.vaccination.api import router as vaccination_router

    api.add_router("/declarations", declarations_router)
    api.add_router("/testing", testing_router)
    api.add_router("/vaccination", vaccination_router)
    api.add_router("/certificates", certificates_router)
    api.add_router("/portal", portal_router)
    api.add_router("/adoption", adoption_router)
    api.add_router("/exchange", exchange_router)
    api.add_router("/homecare", homecare_router)


_mount()


def api_urls() -> tuple[list[Any], str, str]:
    """`api.urls`, each capability's paths behind one pattern of their first segment.

    Ninja lists every path flat (about 150), and Django tries them in order, noting each
    miss: a request to a later capability paid for a hundred misses (a tenth of a busy
    request's CPU). Grouped, it tries a dozen prefixes, then the group's own paths. The
    names, and so `reverse("api-v1:…")`, are unchanged; within a group the order is.
    """
    patterns, app_name, namespace = api.urls
    grouped: list[Any] = []
    groups: dict[str, list[Any]] = {}
    for pattern in patterns:
        route = str(pattern.pattern)
        head, slash, rest = route.partition("/")
        if not slash or not rest or "<" in head or not isinstance(pattern, URLPattern):
            grouped.append(pattern)
            continue
        if head not in groups:
            groups[head] = []
            grouped.append(path(f"{head}/", include(groups[head])))
        groups[head].append(path(rest, pattern.callback, pattern.default_args, name=pattern.name))
    return grouped, app_name, namespace
