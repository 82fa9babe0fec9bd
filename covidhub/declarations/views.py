"""Pages for citizens (declare, QR, check in), venue staff (posters, scanning) and officers
(follow-up list, confirmed cases and exposure tracing). They call the same services as the
API; everything works without JavaScript."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from covidhub.accounts.decorators import citizen_required, staff_required
from covidhub.accounts.models import User
from covidhub.accounts.scoping import OFFICER_ROLES
from covidhub.core.errors import DomainError
from covidhub.core.qr import qr_svg_inline
from covidhub.declarations import selectors, services
from covidhub.declarations.forms import (
    EXPOSURE_LABELS,
    CallForm,
    CaseForm,
    CheckInForm,
    DeclarationForm,
    ScanForm,
    VenueForm,
    VenueStaffForm,
    errors_to_form,
)
from covidhub.declarations.models import Case, FollowUp, Symptom
from covidhub.declarations.posters import venue_poster_pdf, venue_url
from covidhub.declarations.tokens import QrRefused
from covidhub.people.models import Person
from covidhub.people.selectors import household_of, person_list_for_actor

QR_REFRESH_MARGIN_SECONDS = 120


def signed_in_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Any account: a citizen (venue owners and staff are citizens) or a verified officer."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect(f"{reverse('accounts:citizen_login')}?next={request.path}")
        if getattr(user, "kind", "") == User.Kind.STAFF and not user.is_verified():  # type: ignore[attr-defined]
            return redirect("accounts:staff_login")
        return view(request, *args, **kwargs)

    return wrapped


def testing_register_url() -> str:
    """Where 'advised to test' leads: testing's registration once it exists."""
    try:
        return reverse("testing:register")
    except NoReverseMatch:
        return reverse("core:task_pending", args=["test_register"])


# Citizens ------------------------------------------------------------------------------


@citizen_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    people = household_of(account=request.user)  # type: ignore[arg-type]
    if not people:
        return redirect("people:self_create")
    today = timezone.localdate()
    rows = []
    for person in people:
        last = selectors.declaration_last(person=person)
        rows.append(
            {
                "person": person,
                "last": last,
                "days": (today - last.day).days if last else None,
            }
        )
    return render(
        request,
        "declarations/home.html",
        {
            "rows": rows,
            "checkins": selectors.checkin_list_for_account(account=request.user, limit=5),
        },
    )


@citizen_required
@require_http_methods(["GET", "POST"])
def declare(request: HttpRequest, person_uuid: str) -> HttpResponse:
    person = selectors.household_person_get(account=request.user, person_uuid=person_uuid)
    initial = selectors.declaration_prefill(person=person, account=request.user)
    form = DeclarationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid() and form.declaration_input:
        try:
            declaration = services.declaration_submit(
                actor=request.user, person=person, data=form.declaration_input
            )
        except DomainError as exc:
            errors_to_form(form, exc)
        else:
            if declaration.has_symptoms or declaration.has_exposure:
                messages.warning(
                    request,
                    _(
                        "The declaration for %(name)s is sent. Because of the symptoms or contacts "
                        "declared, the commune health station will call. Until then, stay home "
                        "and wear a mask."
                    )
                    % {"name": person.full_name},
                )
            else:
                messages.success(
                    request, _("The declaration for %(name)s is sent.") % {"name": person.full_name}
                )
            return redirect("declarations:home")
    return render(
        request,
        "declarations/declare.html",
        {"form": form, "person": person},
    )


@citizen_required
@require_GET
def personal_qr(request: HttpRequest, person_uuid: str) -> HttpResponse:
    person = selectors.household_person_get(account=request.user, person_uuid=person_uuid)
    token, expires_at = services.personal_qr_issue(actor=request.user, person=person)
    # Reloaded two minutes before the code expires: by then the next code is out, so a
    # code on screen is never one that a checkpoint would refuse.
    left = (expires_at - timezone.now()).total_seconds()
    return render(
        request,
        "declarations/qr.html",
        {
            "person": person,
            "token": token,
            "expires_at": expires_at,
            "refresh_in": max(10, int(left) - QR_REFRESH_MARGIN_SECONDS),
            "svg": qr_svg_inline(token, title=_("Personal QR code"), scale=8),
        },
    )


