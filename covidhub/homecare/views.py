"""Pages of home care: the household's daily check (citizens), the station's day, orders
and alerts (commune health officers, within their areas), the release paper."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from covidhub.accounts.decorators import citizen_required, staff_required
from covidhub.accounts.scoping import OFFICER_ROLES
from covidhub.areas.served import served_provinces
from covidhub.core.errors import DomainError
from covidhub.declarations.forms import errors_to_form
from covidhub.homecare import selectors
from covidhub.homecare.document import release_pdf, token_read
from covidhub.homecare.forms import (
    AlertCloseForm,
    DutyForm,
    KitForm,
    OpenCaseForm,
    ProtocolForm,
    SelfCheckForm,
    VisitForm,
)
from covidhub.homecare.models import CareOrder, KitHandout, Symptom
from covidhub.homecare.protocol import ELIGIBILITY_TEXT, WARNING_TEXT, rules_of
from covidhub.homecare.services.checks import self_check_submit
from covidhub.homecare.services.orders import (
    order_open_case,
    order_open_contact,
    order_refer,
    order_release,
    release_assessment,
)
from covidhub.homecare.services.station import alert_close, alert_take, kit_hand_out, visit_record
from covidhub.homecare.services.versions import (
    duty_candidates,
    duty_set,
    protocol_provinces,
    protocol_version_activate,
)
from covidhub.homecare.validation import self_check_clean

OFFICERS = tuple(str(r) for r in OFFICER_ROLES)


def signs_text(codes: list[str]) -> list[str]:
    return [str(WARNING_TEXT.get(code, code)) for code in codes]


# Citizens -------------------------------------------------------------------------------


@citizen_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    orders = selectors.household_orders(account=request.user)
    return render(request, "homecare/home.html", {"orders": orders})


@citizen_required
@require_http_methods(["GET", "POST"])
def check(request: HttpRequest, order_uuid: str) -> HttpResponse:
    order = selectors.household_order_get(account=request.user, order_uuid=order_uuid)
    form = SelfCheckForm(request.POST or None)
    if request.method == "POST":
        try:
            data = self_check_clean(form.raw())
            saved, _created = self_check_submit(actor=request.user, order=order, data=data)
        except DomainError as exc:
            form.is_valid()
            errors_to_form(form, exc)
        else:
            if saved.warning_signs:
                messages.warning(
                    request,
                    _(
                        "Warning signs: %(signs)s. The health station has been alerted and "
                        "will call. If breathing is hard, call 115 now."
                    )
                    % {"signs": ", ".join(signs_text(saved.warning_signs))},
                )
            else:
                messages.success(request, _("The health check is sent. Thank you."))
            return redirect("homecare:home")
    checks = [(c, signs_text(c.warning_signs)) for c in selectors.order_checks(order, limit=14)]
    return render(
        request,
        "homecare/check.html",
        {"form": form, "order": order, "checks": checks},
        status=400 if form.errors else 200,
    )


@citizen_required
@require_GET
def release_paper(request: HttpRequest, order_uuid: str) -> HttpResponse:
    order = selectors.household_order_get(account=request.user, order_uuid=order_uuid)
    return _pdf(order)


def _pdf(order: CareOrder) -> HttpResponse:
    if order.status != CareOrder.Status.RELEASED:
        raise Http404
    response = HttpResponse(release_pdf(order), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="giay-hoan-thanh-cach-ly-{order.uuid}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def verify(request: HttpRequest, token: str) -> HttpResponse:
    """The public page a release paper's QR leads to: genuine or not, nothing more."""
    order = token_read(token)
    return render(request, "homecare/verify.html", {"order": order}, status=200 if order else 404)


# Staff ----------------------------------------------------------------------------------


@staff_required(*OFFICERS)
@require_GET
def station(request: HttpRequest) -> HttpResponse:
    commune = selectors.commune_of_actor(actor=request.user, code=request.GET.get("commune"))
    offset = request.GET.get("offset", "")
    day = selectors.station_day(
        actor=request.user,
        commune=commune,
        offset=int(offset) if offset.isdigit() and len(offset) < 9 else 0,
    )
    return render(
        request,
        "homecare/station.html",
        {
            "day": day,
            "communes": selectors.communes_of_actor(actor=request.user),
            "kit_labels": dict(KitHandout.Kind.choices),
        },
    )


@staff_required(*OFFICERS)
@require_GET
def order_detail(request: HttpRequest, order_uuid: str) -> HttpResponse:
    order = selectors.order_get_for_actor(actor=request.user, order_uuid=order_uuid)
    return _order_page(request, order)


