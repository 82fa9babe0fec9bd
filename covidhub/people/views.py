from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from covidhub.accounts.decorators import citizen_required, staff_required
from covidhub.accounts.scoping import OFFICER_ROLES
from covidhub.audit.selectors import audit_list_for_person
from covidhub.core.errors import DomainError
from covidhub.people.forms import CorrectionForm, FamilyMemberForm, PersonForm
from covidhub.people.locks import person_identity_locked
from covidhub.people.models import Person
from covidhub.people.selectors import (
    correction_list_for_account,
    household_of,
    household_person_get,
    pending_claim_number,
    person_get_for_actor,
    person_list_for_actor,
)
from covidhub.people.services import family_member_add, household_person_create, person_update


def form_errors_from(form: forms.Form, exc: DomainError) -> None:
    fields = exc.details.get("fields", {})
    for name, errors in fields.items():
        for error in errors:
            form.add_error(name if name in form.fields else None, error)
    if not fields:
        form.add_error(None, str(exc.message))


@citizen_required
@require_http_methods(["GET", "POST"])
def self_create(request: HttpRequest) -> HttpResponse:
    if Person.objects.filter(
        managed_by_id=request.user.pk, relationship=Person.Relationship.SELF
    ).exists():
        return redirect("people:household")
    form = PersonForm(request.POST or None, initial={"phone": request.user.phone})  # type: ignore[union-attr]
    if request.method == "POST" and form.is_valid() and form.person_input:
        try:
            household_person_create(
                account=request.user,  # type: ignore[arg-type]
                data=form.person_input,
                relationship=Person.Relationship.SELF,
            )
        except DomainError as exc:
            form_errors_from(form, exc)
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("core:home")
    return render(request, "people/person_form.html", {"form": form, "title": _("Your profile")})


@citizen_required
@require_GET
def household(request: HttpRequest) -> HttpResponse:
    people = household_of(account=request.user)  # type: ignore[arg-type]
    return render(request, "people/household.html", {"people": people})


@citizen_required
@require_http_methods(["GET", "POST"])
def member_add(request: HttpRequest) -> HttpResponse:
    # A family member usually lives with the account holder: start from their commune and
    # address (the person can change both).
    own = Person.objects.filter(
        managed_by_id=request.user.pk, relationship=Person.Relationship.SELF
    ).first()
    initial = (
        {"commune": own.commune.code, "address_line": own.address_line}
        if own is not None and own.commune_id
        else {}
    )
    form = FamilyMemberForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid() and form.person_input:
        try:
            family_member_add(
                account=request.user,  # type: ignore[arg-type]
                data=form.person_input,
                relationship=form.cleaned_data["relationship"],
            )
        except DomainError as exc:
            form_errors_from(form, exc)
        else:
            messages.success(request, _("The family member is added."))
            return redirect("people:household")
    return render(
        request, "people/person_form.html", {"form": form, "title": _("Add a family member")}
    )


@citizen_required
@require_http_methods(["GET", "POST"])
def member_edit(request: HttpRequest, person_uuid: str) -> HttpResponse:
    person = household_person_get(account=request.user, person_uuid=person_uuid)  # type: ignore[arg-type]
    locked = person_identity_locked(person)
    initial = PersonForm.initial_for(person)
    claimed_type, claimed_number = pending_claim_number(person)
    if claimed_number and not person.id_number:
        # A number waiting as a claim shows as typed, as a saved one would.
        initial.update(id_type=claimed_type, id_number=claimed_number)
    form = PersonForm(request.POST or None, initial=initial, identity_locked=locked)
    if request.method == "POST" and form.is_valid() and form.person_input:
        try:
            person_update(actor=request.user, person=person, data=form.person_input)
        except DomainError as exc:
            form_errors_from(form, exc)
        else:
            messages.success(request, _("The changes are saved."))
            return redirect("people:household")
    context = {"form": form, "title": person.full_name, "person": person, "locked": locked}
    if locked:
        context["correction_form"] = CorrectionForm(initial=initial, person=person)
        mine = correction_list_for_account(account=request.user)  # type: ignore[arg-type]
        context["requests"] = [r for r in mine if r.person_id == person.pk]
    return render(request, "people/person_form.html", context)


@citizen_required
@require_GET
def access_log(request: HttpRequest) -> HttpResponse:
    rows = []
    for person in household_of(account=request.user):  # type: ignore[arg-type]
        for event in audit_list_for_person(person_uuid=person.uuid)[:100]:
            rows.append((event, person))
    rows.sort(key=lambda pair: pair[0].at, reverse=True)
    return render(request, "people/access_log.html", {"rows": rows[:200]})


@staff_required(*OFFICER_ROLES)
@require_http_methods(["GET", "POST"])
def staff_people(request: HttpRequest) -> HttpResponse:
    # The query (a name, an identity number) travels in the body, never in the URL.
    query = request.POST.get("q", "").strip()[:100] if request.method == "POST" else ""
    people = person_list_for_actor(actor=request.user, query=query, limit=50) if query else []
    return render(request, "people/staff_people.html", {"people": people, "query": query})


@staff_required(*OFFICER_ROLES)
@require_GET
def staff_person(request: HttpRequest, person_uuid: str) -> HttpResponse:
    person = person_get_for_actor(actor=request.user, person_uuid=person_uuid)
    return render(request, "people/staff_person.html", {"person": person})