@citizen_required
@require_http_methods(["GET", "POST"])
def personal_card(request: HttpRequest, person_uuid: str) -> HttpResponse:
    """A printable card for people without a smartphone; printing revokes the last card."""
    person = selectors.household_person_get(account=request.user, person_uuid=person_uuid)
    if request.method == "GET":
        return render(request, "declarations/card_confirm.html", {"person": person})
    token, expires_at = services.personal_card_print(actor=request.user, person=person)
    return render(
        request,
        "declarations/card.html",
        {
            "person": person,
            "expires_at": expires_at,
            "svg": qr_svg_inline(token, title=_("Personal QR code"), scale=6),
        },
    )


def _checkin_page(request: HttpRequest, *, code: str = "") -> HttpResponse:
    household = household_of(account=request.user)  # type: ignore[arg-type]
    if not household:
        return redirect("people:self_create")
    venue = None
    initial = {"venue_code": code} if code else {}
    form = CheckInForm(request.POST or None, household=household, initial=initial)
    if code and request.method == "GET":
        try:
            venue = services.venue_by_code(code)
        except DomainError as exc:
            errors_to_form(form, exc)
    if request.method == "POST" and form.is_valid():
        try:
            venue = services.venue_by_code(form.cleaned_data["venue_code"])
            people = selectors.household_people_get(
                account=request.user, person_uuids=form.cleaned_data["people"]
            )
            results = services.checkin_record(actor=request.user, venue=venue, people=people)
        except QrRefused as exc:
            form.add_error("venue_code", str(exc.message))
        except DomainError as exc:
            if "fields" in exc.details:
                errors_to_form(form, exc)
            else:
                form.add_error("venue_code", str(exc.message))
        else:
            names = ", ".join(c.person.full_name for c, _created in results)
            messages.success(
                request,
                _("Checked in at %(venue)s: %(names)s.") % {"venue": venue.name, "names": names},
            )
            return redirect("declarations:checkins")
    return render(request, "declarations/checkin.html", {"form": form, "venue": venue})


@citizen_required
@require_http_methods(["GET", "POST"])
def checkin(request: HttpRequest) -> HttpResponse:
    return _checkin_page(request)


