from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from covidhub.accounts.decorators import staff_required
from covidhub.accounts.scoping import actor_scope, primary_role
from covidhub.adoption.exports import adoption_export_xlsx, export_columns
from covidhub.adoption.kit import install_url, poster_pdf, qr_png, qr_svg
from covidhub.adoption.models import RosterMember, RosterUpload
from covidhub.adoption.rosters import roster_file_too_large, roster_max_bytes
from covidhub.adoption.selectors import (
    MIN_GROUP,
    REPORT_ROLES,
    ROSTER_ROLES,
    adoption_indicators,
    adoption_report,
    adoption_report_by_area,
    adoption_trend,
    agency_get_for_actor,
    agency_list_for_actor,
    report_totals,
    roster_members_list,
    roster_upload_get_for_actor,
)
from covidhub.adoption.services import (
    roster_opt_out,
    roster_reminders_send,
    roster_upload_apply,
    roster_upload_create,
    roster_upload_discard,
)
from covidhub.audit.services import audit_record_many
from covidhub.core.errors import DomainError
from covidhub.core.indicators import person_indicators

PAGE_SIZE = 100


def _can_roster(request: HttpRequest) -> bool:
    return actor_scope(request.user).has_role(*ROSTER_ROLES)


@staff_required(*REPORT_ROLES)
@require_GET
def staff_home(request: HttpRequest) -> HttpResponse:
    rows = adoption_report(actor=request.user)
    return render(
        request,
        "adoption/report.html",
        {"rows": rows, "totals": report_totals(rows), "today": timezone.localdate()},
    )


@staff_required(*REPORT_ROLES)
@require_GET
def report_print(request: HttpRequest) -> HttpResponse:
    rows = adoption_report(actor=request.user)
    return render(
        request,
        "adoption/report_print.html",
        {
            "rows": rows,
            "totals": report_totals(rows),
            "today": timezone.localdate(),
            "columns": export_columns(),
        },
    )


@staff_required(*REPORT_ROLES)
@require_GET
def report_areas(request: HttpRequest) -> HttpResponse:
    rows = adoption_report_by_area(actor=request.user)
    return render(request, "adoption/report_areas.html", {"rows": rows})


@staff_required(*REPORT_ROLES)
@require_GET
def report_export(request: HttpRequest) -> HttpResponse:
    rows = adoption_report(actor=request.user)
    today = timezone.localdate()
    data = adoption_export_xlsx(
        rows=rows,
        day=today,
        title=_(
            "REPORT ON OFFICIALS, CIVIL SERVANTS, PUBLIC EMPLOYEES AND WORKERS USING THE PLATFORM"
        ),
    )
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="adoption-report-{today.isoformat()}.xlsx"'
    )
    return response


@staff_required(*REPORT_ROLES)
@require_GET
def agency_detail(request: HttpRequest, agency_uuid: str) -> HttpResponse:
    agency = agency_get_for_actor(actor=request.user, agency_uuid=agency_uuid)
    rows = adoption_report(actor=request.user, root=agency)
    can_roster = (
        _can_roster(request)
        and agency_list_for_actor(actor=request.user, rosters=True).filter(pk=agency.pk).exists()
    )
    uploads = list(agency.uploads.select_related("uploaded_by")[:10]) if can_roster else []
    return render(
        request,
        "adoption/agency.html",
        {
            "agency": agency,
            "rows": rows,
            "head": rows[0] if rows else None,
            "trend": adoption_trend(agency=agency),
            "indicators": adoption_indicators(agency=agency),
            "indicator_defs": person_indicators(),
            "min_group": MIN_GROUP,
            "can_roster": can_roster,
            "uploads": uploads,
        },
    )


