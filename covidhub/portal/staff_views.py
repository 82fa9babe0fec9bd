"""Staff pages of the portal: announcements and images (portal editors), official case
counts (officers, in their own area), support tickets (portal editors, administrators)."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from covidhub.accounts.decorators import staff_required
from covidhub.accounts.scoping import OFFICER_ROLES, actor_scope
from covidhub.areas.models import Area
from covidhub.core.errors import DomainError, InvalidInput
from covidhub.portal import services
from covidhub.portal.forms import (
    AnnouncementForm,
    AnswerForm,
    ImageForm,
    OfficialCountForm,
    PublishForm,
)
from covidhub.portal.models import (
    Announcement,
    OfficialCaseCount,
    PortalImage,
    SupportTicket,
)
from covidhub.portal.services import EDITOR_ROLES, SUPPORT_ROLES


def _apply_errors(form: Any, exc: DomainError) -> None:
    fields = exc.details.get("fields", {}) if isinstance(exc, InvalidInput) else {}
    if not fields:
        form.add_error(None, str(exc.message))
    for field, errors in fields.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


# Announcements -------------------------------------------------------------------------


@staff_required(*EDITOR_ROLES)
def announcement_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(
        Announcement.objects.select_related("category").order_by("-updated_at"), 25
    ).get_page(request.GET.get("page"))
    return render(request, "portal/staff/announcements.html", {"page": page})


@staff_required(*EDITOR_ROLES)
@require_http_methods(["GET", "POST"])
def announcement_edit(request: HttpRequest, uuid: str | None = None) -> HttpResponse:
    item = get_object_or_404(Announcement, uuid=uuid) if uuid else None
    if request.method == "POST":
        form = AnnouncementForm(request.POST)
        if form.is_valid():
            try:
                data = services.announcement_input_clean(form.cleaned_data)
                item = services.announcement_save(actor=request.user, data=data, announcement=item)
            except DomainError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("The announcement was saved."))
                return redirect("portal:staff_announcement", uuid=item.uuid)
    else:
        form = AnnouncementForm.for_announcement(item) if item else AnnouncementForm()
    return render(
        request,
        "portal/staff/announcement_edit.html",
        {
            "form": form,
            "item": item,
            "publish_form": PublishForm(),
            "images": PortalImage.objects.all()[:30],
        },
        status=400 if request.method == "POST" else 200,
    )


@staff_required(*EDITOR_ROLES)
@require_POST
def announcement_publish(request: HttpRequest, uuid: str) -> HttpResponse:
    item = get_object_or_404(Announcement, uuid=uuid)
    form = PublishForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the publication time as DD/MM/YYYY HH:MM."))
        return redirect("portal:staff_announcement", uuid=item.uuid)
    try:
        item = services.announcement_publish(
            actor=request.user, announcement=item, publish_at=form.cleaned_data["publish_at"]
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        if item.status == Announcement.Status.SCHEDULED:
            messages.success(request, _("The announcement is scheduled."))
        else:
            messages.success(request, _("The announcement is published."))
    return redirect("portal:staff_announcement", uuid=item.uuid)


@staff_required(*EDITOR_ROLES)
@require_POST
def announcement_withdraw(request: HttpRequest, uuid: str) -> HttpResponse:
    item = get_object_or_404(Announcement, uuid=uuid)
    try:
        services.announcement_withdraw(actor=request.user, announcement=item)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The announcement was withdrawn."))
    return redirect("portal:staff_announcement", uuid=item.uuid)


@staff_required(*EDITOR_ROLES)
@require_http_methods(["GET", "POST"])
def image_upload(request: HttpRequest) -> HttpResponse:
    form = ImageForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            image = services.image_upload(
                actor=request.user, file=form.cleaned_data["file"], alt=form.cleaned_data["alt"]
            )
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("The image was uploaded. Use it as: %(code)s")
                % {"code": f'<img src="{image.get_absolute_url()}" alt="{image.alt}">'},
            )
            return redirect("portal:staff_images")
    return render(
        request,
        "portal/staff/images.html",
        {"form": form, "images": PortalImage.objects.all()[:60]},
        status=400 if request.method == "POST" else 200,
    )


# Official case counts ------------------------------------------------------------------


def _entry_areas(user: Any) -> Any:
    scope = actor_scope(user)
    q = None
    from django.db.models import Q

    for path in scope.area_paths:
        q = Q(path__startswith=path) if q is None else q | Q(path__startswith=path)
    if q is None:
        return Area.objects.none()
    return (
        Area.objects.filter(q, dissolved_on__isnull=True).select_related("parent").order_by("path")
    )


@staff_required(*OFFICER_ROLES)
@require_http_methods(["GET", "POST"])
def official_counts(request: HttpRequest) -> HttpResponse:
    areas = _entry_areas(request.user)
    form = OfficialCountForm(request.POST or None, areas=areas)
    if request.method == "POST" and form.is_valid():
        try:
            services.official_count_enter(
                actor=request.user,
                area=form.cleaned_data["area"],
                day=form.cleaned_data["day"],
                cases=form.cleaned_data["cases"],
                source=form.cleaned_data["source"],
            )
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(
                request, _("The official figure was saved; the statistics update in a moment.")
            )
            return redirect("portal:staff_official_counts")
    entries = (
        OfficialCaseCount.objects.filter(area__in=areas)
        .select_related("area", "entered_by")
        .order_by("-day", "area__path")[:100]
    )
    return render(
        request,
        "portal/staff/official_counts.html",
        {"form": form, "entries": entries, "remove_key": secrets.token_urlsafe(16)},
        status=400 if request.method == "POST" else 200,
    )


@staff_required(*OFFICER_ROLES)
@require_POST
def official_count_remove(request: HttpRequest, uuid: str) -> HttpResponse:
    entry = get_object_or_404(
        OfficialCaseCount.objects.select_related("area"),
        uuid=uuid,
        area__in=_entry_areas(request.user),
    )
    services.official_count_remove(actor=request.user, entry=entry)
    messages.success(request, _("The official figure was removed."))
    return redirect("portal:staff_official_counts")


# Support tickets -----------------------------------------------------------------------


@staff_required(*SUPPORT_ROLES)
def ticket_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "open")
    qs = SupportTicket.objects.order_by("-created_at")
    if status in SupportTicket.Status.values:
        qs = qs.filter(status=status)
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "portal/staff/tickets.html",
        {"page": page, "status": status, "statuses": SupportTicket.Status.choices},
    )


@staff_required(*SUPPORT_ROLES)
@require_http_methods(["GET", "POST"])
def ticket_detail(request: HttpRequest, uuid: str) -> HttpResponse:
    ticket = get_object_or_404(SupportTicket, uuid=uuid)
    form = AnswerForm(request.POST or None)
    if request.method == "POST":
        if request.POST.get("action") == "close":
            try:
                services.ticket_close(actor=request.user, ticket=ticket)
            except DomainError as exc:
                messages.error(request, str(exc.message))
            else:
                messages.success(request, _("The ticket is closed."))
            return redirect("portal:staff_ticket", uuid=ticket.uuid)
        if form.is_valid():
            try:
                services.ticket_answer(
                    actor=request.user, ticket=ticket, body=form.cleaned_data["body"]
                )
            except DomainError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("The answer was sent."))
                return redirect("portal:staff_ticket", uuid=ticket.uuid)
    return render(
        request,
        "portal/staff/ticket.html",
        {
            "ticket": ticket,
            "replies": ticket.replies.select_related("author"),
            "form": form,
        },
        status=400 if request.method == "POST" else 200,
    )