@require_http_methods(["GET", "POST"])
def venue_link(request: HttpRequest, code: str) -> HttpResponse:
    """Where a venue's poster QR leads (a phone camera opens it): check in there."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('accounts:citizen_login')}?next={request.path}")
    if getattr(request.user, "kind", "") != User.Kind.CITIZEN:
        return redirect("accounts:workspace")
    return _checkin_page(request, code=code)


@citizen_required
@require_GET
def checkins(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "declarations/checkins.html",
        {"checkins": selectors.checkin_list_for_account(account=request.user, limit=50)},
    )


@citizen_required
@require_POST
def checkout(request: HttpRequest, checkin_uuid: str) -> HttpResponse:
    item = selectors.checkin_get_for_account(account=request.user, checkin_uuid=checkin_uuid)
    services.checkin_checkout(actor=request.user, checkin=item)
    messages.success(request, _("Checked out of %(venue)s.") % {"venue": item.venue.name})
    return redirect("declarations:checkins")


# Venues (owners, venue staff, officers) --------------------------------------------------


@signed_in_required
@require_GET
def venue_list(request: HttpRequest) -> HttpResponse:
    venues = list(selectors.venue_list_for_actor(actor=request.user)[:200])
    return render(request, "declarations/venue_list.html", {"venues": venues})


@signed_in_required
@require_http_methods(["GET", "POST"])
def venue_new(request: HttpRequest) -> HttpResponse:
    form = VenueForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and form.venue_input:
        try:
            venue = services.venue_register(actor=request.user, data=form.venue_input)
        except DomainError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, _("The venue is registered. Print its poster."))
            return redirect("declarations:venue_detail", venue_uuid=venue.uuid)
    return render(request, "declarations/venue_form.html", {"form": form})


@signed_in_required
@require_http_methods(["GET", "POST"])
def venue_detail(request: HttpRequest, venue_uuid: str) -> HttpResponse:
    venue = selectors.venue_get_for_actor(actor=request.user, venue_uuid=venue_uuid)
    can_manage = services.venue_may_manage(actor=request.user, venue=venue)
    staff_form = VenueStaffForm(request.POST or None) if can_manage else None
    if request.method == "POST":
        if staff_form is None:
            return redirect("declarations:venue_detail", venue_uuid=venue.uuid)
        if request.POST.get("remove"):
            services.venue_staff_remove(
                actor=request.user, venue=venue, user_uuid=request.POST["remove"]
            )
            messages.success(request, _("The staff member is removed."))
            return redirect("declarations:venue_detail", venue_uuid=venue.uuid)
        if staff_form.is_valid():
            try:
                services.venue_staff_add(
                    actor=request.user, venue=venue, phone=staff_form.cleaned_data["phone"]
                )
            except DomainError as exc:
                errors_to_form(staff_form, exc)
            else:
                messages.success(request, _("The staff member can now scan at this venue."))
                return redirect("declarations:venue_detail", venue_uuid=venue.uuid)
    return render(
        request,
        "declarations/venue_detail.html",
        {
            "venue": venue,
            "can_manage": can_manage,
            "staff": selectors.venue_staff_list(venue=venue) if can_manage else [],
            "staff_form": staff_form,
            "url": venue_url(venue),
            "svg": qr_svg_inline(venue_url(venue), title=_("Venue QR code"), scale=5),
        },
    )


@signed_in_required
@require_GET
def venue_poster(request: HttpRequest, venue_uuid: str) -> HttpResponse:
    venue = selectors.venue_get_for_actor(actor=request.user, venue_uuid=venue_uuid)
    response = HttpResponse(venue_poster_pdf(venue), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="poster-{venue.code}.pdf"'
    return response


@signed_in_required
@require_http_methods(["GET", "POST"])
def venue_scan(request: HttpRequest, venue_uuid: str) -> HttpResponse:
    venue = selectors.venue_get_for_actor(actor=request.user, venue_uuid=venue_uuid)
    form = ScanForm(request.POST or None)
    outcome = None
    if request.method == "POST" and form.is_valid():
        try:
            outcome = services.checkin_scan(
                actor=request.user, venue=venue, token=form.cleaned_data["token"]
            )
        except DomainError as exc:
            form.add_error("token", str(exc.message))
        else:
            form = ScanForm()  # empty, focused: ready for the next person
    return render(
        request,
        "declarations/scan.html",
        {"venue": venue, "form": form, "outcome": outcome},
        status=422 if form.errors else 200,
    )


# Officers ------------------------------------------------------------------------------


@staff_required(*OFFICER_ROLES)
@require_GET
def followup_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "open")
    if status not in ("open", "closed"):
        status = "open"
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    size = 50
    items = selectors.followup_list_for_actor(
        actor=request.user, status=status, limit=size + 1, offset=(page - 1) * size
    )
    return render(
        request,
        "declarations/followup_list.html",
        {
            "items": items[:size],
            "status": status,
            "page": page,
            "has_next": len(items) > size,
            "labels": {**dict(Symptom.choices), **EXPOSURE_LABELS},
        },
    )


@staff_required(*OFFICER_ROLES)
@require_http_methods(["GET", "POST"])
def followup_detail(request: HttpRequest, followup_uuid: str) -> HttpResponse:
    item = selectors.followup_get_for_actor(actor=request.user, followup_uuid=followup_uuid)
    form = CallForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.followup_call_record(
                actor=request.user,
                followup=item,
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
            )
        except DomainError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, _("The call is recorded."))
            return redirect("declarations:followup_detail", followup_uuid=item.uuid)
    answers = item.declaration.answers if item.declaration else None
    return render(
        request,
        "declarations/followup_detail.html",
        {
            "item": item,
            "answers": answers,
            "symptom_labels": dict(Symptom.choices),
            "labels": {**dict(Symptom.choices), **EXPOSURE_LABELS},
            "calls": item.call_log.select_related("called_by").all(),
            "form": form,
            "testing_url": testing_register_url(),
            "advised_test": item.outcome == FollowUp.Outcome.ADVISED_TEST,
            "case_form": CaseForm(initial={"onset_date": timezone.localdate()}),
        },
    )


@staff_required(*OFFICER_ROLES)
@require_http_methods(["GET", "POST"])
def case_list(request: HttpRequest) -> HttpResponse:
    form = CaseForm(
        request.POST or None,
        initial={"onset_date": timezone.localdate(), "window_minutes": None},
    )
    if request.method == "POST" and form.is_valid():
        people = person_list_for_actor(
            actor=request.user, query=form.cleaned_data["query"], limit=3
        )
        digits = "".join(ch for ch in form.cleaned_data["query"] if ch.isdigit())
        matches = [
            p for p in people if digits and (p.id_number == digits or p.phone.endswith(digits[-9:]))
        ]
        if len(matches) != 1:
            form.add_error(
                "query",
                _("No one in your area has this number.")
                if not matches
                else _("Several people have this phone number: use the identity number."),
            )
        else:
            try:
                case = services.case_propose(
                    actor=request.user,
                    person=matches[0],
                    onset_date=form.cleaned_data["onset_date"],
                    window_minutes=form.cleaned_data["window_minutes"],
                )
            except DomainError as exc:
                errors_to_form(form, exc)
            else:
                messages.success(
                    request, _("The case is proposed. A second officer must approve it.")
                )
                return redirect("declarations:case_detail", case_uuid=case.uuid)
    cases = selectors.case_list_for_actor(actor=request.user)
    return render(
        request,
        "declarations/case_list.html",
        {
            "cases": [
                (c, selectors.case_person_visible(actor=request.user, case=c)) for c in cases
            ],
            "form": form,
        },
    )


@staff_required(*OFFICER_ROLES)
@require_http_methods(["GET", "POST"])
def case_detail(request: HttpRequest, case_uuid: str) -> HttpResponse:
    case = selectors.case_get_for_actor(actor=request.user, case_uuid=case_uuid)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "approve":
                services.case_approve(actor=request.user, case=case)
                messages.success(request, _("The case is confirmed and exposures are traced."))
            elif action == "reject":
                services.case_reject(actor=request.user, case=case)
                messages.success(request, _("The proposed case is rejected."))
            elif action == "trace":
                added = services.exposure_trace_again(actor=request.user, case=case)
                messages.success(request, _("%(count)s new candidates found.") % {"count": added})
            elif action == "notify":
                chosen = request.POST.getlist("candidate") or None
                count = services.exposure_notify(
                    actor=request.user, case=case, candidate_uuids=chosen
                )
                messages.success(request, _("%(count)s people notified.") % {"count": count})
            elif action == "dismiss":
                candidate = (
                    selectors.candidate_queryset_for_actor(actor=request.user, case=case)
                    .filter(uuid=request.POST.get("candidate_uuid", ""))
                    .first()
                )
                if candidate is not None:
                    services.exposure_candidate_dismiss(actor=request.user, candidate=candidate)
        except DomainError as exc:
            messages.error(request, str(exc.message))
        return redirect("declarations:case_detail", case_uuid=case.uuid)
    visible = selectors.case_person_visible(actor=request.user, case=case)
    candidates = (
        selectors.candidate_list_for_actor(actor=request.user, case=case)
        if case.status == Case.Status.CONFIRMED
        else []
    )
    return render(
        request,
        "declarations/case_detail.html",
        {
            "case": case,
            "visible": visible,
            "candidates": candidates,
            "can_decide": case.status == Case.Status.PENDING
            and visible
            and case.proposed_by_id != request.user.pk,
            "pending_candidates": sum(1 for c in candidates if c.status == "candidate"),
        },
    )


@staff_required(*OFFICER_ROLES)
@require_POST
def case_propose_for_followup(request: HttpRequest, followup_uuid: str) -> HttpResponse:
    item = selectors.followup_get_for_actor(actor=request.user, followup_uuid=followup_uuid)
    try:
        onset = datetime.date.fromisoformat(request.POST.get("onset_date", ""))
    except ValueError:
        messages.error(request, _("Enter the onset date."))
        return redirect("declarations:followup_detail", followup_uuid=item.uuid)
    person: Person = item.person
    try:
        case = services.case_propose(actor=request.user, person=person, onset_date=onset)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("declarations:followup_detail", followup_uuid=item.uuid)
    messages.success(request, _("The case is proposed. A second officer must approve it."))
    return redirect("declarations:case_detail", case_uuid=case.uuid)
