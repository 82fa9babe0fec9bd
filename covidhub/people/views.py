from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from covidhub.accounts.decorators import citizen_required, staff_required
from covidhub.accounts.scoping import OFFICER_ROLES
from covidhub.audit.selectors import audit_list_for_person
from covidhub.core.errors import DomainError
from covidhub.people.forms import FamilyMemberForm, PersonForm
from covidhub.people.models import Person
from covidhub.people.selectors import household_of, person_get_for_actor, person_list_for_actor
from covidhub.people.services import family_member_add, person_create, person_update


def _form_errors_from(form: PersonForm, exc: DomainError) -> None:
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
            person_create(
                actor=request.user,
                data=form.person_input,
                managed_by=request.user,  # type: ignore[arg-type]
                relationship=Person.Relationship.SELF,
            )
        except DomainError as exc:
            _form_errors_from(form, exc)
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
    form = FamilyMemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and form.person_input:
        try:
            family_member_add(
                account=request.user,  # type: ignore[arg-type]
                data=form.person_input,
                relationship=form.cleaned_data["relationship"],
            )
        except DomainError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, _("The family member is added."))
            return redirect("people:household")
    return render(
        request, "people/person_form.html", {"form": form, "title": _("Add a family member")}
    )


@citizen_required
@require_http_methods(["GET", "POST"])
def member_edit(request: HttpRequest, person_uuid: str) -> HttpResponse:
    person = person_get_for_actor(actor=request.user, person_uuid=person_uuid)
    form = PersonForm(request.POST or None, initial=PersonForm.initial_for(person))
    if request.method == "POST" and form.is_valid() and form.person_input:
        try:
            person_update(actor=request.user, person=person, data=form.person_input)
        except DomainError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, _("The changes are saved."))
            return redirect("people:household")
    return render(request, "people/person_form.html", {"form": form, "title": person.full_name})


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
