"""The citizen's page: download each household member's records as a FHIR Bundle."""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from covidhub.accounts.decorators import citizen_required
from covidhub.core.replicas import reads_from_replica
from covidhub.fhir.access import CITIZEN, Reader
from covidhub.fhir.everything import patient_everything
from covidhub.fhir.views import FHIR_JSON, _bundle, _dumps
from covidhub.people.selectors import household_of


@citizen_required
@require_GET
def my_records(request: HttpRequest) -> HttpResponse:
    people = household_of(account=request.user)  # type: ignore[arg-type]
    return render(request, "fhir/my_records.html", {"people": people})


@citizen_required
@require_GET
@reads_from_replica
def my_record_download(request: HttpRequest, person_uuid: uuid.UUID) -> HttpResponse:
    """The same Bundle as `Patient/{id}/$everything`, as a file to keep or hand over."""
    from covidhub.fhir.errors import NotFound

    reader = Reader(kind=CITIZEN, user=request.user, session=True)
    try:
        found = patient_everything(reader=reader, patient_id=str(person_uuid))
    except NotFound:
        from django.http import Http404

        raise Http404 from None
    body = _dumps(_bundle(request, found, total=len(found)), pretty=True)
    response = HttpResponse(body, content_type=FHIR_JSON)
    response["Content-Disposition"] = f'attachment; filename="health-records-{person_uuid}.json"'
    response["Cache-Control"] = "private, no-store"
    return response