def _order_page(request: HttpRequest, order: CareOrder, **forms: Any) -> HttpResponse:
    assessment = release_assessment(order) if order.status == CareOrder.Status.OPEN else None
    return render(
        request,
        "homecare/order_detail.html",
        {
            "order": order,
            "checks": [(c, signs_text(c.warning_signs)) for c in selectors.order_checks(order)],
            "alerts": list(
                order.alerts.select_related("owner", "closed_by").order_by("-created_at")[:20]
            ),
            "kits": list(order.kits.all()[:20]),
            "visits": list(order.visits.select_related("by")[:20]),
            "contacts": list(order.contact_orders.select_related("person")[:50]),
            "assessment": assessment,
            "findings": [str(ELIGIBILITY_TEXT.get(f, f)) for f in order.eligibility],
            "kit_form": forms.get("kit_form") or KitForm(),
            "visit_form": forms.get("visit_form") or VisitForm(),
        },
        status=400 if any(f.errors for f in forms.values()) else 200,
    )


@staff_required(*OFFICERS)
@require_POST
def order_action(request: HttpRequest, order_uuid: str) -> HttpResponse:
    order = selectors.order_get_for_actor(actor=request.user, order_uuid=order_uuid)
    action = request.POST.get("action", "")
    try:
        if action == "kit":
            kit_form = KitForm(request.POST)
            if not kit_form.is_valid():
                return _order_page(request, order, kit_form=kit_form)
            kit_hand_out(
                actor=request.user,
                order=order,
                kind=kit_form.cleaned_data["kind"],
                count=kit_form.cleaned_data["count"],
            )
            messages.success(request, _("The medicine kit is recorded."))
        elif action == "visit":
            visit_form = VisitForm(request.POST)
            if not visit_form.is_valid():
                return _order_page(request, order, visit_form=visit_form)
            visit_record(
                actor=request.user,
                order=order,
                kind=visit_form.cleaned_data["kind"],
                note=visit_form.cleaned_data["note"],
            )
            messages.success(request, _("The call or visit is recorded."))
        elif action == "refer":
            order_refer(actor=request.user, order=order, facility=request.POST.get("facility", ""))
            messages.success(request, _("The person is referred."))
        elif action == "release":
            order_release(actor=request.user, order=order)
            messages.success(request, _("The person is released; the release paper is ready."))
        else:
            messages.error(request, _("Choose what to record."))
    except DomainError as exc:
        missing = exc.details.get("missing") or []
        messages.error(request, " ".join([str(exc.message), *missing]))
    return redirect("homecare:order_detail", order_uuid=order.uuid)


@staff_required(*OFFICERS)
@require_GET
def staff_release_paper(request: HttpRequest, order_uuid: str) -> HttpResponse:
    order = selectors.order_get_for_actor(actor=request.user, order_uuid=order_uuid)
    return _pdf(order)


@staff_required(*OFFICERS)
@require_http_methods(["GET", "POST"])
def order_new(request: HttpRequest, person_uuid: str) -> HttpResponse:
    """An officer confirms a case (F0) of their area: the order, with the eligibility check."""
    from covidhub.people.selectors import person_get_for_actor

    person = person_get_for_actor(
        actor=request.user, person_uuid=person_uuid, action="homecare.person.viewed"
    )
    form = OpenCaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            order = order_open_case(actor=request.user, person=person, **form.cleaned_data)
        except DomainError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, _("The order is open."))
            return redirect("homecare:order_detail", order_uuid=order.uuid)
    return render(
        request,
        "homecare/order_new.html",
        {"form": form, "person": person},
        status=400 if form.errors else 200,
    )


@staff_required(*OFFICERS)
@require_GET
def contacts(request: HttpRequest) -> HttpResponse:
    rows = selectors.contacts_to_confirm(actor=request.user)
    return render(request, "homecare/contacts.html", {"rows": rows})


