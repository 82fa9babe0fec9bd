"""The FHIR R4 REST surface under /fhir/: JSON only, an OperationOutcome for every error.

Each view is a thin map from HTTP to the selectors and the bulk-export services;
`fhir_endpoint` does the rest once: content negotiation (`_format`, Accept), the reader
(`access.reader_from_request`), CSRF for session-signed unsafe methods, and the mapping of
errors to OperationOutcome with their status.
"""

from __future__ import annotations

import functools
import urllib.parse
from collections.abc import Callable
from typing import Any

import orjson
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from covidhub.audit.alerts import access_denied_record
from covidhub.core.errors import DomainError
from covidhub.core.errors import NotFound as DomainNotFound
from covidhub.core.replicas import reads_from_replica
from covidhub.fhir import bulk, resources, selectors
from covidhub.fhir.access import Reader, reader_from_request
from covidhub.fhir.capability import capability_statement
from covidhub.fhir.errors import (
    BadRequest,
    FhirError,
    MethodNotAllowed,
    NotAcceptable,
    NotFound,
    Unauthorized,
)
from covidhub.fhir.everything import everything_entries
from covidhub.fhir.models import ExportJob
from covidhub.fhir.search import Paging

FHIR_JSON = "application/fhir+json; charset=utf-8"
_JSON_FORMATS = {"json", "application/json", "application/fhir+json", "application/json+fhir"}
_SAFE = ("GET", "HEAD")


def _dumps(data: Any, *, pretty: bool) -> bytes:
    """UTF-8 JSON (orjson: a $everything Bundle in a twelfth of the json module's time)."""
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 if pretty else 0)


def fhir_response(
    request: HttpRequest, data: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> HttpResponse:
    pretty = request.GET.get("_pretty") == "true"
    response = HttpResponse(_dumps(data, pretty=pretty), status=status, content_type=FHIR_JSON)
    response["Cache-Control"] = "private, no-store"
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def outcome_response(request: HttpRequest, *, status: int, code: str, message: str) -> HttpResponse:
    response = fhir_response(
        request, resources.operation_outcome(code=code, diagnostics=message), status=status
    )
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="fhir"'
    return response


def _negotiate(request: HttpRequest) -> None:
    fmt = request.GET.get("_format")
    if fmt is not None:
        if fmt.split(";")[0].strip().lower() not in _JSON_FORMATS:
            raise NotAcceptable()
        return
    accept = request.headers.get("Accept", "")
    if accept and not any(
        part.split(";")[0].strip().lower() in (*_JSON_FORMATS, "*/*", "application/*")
        or part.split(";")[0].strip().lower().endswith("ndjson")
        for part in accept.split(",")
    ):
        raise NotAcceptable()


def _csrf_check(request: HttpRequest, reader: Reader) -> None:
    if request.method in _SAFE or not reader.session:
        return
    refused = CsrfViewMiddleware(lambda r: HttpResponse()).process_view(request, None, (), {})  # type: ignore[arg-type]
    if refused is not None:
        from covidhub.fhir.errors import Forbidden

        raise Forbidden(_("The form token (CSRF) is missing or wrong."))


ViewFn = Callable[..., HttpResponseBase]


def fhir_endpoint(
    *, methods: tuple[str, ...] = _SAFE, auth: bool = True
) -> Callable[[ViewFn], ViewFn]:
    def wrap(view: ViewFn) -> ViewFn:
        @csrf_exempt
        @functools.wraps(view)
        def wrapped(request: HttpRequest, **kwargs: Any) -> HttpResponseBase:
            try:
                if request.method not in methods:
                    raise MethodNotAllowed()
                _negotiate(request)
                if not auth:
                    return view(request, **kwargs)
                reader = reader_from_request(request)
                if reader is None:
                    raise Unauthorized()
                _csrf_check(request, reader)
                return view(request, reader, **kwargs)
            except FhirError as error:
                return outcome_response(
                    request, status=error.status, code=error.issue_code, message=str(error.message)
                )
            except DomainNotFound:
                return outcome_response(
                    request, status=404, code="not-found", message=str(NotFound.default_message)
                )
            except DomainError as error:
                code = "throttled" if error.status == 429 else "processing"
                response = outcome_response(
                    request, status=error.status, code=code, message=str(error.message)
                )
                # A machine client past its limits is told when to come back (Retry-After).
                for name, value in getattr(error, "headers", {}).items():
                    response[name] = value
                return response

        return wrapped

    return wrap


def _denied(reader: Reader, resource_type: str, resource_id: str) -> None:
    """A signed-in reader's look-up that found nothing is audited, as on every page."""
    if reader.user is not None and reader.audited:
        access_denied_record(
            actor=reader.user, target_kind=f"fhir.{resource_type}", target_id=resource_id
        )


@functools.lru_cache(maxsize=16)
def _base_path(script_prefix: str) -> str:
    """/fhir/ under the site's script prefix, reversed once per prefix (reversing was a
    twentieth of a $everything's CPU outside the reads)."""
    return reverse("fhir:metadata").removesuffix("metadata")


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(_base_path(get_script_prefix()))


def _bundle(
    request: HttpRequest,
    items: list[dict[str, Any]],
    *,
    paging: Paging | None = None,
    more: bool = False,
    total: int | None = None,
    entries: Any = None,
) -> dict[str, Any]:
    """A searchset Bundle of `items`, or of `entries` already made (JSON text with
    absolute fullUrls, as `orjson.Fragment`: $everything's kept records)."""
    base = _base_url(request)
    links = [{"relation": "self", "url": request.build_absolute_uri()}]
    if paging is not None and more:
        query = request.GET.copy()
        query["_offset"] = str(paging.offset + paging.count)
        query["_count"] = str(paging.count)
        links.append(
            {
                "relation": "next",
                "url": request.build_absolute_uri(request.path) + "?" + query.urlencode(),
            }
        )
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": resources.instant(timezone.now()),
        "link": links,
        "entry": entries
        if entries is not None
        else [
            {
                "fullUrl": f"{base}{item['resourceType']}/{item['id']}",
                "resource": item,
                "search": {"mode": "match"},
            }
            for item in items
        ],
    }
    if not bundle["entry"]:
        del bundle["entry"]  # FHIR JSON has no empty arrays
    if total is not None:
        bundle["total"] = total
    return bundle


