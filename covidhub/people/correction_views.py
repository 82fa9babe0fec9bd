"""Pages of identity correction requests: the citizen's request, the officers' queue and
decision, an officer's own request (decided by another officer)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from covidhub.accounts.decorators import citizen_required, staff_required
from covidhub.accounts.scoping import OFFICER_ROLES
from covidhub.core.dates import partial_date_parse
from covidhub.core.errors import DomainError
from covidhub.people.corrections import (
    correction_approve,
    correction_reject,
    correction_request_create,
)
from covidhub.people.forms import CorrectionForm, DecisionForm, PersonForm
from covidhub.people.identity import IdType, Sex
from covidhub.people.models import CorrectionRequest
from covidhub.people.selectors import (
    correction_get_for_actor,
    correction_holder_for_actor,
    correction_list_for_actor,
    household_person_get,
    person_get_for_actor,
)
from covidhub.people.views import form_errors_from


@citizen_required
@require_POST
def correction_request(request: HttpRequest, person_uuid: str) -> HttpResponse:
    person = household_person_get(account=request.user, person_uuid=person_uuid)  # type: ignore[arg-type]
    form = CorrectionForm(request.POST, person=person)
    if form.is_valid() and form.person_input:
        try:
            correction_request_create(
                actor=request.user,  # type: ignore[arg-type]
                person=person,
                data=form.person_input,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            form_errors_from(form, exc)
        else:
            messages.success(
                request,
                _(
                    "Your request is sent to the commune health station. Bring the identity "
                    "document; you will be told of the decision."
                ),
            )
            return redirect("people:member_edit", person_uuid=person.uuid)
    return render(
        request,
        "people/correction_request.html",
        {"form": form, "person": person, "title": _("Request a correction")},
        status=422,
    )


@staff_required(*OFFICER_ROLES)
@require_http_methods(["GET", "POST"])
def staff_correction_request(request: HttpRequest, person_uuid: str) -> HttpResponse:
    person = person_get_for_actor(
        actor=request.user, person_uuid=person_uuid, action="people.person.opened_for_edit"
    )
    form = CorrectionForm(
        request.POST or None, initial=PersonForm.initial_for(person), person=person
    )
    if request.method == "POST" and form.is_valid() and form.person_input:
        try:
            correction = correction_request_create(
                actor=request.user,  # type: ignore[arg-type]
                person=person,
                data=form.person_input,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            form_errors_from(form, exc)
        else:
            messages.success(request, _("The request is in the queue: another officer decides."))
            return redirect("people:staff_correction", request_uuid=correction.uuid)
    return render(
        request,
        "people/correction_request.html",
        {"form": form, "person": person, "title": _("Request a correction")},
    )


@staff_required(*OFFICER_ROLES)
@require_GET
def staff_corrections(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", CorrectionRequest.Status.PENDING)
    if status not in CorrectionRequest.Status.values:
        status = CorrectionRequest.Status.PENDING
    rows = correction_list_for_actor(actor=request.user, status=status)
    return render(
        request,
        "people/staff_corrections.html",
        {"rows": rows, "status": status, "statuses": CorrectionRequest.Status.choices},
    )


@staff_required(*OFFICER_ROLES)
@require_http_methods(["GET", "POST"])
def staff_correction(request: HttpRequest, request_uuid: str) -> HttpResponse:
    correction = correction_get_for_actor(actor=request.user, request_uuid=request_uuid)
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["decision"] == "approve":
                correction_approve(
                    actor=request.user,  # type: ignore[arg-type]
                    request=correction,
                    evidence_note=data["evidence_note"],
                    evidence_reference=data["evidence_reference"],
                )
                messages.success(request, _("Approved. The certificates are re-issued."))
            else:
                correction_reject(
                    actor=request.user,  # type: ignore[arg-type]
                    request=correction,
                    reason=data["reason"],
                )
                messages.success(request, _("Rejected. The requester is told the reason."))
        except DomainError as exc:
            form_errors_from(form, exc)
        else:
            return redirect("people:staff_corrections")
    held, holder = correction_holder_for_actor(actor=request.user, request=correction)
    rows = [
        (
            label,
            _identity_value_text(key, correction.previous.get(key)),
            _identity_value_text(key, correction.proposed.get(key)),
        )
        for key, label in (
            ("full_name", _("Full name")),
            ("birth", _("Date of birth")),
            ("sex", _("Sex")),
            ("id_type", _("Identity document")),
            ("id_number", _("Identity number")),
        )
    ]
    return render(
        request,
        "people/staff_correction.html",
        {
            "correction": correction,
            "form": form,
            "rows": rows,
            "held": held,
            "holder": holder,
            "own": correction.requested_by_id == request.user.pk,
        },
        status=422 if form.is_bound and form.errors else 200,
    )


def _identity_value_text(key: str, value: Any) -> str:
    """A stored identity value as a reader says it: the sex and document in words, the
    birth date as the rest of the platform shows it (not the stored ISO form)."""
    text = str(value or "")
    if not text:
        return ""
    if key == "sex":
        return str(dict(Sex.choices).get(text, text))
    if key == "id_type":
        return str(dict(IdType.choices).get(text, text))
    if key == "birth":
        try:
            return partial_date_parse(text).display()
        except DomainError:
            return text
    return text