@staff_required(*OFFICERS)
@require_POST
def contact_open(request: HttpRequest, candidate_uuid: str) -> HttpResponse:
    candidate = selectors.candidate_get_for_actor(actor=request.user, candidate_uuid=candidate_uuid)
    try:
        order = order_open_contact(
            actor=request.user, candidate=candidate, place=request.POST.get("place", "home")
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("homecare:contacts")
    messages.success(request, _("The quarantine order is open."))
    return redirect("homecare:order_detail", order_uuid=order.uuid)


@staff_required(*OFFICERS)
@require_GET
def alert_detail(request: HttpRequest, alert_uuid: str) -> HttpResponse:
    alert = selectors.alert_get_for_actor(actor=request.user, alert_uuid=alert_uuid)
    return render(
        request,
        "homecare/alert_detail.html",
        {"alert": alert, "form": AlertCloseForm(), "signs": signs_text(alert.signs)},
    )


@staff_required(*OFFICERS)
@require_POST
def alert_action(request: HttpRequest, alert_uuid: str) -> HttpResponse:
    alert = selectors.alert_get_for_actor(actor=request.user, alert_uuid=alert_uuid)
    try:
        if request.POST.get("action") == "take":
            alert_take(actor=request.user, alert=alert)
            messages.success(request, _("You own this alert until it is closed."))
            return redirect("homecare:alert_detail", alert_uuid=alert.uuid)
        else:
            form = AlertCloseForm(request.POST)
            if not form.is_valid():
                return render(
                    request,
                    "homecare/alert_detail.html",
                    {"alert": alert, "form": form, "signs": signs_text(alert.signs)},
                    status=400,
                )
            alert_close(actor=request.user, alert=alert, **form.cleaned_data)
            messages.success(request, _("The alert is closed."))
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("homecare:alert_detail", alert_uuid=alert.uuid)
    return redirect("homecare:order_detail", order_uuid=alert.order.uuid)


@staff_required(*OFFICERS)
@require_GET
def chain(request: HttpRequest, order_uuid: str) -> HttpResponse:
    from covidhub.homecare.graph import contact_chain

    order = selectors.order_get_for_actor(actor=request.user, order_uuid=order_uuid)
    root = contact_chain(actor=request.user, order=order)
    return render(request, "homecare/chain.html", {"order": order, "root": root})


@staff_required(*OFFICERS)
@require_GET
def clusters(request: HttpRequest) -> HttpResponse:
    from covidhub.homecare.graph import clusters_by_venue

    return render(
        request, "homecare/clusters.html", {"clusters": clusters_by_venue(actor=request.user)}
    )


# The configurable versions --------------------------------------------------------------


@staff_required(*OFFICERS)
@require_http_methods(["GET", "POST"])
def protocol(request: HttpRequest) -> HttpResponse:
    """A province's care protocol versions (its province-level roles): the one in force, a
    new one. An officer of several served provinces (a national one) picks the province."""
    codes = protocol_provinces(request.user)
    code = request.GET.get("province") or (codes[0] if codes else "")
    versions = selectors.protocol_versions(actor=request.user, province_code=code)
    current = next(v for v in versions if v.state == v.State.ACTIVE)
    rules = rules_of(current).as_dict()
    form = ProtocolForm(request.POST or None, initial=rules)
    if request.method == "POST":
        try:
            created = protocol_version_activate(
                actor=request.user,
                province_code=code,
                rules=form.rules(),
                note=request.POST.get("note", ""),
            )
        except DomainError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(
                request,
                _("Version %(version)s of the care protocol is in force.")
                % {"version": created.version},
            )
            return redirect(f"{request.path}?province={code}")
    provinces = {area.code: area for area in served_provinces() if area.code in codes}
    labels = {name: field.label for name, field in form.fields.items()}
    symptoms = {str(value): str(label) for value, label in Symptom.choices}
    return render(
        request,
        "homecare/protocol.html",
        {
            "form": form,
            "province": provinces.get(code),
            "provinces": list(provinces.values()),
            "current": current,
            "current_rules": [
                (
                    str(labels[name]),
                    ", ".join(symptoms.get(s, s) for s in value)
                    if name == "warning_symptoms"
                    else value,
                )
                for name, value in rules.items()
                if name in labels
            ],
            "versions": versions,
        },
        status=400 if form.errors else 200,
    )


@staff_required(*OFFICERS)
@require_http_methods(["GET", "POST"])
def duty(request: HttpRequest) -> HttpResponse:
    """A station's on-duty list (officers of the commune's area): who is on it, add, end."""
    code = request.POST.get("commune") or request.GET.get("commune")
    commune = selectors.commune_of_actor(actor=request.user, code=code)
    current, ended = selectors.duty_list(actor=request.user, commune=commune)
    candidates = duty_candidates(commune)
    form = DutyForm(request.POST or None, candidates=candidates)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "end":
                user = form.candidates.get(request.POST.get("officer", "")) or next(
                    (d.user for d in current if str(d.user.uuid) == request.POST.get("officer")),
                    None,
                )
                if user is None:
                    raise Http404
                duty_set(actor=request.user, commune=commune, user=user, active=False)
                messages.success(request, _("The officer is off the duty list."))
                return redirect(f"{request.path}?commune={commune.code}")
            if form.is_valid():
                duty_set(
                    actor=request.user,
                    commune=commune,
                    user=form.candidates[form.cleaned_data["officer"]],
                    phone=form.cleaned_data["phone"],
                )
                messages.success(request, _("The duty list is saved."))
                return redirect(f"{request.path}?commune={commune.code}")
        except DomainError as exc:
            errors_to_form(form, exc)
    return render(
        request,
        "homecare/duty.html",
        {
            "commune": commune,
            "communes": selectors.communes_of_actor(actor=request.user),
            "current": current,
            "ended": ended,
            "form": form,
        },
        status=400 if form.errors else 200,
    )