def _known_type(resource_type: str) -> None:
    if resource_type not in selectors.RESOURCE_TYPES:
        raise NotFound(
            _("This server does not serve %(type)s resources.") % {"type": resource_type[:40]}
        )


# Views ---------------------------------------------------------------------------------


@fhir_endpoint(auth=False)
def metadata(request: HttpRequest) -> HttpResponse:
    return fhir_response(request, capability_statement(base_url=_base_url(request)))


@reads_from_replica
@fhir_endpoint()
def search(request: HttpRequest, reader: Reader, resource_type: str) -> HttpResponse:
    _known_type(resource_type)
    if resource_type in selectors.PLACE_TYPES:
        found, paging, more = selectors.place_search(
            resource_type=resource_type, params=request.GET
        )
    else:
        found, paging, more = selectors.clinical_search(
            reader=reader, resource_type=resource_type, params=request.GET
        )
    return fhir_response(request, _bundle(request, found, paging=paging, more=more))


@reads_from_replica
@fhir_endpoint()
def read(
    request: HttpRequest, reader: Reader, resource_type: str, resource_id: str
) -> HttpResponse:
    _known_type(resource_type)
    if set(request.GET) - {"_format", "_pretty"}:
        raise BadRequest(_("A read takes no parameters other than _format."))
    try:
        if resource_type in selectors.PLACE_TYPES:
            found = selectors.place_read(resource_type=resource_type, resource_id=resource_id)
        else:
            found = selectors.clinical_read(
                reader=reader, resource_type=resource_type, resource_id=resource_id
            )
    except NotFound:
        _denied(reader, resource_type, resource_id)
        raise
    return fhir_response(request, found)