@staff_required(*ROSTER_ROLES)
@require_GET
def roster(request: HttpRequest, agency_uuid: str) -> HttpResponse:
    agency = agency_get_for_actor(actor=request.user, agency_uuid=agency_uuid, rosters=True)
    paginator = Paginator(roster_members_list(agency=agency), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    members = list(page.object_list)
    audit_record_many(
        actor=request.user,
        action="adoption.roster_member.viewed",
        objects=members,  # type: ignore[arg-type]
        actor_role=primary_role(actor_scope(request.user)),
    )
    return render(
        request,
        "adoption/roster.html",
        {
            "agency": agency,
            "page": page,
            "members": members,
            "active_since": timezone.now() - datetime.timedelta(days=7),
        },
    )


@staff_required(*ROSTER_ROLES)
@require_http_methods(["GET", "POST"])
def roster_upload(request: HttpRequest, agency_uuid: str) -> HttpResponse:
    agency = agency_get_for_actor(actor=request.user, agency_uuid=agency_uuid, rosters=True)
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = _("Choose a roster file (.xlsx or .csv).")
        elif upload.size is not None and upload.size > roster_max_bytes():
            error = str(roster_file_too_large().message)
        else:
            try:
                result = roster_upload_create(
                    actor=request.user,
                    agency=agency,
                    data=upload.read(),
                    file_name=upload.name or "roster",
                )
            except DomainError as exc:
                error = str(exc.message)
            else:
                return redirect("adoption:upload", upload_uuid=result.uuid)
    return render(
        request,
        "adoption/upload.html",
        {
            "agency": agency,
            "error": error,
            "max_mb": roster_max_bytes() // (1024 * 1024),
        },
        status=422 if error else 200,
    )


@staff_required(*ROSTER_ROLES)
@require_http_methods(["GET", "POST"])
def upload_detail(request: HttpRequest, upload_uuid: str) -> HttpResponse:
    upload = roster_upload_get_for_actor(actor=request.user, upload_uuid=upload_uuid)
    if request.method == "POST":
        decision = request.POST.get("decision")
        try:
            if decision == "import":
                upload = roster_upload_apply(actor=request.user, upload=upload)
                if upload.status == upload.Status.APPLYING:
                    messages.success(
                        request,
                        _("The roster is being imported; reload this page to see it done."),
                    )
                else:
                    messages.success(request, _("The roster is imported."))
            elif decision == "discard":
                roster_upload_discard(actor=request.user, upload=upload)
                messages.success(request, _("Nothing was imported from this file."))
            else:
                raise Http404
        except DomainError as exc:
            messages.error(request, str(exc.message))
        return redirect("adoption:upload", upload_uuid=upload.uuid)
    joiners = list(upload.joiners.select_related("person").order_by("full_name")[:500])
    leavers = list(upload.leavers.select_related("person").order_by("full_name")[:500])
    if joiners or leavers:
        audit_record_many(
            actor=request.user,
            action="adoption.roster_member.viewed",
            objects=[*joiners, *leavers],  # type: ignore[list-item]
            actor_role=primary_role(actor_scope(request.user)),
        )
    return render(
        request,
        "adoption/upload_detail.html",
        {
            "upload": upload,
            "agency": upload.agency,
            "pending": upload.status == RosterUpload.Status.PENDING,
            "joiners": joiners,
            "leavers": leavers,
        },
    )


@staff_required(*ROSTER_ROLES)
@require_POST
def reminders_send(request: HttpRequest, agency_uuid: str) -> HttpResponse:
    agency = agency_get_for_actor(actor=request.user, agency_uuid=agency_uuid, rosters=True)
    try:
        count = roster_reminders_send(actor=request.user, agency=agency)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request,
            _("%(count)s invitations are queued for sending by SMS.") % {"count": count},
        )
    return redirect("adoption:agency", agency_uuid=agency.uuid)


# -- Public pages ------------------------------------------------------------------------


@require_GET
def kit(request: HttpRequest) -> HttpResponse:
    url = install_url()
    return render(request, "adoption/kit.html", {"install_url": url, "qr": qr_svg(url)})


@require_GET
def kit_poster(request: HttpRequest) -> HttpResponse:
    data = poster_pdf(install_url(), settings.PLATFORM_NAME, settings.SUPPORT_PHONE)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="covidhub-poster.pdf"'
    return response


@require_GET
def kit_qr(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(qr_png(install_url()), content_type="image/png")
    response["Content-Disposition"] = 'attachment; filename="covidhub-qr.png"'
    return response


@require_http_methods(["GET", "POST"])
def opt_out(request: HttpRequest, token: str) -> HttpResponse:
    done = False
    if not RosterMember.objects.for_opt_out_token(token).exists():
        raise Http404
    if request.method == "POST":
        done = roster_opt_out(token=token) is not None
    return render(request, "adoption/opt_out.html", {"done": done})
