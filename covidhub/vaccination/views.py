"""Pages for citizens, site staff and officers; each calls the same services as the API."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms as djforms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from covidhub.accounts.decorators import citizen_required, staff_required
from covidhub.accounts.scoping import OFFICER_ROLES
from covidhub.core.errors import DomainError
from covidhub.core.import_jobs import import_job_get_for_actor
from covidhub.core.replicas import reads_from_replica
from covidhub.people.models import Person
from covidhub.people.selectors import household_of, person_get_for_actor
from covidhub.vaccination import forms, selectors, services
from covidhub.vaccination.errors import SessionFull
from covidhub.vaccination.models import Booking, PriorityGroup, Session, Vaccine
from covidhub.vaccination.scoping import (
    PLANNER_ROLES,
    SITE_ROLES,
    STAFF_ROLES,
    booking_get_for_citizen,
    booking_get_for_staff,
    session_get_for_actor,
    site_get_for_actor,
    sites_for_actor,
)
from covidhub.vaccination.services.stock import allocation_for_site, stores_for_actor


def _errors_into(
    form: djforms.Form, exc: DomainError, mapping: dict[str, str] | None = None
) -> None:
    fields = exc.details.get("fields", {})
    for name, errors in fields.items():
        target = (mapping or {}).get(name, name)
        for error in errors:
            form.add_error(target if target in form.fields else None, error)
    if not fields:
        form.add_error(None, str(exc.message))


def _household_person(request: HttpRequest, person_uuid: Any) -> Person:
    return person_get_for_actor(actor=request.user, person_uuid=person_uuid)


# Citizens ---------------------------------------------------------------------------------


@citizen_required
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    people = household_of(account=request.user)  # type: ignore[arg-type]
    if not people:
        messages.info(request, _("Fill in your profile first."))
        return redirect("people:self_create")
    form = forms.RegistrationForm(request.POST or None, people=people)
    if request.method == "POST" and form.is_valid():
        person = _household_person(request, form.cleaned_data["person"])
        try:
            services.registration_submit(
                actor=request.user,  # type: ignore[arg-type]
                person=person,
                priority_group=form.cleaned_data["priority_group"],
                occupation=form.cleaned_data["occupation"],
                health_answers=form.health_answers(),
                preferred_site=form.cleaned_data["preferred_site"],
            )
        except DomainError as exc:
            _errors_into(form, exc)
        else:
            messages.success(
                request,
                _("%(name)s is registered for vaccination. Choose a session now.")
                % {"name": person.full_name},
            )
            return redirect("vaccination:book", person_uuid=person.uuid)
    return render(request, "vaccination/register.html", {"form": form})


@citizen_required
@require_http_methods(["GET", "POST"])
def book(request: HttpRequest, person_uuid: str) -> HttpResponse:
    person = _household_person(request, person_uuid)
    error = ""
    full_session: Session | None = None
    if request.method == "POST":
        chosen = request.POST.get("session", "")
        session = (
            Session.objects.select_related("campaign__vaccine", "site").filter(uuid=chosen).first()
            if _is_uuid(chosen)
            else None
        )
        if session is None:
            error = _("Choose a session.")
        else:
            try:
                services.booking_create(
                    actor=request.user,  # type: ignore[arg-type]
                    person=person,
                    session=session,
                    waitlist=request.POST.get("waitlist") == "1",
                )
            except SessionFull as exc:
                error = str(exc.message)
                full_session = session
            except DomainError as exc:
                error = str(exc.message)
            else:
                messages.success(request, _("The booking is saved."))
                return redirect("vaccination:my_vaccinations")
    sessions = selectors.sessions_open_list()
    return render(
        request,
        "vaccination/book.html",
        {"person": person, "sessions": sessions, "error": error, "full_session": full_session},
    )


def _is_uuid(value: Any) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


@citizen_required
@require_GET
def my_vaccinations(request: HttpRequest) -> HttpResponse:
    views = selectors.household_vaccination(account=request.user)  # type: ignore[arg-type]
    return render(
        request,
        "vaccination/my_vaccinations.html",
        {"views": views, "today": timezone.localdate()},
    )


@citizen_required
@require_GET
def booking_qr(request: HttpRequest, booking_uuid: str) -> HttpResponse:
    import io

    import segno

    booking = booking_get_for_citizen(account=request.user, booking_uuid=booking_uuid)
    buffer = io.BytesIO()
    segno.make_qr(booking.code, error="m").save(buffer, kind="svg", scale=6, border=2)
    response = HttpResponse(buffer.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "private, no-store"
    return response


@citizen_required
@require_POST
def booking_cancel(request: HttpRequest, booking_uuid: str) -> HttpResponse:
    booking = booking_get_for_citizen(account=request.user, booking_uuid=booking_uuid)
    try:
        services.booking_cancel(actor=request.user, booking=booking)  # type: ignore[arg-type]
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The booking is cancelled."))
    return redirect("vaccination:my_vaccinations")


@citizen_required
@require_POST
def booking_respond(request: HttpRequest, booking_uuid: str) -> HttpResponse:
    booking = booking_get_for_citizen(account=request.user, booking_uuid=booking_uuid)
    accept = request.POST.get("accept") == "1"
    try:
        services.invitation_respond(account=request.user, booking=booking, accept=accept)  # type: ignore[arg-type]
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request, _("You confirmed the invitation.") if accept else _("You declined.")
        )
    return redirect("vaccination:my_vaccinations")


@citizen_required
@require_http_methods(["GET", "POST"])
def reaction(request: HttpRequest, person_uuid: str) -> HttpResponse:
    person = _household_person(request, person_uuid)
    form = forms.ReactionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.aefi_report(
                actor=request.user,  # type: ignore[arg-type]
                person=person,
                severity=form.cleaned_data["severity"],
                symptoms=form.cleaned_data["symptoms"],
                onset_at=form.cleaned_data["onset_at"],
            )
        except DomainError as exc:
            _errors_into(form, exc)
        else:
            messages.success(
                request,
                _("Thank you. The health station has your report; call 115 in an emergency."),
            )
            return redirect("vaccination:my_vaccinations")
    return render(request, "vaccination/reaction.html", {"form": form, "person": person})


# Site staff -------------------------------------------------------------------------------


@staff_required(*STAFF_ROLES)
@require_GET
def site_list(request: HttpRequest) -> HttpResponse:
    sites = list(sites_for_actor(request.user).select_related("commune")[:200])
    return render(request, "vaccination/site_list.html", {"sites": sites})


@staff_required(*STAFF_ROLES)
@require_http_methods(["GET", "POST"])
def site_day(request: HttpRequest, site_uuid: str) -> HttpResponse:
    site = site_get_for_actor(actor=request.user, site_uuid=site_uuid)
    form = forms.CheckinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            booking = services.checkin_record(
                actor=request.user,  # type: ignore[arg-type]
                site=site,
                text=form.cleaned_data["code"],
            )
        except DomainError as exc:
            _errors_into(form, exc)
        else:
            messages.success(
                request, _("%(name)s is checked in.") % {"name": booking.person.full_name}
            )
            return redirect("vaccination:screening", booking_uuid=booking.uuid)
    today = timezone.localdate()
    context = {
        "site": site,
        "form": form,
        "sessions": selectors.site_sessions_list(actor=request.user, site=site, day=today),
        "checked_in": selectors.site_queue_list(
            actor=request.user, site=site, day=today, statuses=[Booking.Status.CHECKED_IN]
        ),
        "observation": selectors.observation_list(actor=request.user, site=site),
        "allocations": selectors.allocations_for_site(site=site),
        "now": timezone.now(),
    }
    return render(request, "vaccination/site_day.html", context)


@staff_required(*SITE_ROLES)
@require_http_methods(["GET", "POST"])
def screening(request: HttpRequest, booking_uuid: str) -> HttpResponse:
    booking = booking_get_for_staff(actor=request.user, booking_uuid=booking_uuid, roles=SITE_ROLES)
    view = selectors.booking_person_for_staff(actor=request.user, booking=booking)
    form = forms.ScreeningForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.screening_record(
                actor=request.user,  # type: ignore[arg-type]
                booking=booking,
                answers=form.answers(),
                temperature=form.cleaned_data["temperature"],
                outcome=form.cleaned_data["outcome"],
                notes=form.cleaned_data["notes"],
            )
        except DomainError as exc:
            _errors_into(form, exc, {"answers": "outcome"})
        else:
            if result.outcome == "vaccinate":
                return redirect("vaccination:dose", booking_uuid=booking.uuid)
            messages.info(
                request,
                _("The screening is recorded: %(outcome)s.")
                % {"outcome": result.get_outcome_display()},
            )
            return redirect("vaccination:site_day", site_uuid=booking.session.site.uuid)
    return render(
        request, "vaccination/screening.html", {"booking": booking, "view": view, "form": form}
    )


@staff_required(*SITE_ROLES)
@require_http_methods(["GET", "POST"])
def dose(request: HttpRequest, booking_uuid: str) -> HttpResponse:
    booking = booking_get_for_staff(actor=request.user, booking_uuid=booking_uuid, roles=SITE_ROLES)
    view = selectors.booking_person_for_staff(actor=request.user, booking=booking)
    allocations = selectors.allocations_for_site(site=booking.session.site)
    form = forms.DoseForm(request.POST or None, allocations=allocations)
    if request.method == "POST" and form.is_valid():
        try:
            recorded = services.dose_record(
                actor=request.user,  # type: ignore[arg-type]
                booking=booking,
                lot_uuid=form.cleaned_data["lot"],
                override_reason=form.cleaned_data["override_reason"],
            )
        except DomainError as exc:
            _errors_into(form, exc)
        else:
            messages.success(
                request,
                _("Dose %(number)s recorded. Observation until %(time)s.")
                % {
                    "number": recorded.sequence,
                    "time": timezone.localtime(recorded.observation_ends_at).strftime("%H:%M"),
                },
            )
            return redirect("vaccination:site_day", site_uuid=booking.session.site.uuid)
    return render(
        request, "vaccination/dose.html", {"booking": booking, "view": view, "form": form}
    )


@staff_required(*SITE_ROLES, *PLANNER_ROLES)
@require_http_methods(["GET", "POST"])
def wastage(request: HttpRequest, site_uuid: str) -> HttpResponse:
    site = site_get_for_actor(actor=request.user, site_uuid=site_uuid)
    allocations = selectors.allocations_for_site(site=site)
    form = forms.WastageForm(request.POST or None, allocations=allocations)
    if request.method == "POST" and form.is_valid():
        try:
            allocation = allocation_for_site(
                actor=request.user, site=site, lot_uuid=form.cleaned_data["lot"]
            )
            services.wastage_record(
                actor=request.user,
                allocation=allocation,
                doses=form.cleaned_data["doses"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            _errors_into(form, exc)
        else:
            messages.success(request, _("The wastage is recorded."))
            return redirect("vaccination:site_day", site_uuid=site.uuid)
    return render(
        request,
        "vaccination/simple_form.html",
        {"form": form, "title": _("Record wasted doses"), "subtitle": site.name},
    )


# Officers ---------------------------------------------------------------------------------


class CampaignForm(djforms.Form):
    name = djforms.CharField(label=pgettext_lazy("campaign", "Name"), max_length=150)
    area = djforms.ChoiceField(label=gettext_lazy("Area"))
    vaccine = djforms.ModelChoiceField(
        label=gettext_lazy("Vaccine"), queryset=Vaccine.objects.filter(active=True)
    )
    priority_groups = djforms.MultipleChoiceField(
        label=gettext_lazy("Target priority groups (none: everyone)"),
        choices=PriorityGroup.choices,
        required=False,
        widget=djforms.CheckboxSelectMultiple,
    )
    sites = djforms.MultipleChoiceField(
        label=pgettext_lazy("vaccination", "Sites"), widget=djforms.CheckboxSelectMultiple
    )
    starts_on = djforms.DateField(
        label=gettext_lazy("Starts on"), widget=djforms.DateInput(attrs={"type": "date"})
    )
    ends_on = djforms.DateField(
        label=gettext_lazy("Ends on"), widget=djforms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, areas: list[Any], sites: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = [(a.code, a.name) for a in areas]  # type: ignore[attr-defined]
        self.fields["sites"].choices = [(str(s.uuid), s.name) for s in sites]  # type: ignore[attr-defined]


@staff_required(*OFFICER_ROLES)
@require_GET
def staff_home(request: HttpRequest) -> HttpResponse:
    campaigns = list(selectors.campaigns_for_actor(actor=request.user)[:50])
    sessions = list(
        Session.objects.filter(campaign__in=campaigns, date__gte=timezone.localdate())
        .select_related("site", "campaign")
        .order_by("date", "starts_at")[:100]
    )
    return render(
        request, "vaccination/staff_home.html", {"campaigns": campaigns, "sessions": sessions}
    )


@staff_required(*PLANNER_ROLES)
@require_http_methods(["GET", "POST"])
def campaign_create(request: HttpRequest) -> HttpResponse:
    from covidhub.areas.models import Area

    areas = stores_for_actor(request.user)
    sites = list(sites_for_actor(request.user, roles=PLANNER_ROLES)[:500])
    form = CampaignForm(request.POST or None, areas=areas, sites=sites)
    if request.method == "POST" and form.is_valid():
        area = Area.objects.get(code=form.cleaned_data["area"], level__in=(1, 2))
        chosen = [s for s in sites if str(s.uuid) in form.cleaned_data["sites"]]
        try:
            services.campaign_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                area=area,
                vaccine=form.cleaned_data["vaccine"],
                priority_groups=form.cleaned_data["priority_groups"],
                sites=chosen,
                starts_on=form.cleaned_data["starts_on"],
                ends_on=form.cleaned_data["ends_on"],
            )
        except DomainError as exc:
            _errors_into(form, exc)
        else:
            messages.success(request, _("The campaign is created."))
            return redirect("vaccination:staff_home")
    return render(
        request, "vaccination/simple_form.html", {"form": form, "title": _("Plan a campaign")}
    )


@staff_required(*PLANNER_ROLES, *SITE_ROLES)
@require_http_methods(["GET", "POST"])
def session_create(request: HttpRequest, campaign_uuid: str) -> HttpResponse:
    campaign = (
        selectors.campaigns_for_actor(actor=request.user).filter(uuid=campaign_uuid).first()
        if _is_uuid(campaign_uuid)
        else None
    )
    if campaign is None:
        raise Http404
    sites = list(campaign.sites.all())
    form = forms.SessionForm(request.POST or None, sites=sites)
    if request.method == "POST" and form.is_valid():
        site = next(s for s in sites if str(s.uuid) == form.cleaned_data["site"])
        try:
            services.session_create(
                actor=request.user,
                campaign=campaign,
                site=site,
                date=form.cleaned_data["date"],
                starts_at=form.cleaned_data["starts_at"],
                ends_at=form.cleaned_data["ends_at"],
                capacity=form.cleaned_data["capacity"],
                self_booking=form.cleaned_data["self_booking"],
            )
        except DomainError as exc:
            _errors_into(form, exc)
        else:
            messages.success(request, _("The session is added."))
            return redirect("vaccination:staff_home")
    return render(
        request,
        "vaccination/simple_form.html",
        {"form": form, "title": _("Add a session"), "subtitle": campaign.name},
    )


@staff_required(*OFFICER_ROLES)
@require_http_methods(["GET", "POST"])
def invite(request: HttpRequest, session_uuid: str) -> HttpResponse:
    session = session_get_for_actor(
        actor=request.user, session_uuid=session_uuid, roles=OFFICER_ROLES
    )
    form = forms.InviteForm(request.POST or None, initial={"count": session.places_left or 1})
    if request.method == "POST" and form.is_valid():
        try:
            invited = services.invitations_send(
                actor=request.user,  # type: ignore[arg-type]
                session=session,
                count=form.cleaned_data["count"],
            )
        except DomainError as exc:
            _errors_into(form, exc)
        else:
            messages.success(request, _("%(count)s people were invited.") % {"count": len(invited)})
            return redirect("vaccination:staff_home")
    return render(
        request,
        "vaccination/simple_form.html",
        {"form": form, "title": _("Invite registrants"), "subtitle": str(session)},
    )


@staff_required(*OFFICER_ROLES)
@require_http_methods(["GET", "POST"])
def registration_import(request: HttpRequest) -> HttpResponse:
    form = forms.ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.registration_import(
                actor=request.user,  # type: ignore[arg-type]
                filename=upload.name,
                content=upload.read(),
                source=form.cleaned_data["source"],
                source_name=form.cleaned_data["source_name"],
                only_good_rows=form.cleaned_data["only_good_rows"],
            )
        except DomainError as exc:
            report = exc.details if "errors" in exc.details else None
            form.add_error(None, str(exc.message))
        else:
            if not job.finished:
                return redirect("vaccination:import_job", job_uuid=job.uuid)
            report = services.import_report(job).as_dict()
    return render(request, "vaccination/import.html", {"form": form, "report": report})


@staff_required(*OFFICER_ROLES)
@require_GET
def registration_import_job(request: HttpRequest, job_uuid: str) -> HttpResponse:
    """The progress of a long list, server-rendered: it reloads itself every few seconds
    (a countdown that can be paused; without script, a reload link) until the job ends,
    then shows the report."""
    job = import_job_get_for_actor(
        actor=request.user, job_uuid=job_uuid, kind=services.IMPORT_JOB_KIND
    )
    return render(
        request,
        "vaccination/import_job.html",
        {
            "job": job,
            "report": services.import_report(job).as_dict() if job.finished else None,
            "refresh_seconds": 3,
        },
    )


@staff_required(*OFFICER_ROLES)
@require_GET
@reads_from_replica
def staff_reports(request: HttpRequest) -> HttpResponse:
    by = request.GET.get("by", "commune")
    if by not in ("commune", "age_band", "priority_group"):
        by = "commune"
    today = timezone.localdate()
    context = {
        "by": by,
        "coverage": selectors.coverage_counts(by=by, actor=request.user),
        "daily": selectors.doses_per_day(
            actor=request.user, since=today - datetime.timedelta(days=30), until=today
        ),
        "stock_sites": selectors.stock_by_site(actor=request.user),
        "stock_districts": selectors.stock_by_district(actor=request.user),
    }
    return render(request, "vaccination/reports.html", context)


@staff_required(*OFFICER_ROLES)
@require_GET
def staff_aefi_list(request: HttpRequest) -> HttpResponse:
    events = selectors.aefi_list_for_actor(actor=request.user)
    return render(request, "vaccination/aefi_list.html", {"events": events})


class ElsewhereForm(djforms.Form):
    vaccine = djforms.ModelChoiceField(
        label=gettext_lazy("Vaccine"), queryset=Vaccine.objects.all()
    )
    administered_on = djforms.DateField(
        label=gettext_lazy("Date given"), widget=djforms.DateInput(attrs={"type": "date"})
    )
    place = djforms.CharField(
        label=gettext_lazy("Where (province, country, facility)"), max_length=200
    )
    country = djforms.CharField(label=gettext_lazy("Country code"), max_length=2, initial="VN")
    evidence = djforms.FileField(label=gettext_lazy("Evidence (PDF, JPEG, PNG)"), required=False)
    evidence_note = djforms.CharField(
        label=gettext_lazy("Evidence (description)"), max_length=300, required=False
    )


@staff_required(*OFFICER_ROLES)
@require_http_methods(["GET", "POST"])
def staff_person(request: HttpRequest, person_uuid: str) -> HttpResponse:
    person = person_get_for_actor(
        actor=request.user, person_uuid=person_uuid, action="vaccination.person.viewed"
    )
    form = ElsewhereForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.dose_record_elsewhere(
                actor=request.user,  # type: ignore[arg-type]
                person=person,
                vaccine=form.cleaned_data["vaccine"],
                administered_on=form.cleaned_data["administered_on"],
                place=form.cleaned_data["place"],
                country=form.cleaned_data["country"],
                evidence_note=form.cleaned_data["evidence_note"],
                evidence=form.cleaned_data["evidence"],
            )
        except DomainError as exc:
            _errors_into(form, exc)
        else:
            messages.success(request, _("The dose is recorded as given elsewhere."))
            return redirect("vaccination:staff_person", person_uuid=person.uuid)
    view = selectors.person_vaccination_view(person)
    return render(request, "vaccination/staff_person.html", {"view": view, "form": form})