@reads_from_replica
@fhir_endpoint()
def everything(request: HttpRequest, reader: Reader, resource_id: str) -> HttpResponse:
    if set(request.GET) - {"_format", "_pretty"}:
        raise BadRequest(_("$everything takes no parameters other than _format."))
    try:
        entries, total = everything_entries(reader=reader, patient_id=resource_id)
    except NotFound:
        _denied(reader, "Patient", resource_id)
        raise
    # The entries come as JSON text (most of it kept, not built: `everything`), their
    # fullUrls relative: made absolute here, and the text goes into the Bundle as it is.
    base = _base_url(request).encode()
    entries = entries.replace(b'"fullUrl":"', b'"fullUrl":"' + base)
    pretty = request.GET.get("_pretty") == "true"
    made = orjson.loads(entries) if pretty else orjson.Fragment(entries)
    return fhir_response(request, _bundle(request, [], total=total, entries=made))


@fhir_endpoint(methods=("GET", "POST"))
def export_kickoff(
    request: HttpRequest, reader: Reader, patient_level: bool = False
) -> HttpResponse:
    if "respond-async" not in request.headers.get("Prefer", ""):
        raise BadRequest(_("A bulk export needs the header Prefer: respond-async."))
    params = request.GET
    allowed = {"_type", "_since", "_outputFormat", "area", "_format"}
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise BadRequest(
            _("Unknown or unsupported export parameter: %(names)s.") % {"names": ", ".join(unknown)}
        )
    job = bulk.export_request(
        reader=reader,
        request_url=request.build_absolute_uri(),
        resource_types=params.get("_type"),
        since=params.get("_since"),
        area_code=params.get("area"),
        output_format=params.get("_outputFormat"),
    )
    status_url = request.build_absolute_uri(reverse("fhir:export_status", args=[job.uuid]))
    response = fhir_response(
        request,
        resources.operation_outcome(
            code="informational",
            severity="information",
            diagnostics=str(_("The export is queued.")),
        ),
        status=202,
    )
    response["Content-Location"] = status_url
    return response


def _file_url(request: HttpRequest) -> Callable[[ExportJob, str], str]:
    def url(job: ExportJob, name: str) -> str:
        return request.build_absolute_uri(reverse("fhir:export_file", args=[job.uuid, name]))

    return url


@fhir_endpoint(methods=("GET", "DELETE"))
def export_status(request: HttpRequest, reader: Reader, job_uuid: Any) -> HttpResponse:
    if request.method == "DELETE":
        bulk.export_cancel(reader=reader, job_uuid=job_uuid)
        return fhir_response(
            request,
            resources.operation_outcome(
                code="informational",
                severity="information",
                diagnostics=str(_("The export is cancelled and its files deleted.")),
            ),
            status=202,
        )
    job = bulk.export_get_for_reader(reader=reader, job_uuid=job_uuid)
    if job.status == ExportJob.Status.FAILED:
        return outcome_response(
            request,
            status=500,
            code="exception",
            message=str(_("The export failed. Please ask again later.")),
        )
    if job.status != ExportJob.Status.DONE:
        response = HttpResponse(status=202)
        response["X-Progress"] = _("%(count)s resources written") % {"count": job.resources_written}
        response["Retry-After"] = "5"
        response["Cache-Control"] = "no-store"
        return response
    response = fhir_response(request, bulk.export_manifest(job=job, file_url=_file_url(request)))
    response["Expires"] = (
        job.expires_at.strftime("%a, %d %b %Y %H:%M:%S GMT") if job.expires_at else ""
    )
    return response


@fhir_endpoint()
def export_file(
    request: HttpRequest, reader: Reader, job_uuid: Any, file_name: str
) -> HttpResponseBase:
    path = bulk.export_file_path(reader=reader, job_uuid=job_uuid, file_name=file_name)
    response = FileResponse(path.open("rb"), content_type="application/fhir+ndjson")
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = f"attachment; filename={urllib.parse.quote(file_name)}"
    return response


@fhir_endpoint(methods=("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"), auth=False)
def not_found(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    raise NotFound(_("No FHIR interaction at this address."))
