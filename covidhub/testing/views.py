"""Pages for citizens (register, appointment QR, results, lookup), samplers (one scan,
one tap), laboratories (receipt, results, imports, corrections) and officers."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from covidhub.accounts.decorators import citizen_required, staff_required
from covidhub.accounts.models import Role
from covidhub.accounts.scoping import OFFICER_ROLES, actor_scope
from covidhub.areas.models import Area
from covidhub.core import request_context
from covidhub.core.errors import DomainError, NotFound
from covidhub.core.qr import qr_svg_inline
from covidhub.core.replicas import reads_from_replica
from covidhub.people.selectors import household_of
from covidhub.testing import collection, imports, registration, results, selectors
from covidhub.testing.codes import appointment_code_display
from covidhub.testing.document import masked_name, result_pdf
from covidhub.testing.models import (
    ImportBatch,
    Lab,
    Result,
    Slot,
    TestingRound,
    TestType,
    Tube,
    TubeResult,
)
from covidhub.testing.scope import (
    lab_get,
    labs_for_actor,
    sampling_site_get,
    sampling_sites_for_actor,
    sites_for_actor,
)

LOOKUP_SALT = "covidhub.testing.lookup-download"


def _attempt(request: HttpRequest, action: Callable[[], Any]) -> tuple[bool, Any]:
    """Run a service; show its refusal (and each field's message) as an error message."""
    try:
        return True, action()
    except NotFound:
        raise
    except DomainError as exc:
        fields = exc.details.get("fields", {})
        text = " ".join(str(m) for msgs in fields.values() for m in msgs) if fields else ""
        messages.error(request, text or str(exc.message))
        return False, exc


# Citizens ------------------------------------------------------------------------------


@citizen_required
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    people = household_of(account=request.user)  # type: ignore[arg-type]
    if not people:
        messages.info(request, _("First create your profile."))
        return redirect("people:self_create")
    if request.method == "POST":
        person = next((p for p in people if str(p.uuid) == request.POST.get("person")), None)
        choice = request.POST.get("choice", "")
        slot = round_ = None
        if choice.startswith("slot:"):
            slot = Slot.objects.filter(uuid=_uuid_or_none(choice[5:])).first()
        elif choice.startswith("round:"):
            round_ = TestingRound.objects.filter(uuid=_uuid_or_none(choice[6:])).first()
        if person is None or (slot is None and round_ is None):
            messages.error(request, _("Choose the person and a time slot or testing round."))
        else:
            chosen = person
            ok, appointment = _attempt(
                request,
                lambda: registration.appointment_book(
                    actor=request.user, person=chosen, slot=slot, testing_round=round_
                ),
            )
            if ok:
                messages.success(request, _("The registration is saved. Show this QR code."))
                return redirect("testing:appointment", appointment_uuid=appointment.uuid)
    rounds: dict[int, TestingRound] = {}
    for person in people:
        for testing_round in selectors.rounds_for_person(person=person):
            rounds[testing_round.pk] = testing_round
    # Slots filtered by district (no script needed): the household's own district first.
    open_slots = selectors.slots_open_for_booking(limit=300)
    districts = sorted(
        {
            (s.site.commune.parent.code, s.site.commune.parent.name)
            for s in open_slots
            if s.site.commune.parent
        },
        key=lambda item: item[1],
    )
    codes = {code for code, _name in districts}
    home = next((p.commune.parent.code for p in people if p.commune and p.commune.parent), "")
    district = request.GET.get("district", home if home in codes else "")
    if district not in codes:
        district = ""
    slots = [
        s
        for s in open_slots
        if not district or (s.site.commune.parent and s.site.commune.parent.code == district)
    ][:60]
    return render(
        request,
        "testing/register.html",
        {
            "people": people,
            "slots": slots,
            "districts": districts,
            "district": district,
            "rounds": list(rounds.values()),
            "appointments": selectors.appointments_for_account(account=request.user),
        },
    )


def _uuid_or_none(value: str) -> Any:
    import uuid

    try:
        return uuid.UUID(value)
    except ValueError:
        return None


MOVE_CHOICES = 12


def _slots_to_move_to(item: Any) -> list[Slot]:
    """The other open slots of the booked slot's district, soonest first (the province's
    whole list was one select whose lines a phone cut off before the time)."""
    commune = item.slot.site.commune
    area = commune.parent or commune
    return list(selectors.slot_queryset_open(area=area).exclude(pk=item.slot_id)[:MOVE_CHOICES])


@citizen_required
@require_http_methods(["GET", "POST"])
def appointment(request: HttpRequest, appointment_uuid: str) -> HttpResponse:
    item = selectors.appointment_get_for_account(
        account=request.user, appointment_uuid=appointment_uuid
    )
    if request.method == "POST":
        if request.POST.get("action") == "cancel":
            ok, _r = _attempt(
                request,
                lambda: registration.appointment_cancel(actor=request.user, appointment=item),
            )
            if ok:
                messages.success(request, _("The appointment is cancelled."))
        elif request.POST.get("action") == "move":
            slot = Slot.objects.filter(uuid=_uuid_or_none(request.POST.get("slot", ""))).first()
            if slot is None:
                messages.error(request, _("Choose a time slot."))
            else:
                ok, _r = _attempt(
                    request,
                    lambda: registration.appointment_move(
                        actor=request.user, appointment=item, slot=slot
                    ),
                )
                if ok:
                    messages.success(request, _("The appointment is moved."))
        return redirect("testing:appointment", appointment_uuid=item.uuid)
    return render(
        request,
        "testing/appointment.html",
        {
            "appointment": item,
            "code": appointment_code_display(item.code),
            "qr_svg": qr_svg_inline(item.qr_text, title=_("Appointment QR code")),
            "slots": _slots_to_move_to(item) if item.kind == "slot" and item.slot else [],
        },
    )


@citizen_required
@require_GET
def my_results(request: HttpRequest) -> HttpResponse:
    results = selectors.results_for_account(account=request.user)
    appointments = selectors.appointments_for_account(account=request.user)
    retest_of = {a.retest_of_id: a for a in appointments if a.retest_of_id}
    rows = []
    for result in results:
        # A pool positive (or invalid) result asks for a retest until a later result of
        # the same person answers it; until then, the card links to the appointment.
        answered = (
            next(
                (
                    later
                    for later in results
                    if later.person_id == result.person_id
                    and later.collected_at > result.collected_at
                    and not later.needs_retest
                ),
                None,
            )
            if result.needs_retest
            else None
        )
        rows.append((result, answered, retest_of.get(result.pk)))
    return render(
        request,
        "testing/my_results.html",
        {
            "results": results,
            "rows": rows,
            "appointments": [a for a in appointments if a.status == "booked"],
        },
    )


def _pdf_response(result: Result) -> HttpResponse:
    response = HttpResponse(result_pdf(result), content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="ket-qua-xet-nghiem.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@citizen_required
@require_GET
def result_pdf_view(request: HttpRequest, result_uuid: str) -> HttpResponse:
    return _pdf_response(
        selectors.result_get_for_account(account=request.user, result_uuid=result_uuid)
    )


@require_http_methods(["GET", "POST"])
@reads_from_replica
def lookup(request: HttpRequest) -> HttpResponse:
    found = None
    error = ""
    downloads: dict[str, str] = {}
    typed = {"code": "", "birth": ""}
    if request.method == "POST":
        typed = {name: request.POST.get(name, "")[:40] for name in typed}
        context = request_context.current()
        try:
            found = selectors.result_lookup(
                code=typed["code"],
                birth=typed["birth"],
                client_address=context.client_address if context else None,
            )
        except DomainError as exc:
            # The lookup's own neutral answer (a wrong code and a wrong birth date alike),
            # or "too many attempts", on the same form with what was typed kept.
            error = str(exc.message)
        else:
            for result in found.results:
                downloads[str(result.uuid)] = signing.dumps(str(result.uuid), salt=LOOKUP_SALT)
    return render(
        request,
        "testing/lookup.html",
        {
            "found": found,
            "error": error,
            "typed": typed,
            "masked": masked_name(found.person_name) if found else "",
            "rows": [(r, downloads[str(r.uuid)]) for r in found.results] if found else [],
        },
    )


@require_GET
@reads_from_replica
def lookup_pdf(request: HttpRequest, token: str) -> HttpResponse:
    """The download link shown after a successful lookup: signed, valid for 30 minutes."""
    try:
        result_uuid = signing.loads(token, salt=LOOKUP_SALT, max_age=30 * 60)
    except signing.BadSignature as exc:
        raise Http404 from exc
    result = selectors.result_get_public(result_uuid=result_uuid)
    if result is None:
        raise Http404
    return _pdf_response(result)


@require_GET
def verify(request: HttpRequest, token: str) -> HttpResponse:
    from covidhub.testing.api import verification

    data = verification(token)
    outcome = dict(Result.Outcome.choices).get(data.get("outcome", ""), "")
    test = dict(TestType.choices).get(data.get("test_type", ""), "")
    return render(request, "testing/verify.html", {"data": data, "outcome": outcome, "test": test})


# Samplers ------------------------------------------------------------------------------


@staff_required(Role.SAMPLER, Role.SITE_MANAGER)
@require_http_methods(["GET", "POST"])
def sampling(request: HttpRequest) -> HttpResponse:
    actor = request.user
    if request.method == "POST":
        site = sampling_site_get(actor=actor, site_uuid=request.POST.get("site", ""))
        round_ = TestingRound.objects.filter(
            uuid=_uuid_or_none(request.POST.get("round", "") or "-")
        ).first()
        ok, session = _attempt(
            request,
            lambda: collection.session_open(
                actor=actor,
                site=site,
                testing_round=round_,
                test_type=request.POST.get("test_type", TestType.PCR),
                pool_size=_int(request.POST.get("pool_size"), 1),
            ),
        )
        if ok:
            return redirect("testing:session", session_uuid=session.uuid)
    sites = list(sampling_sites_for_actor(actor))
    rounds = list(
        TestingRound.objects.filter(sites__in=sites, ends_on__gte=timezone.localdate()).distinct()
    )
    return render(
        request,
        "testing/sampling.html",
        {
            "sites": sites,
            "rounds": rounds,
            "sessions": selectors.sessions_for_actor(actor=actor),
            "test_types": TestType.choices,
        },
    )


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _scan_message(outcome: collection.ScanOutcome) -> str:
    if outcome.kind == "tube_opened" and outcome.tube:
        return _("Tube %(barcode)s is ready: scan the people for it.") % {
            "barcode": outcome.tube.barcode
        }
    if outcome.kind == "person_waiting" and outcome.person:
        return _("%(name)s (%(year)s): now scan the tube.") % {
            "name": outcome.person.full_name,
            "year": outcome.person.birth_year,
        }
    assert outcome.tube and outcome.person
    text = _("%(name)s (%(year)s) is in tube %(barcode)s (%(count)s/%(capacity)s).") % {
        "name": outcome.person.full_name,
        "year": outcome.person.birth_year,
        "barcode": outcome.tube.barcode,
        "count": outcome.tube.member_count,
        "capacity": outcome.tube.capacity,
    }
    if outcome.tube.status == Tube.Status.CLOSED and outcome.tube.capacity > 1:
        text += " " + _("The tube is full: scan a new tube.")
    return text


@staff_required(Role.SAMPLER, Role.SITE_MANAGER)
@require_http_methods(["GET", "POST"])
def session(request: HttpRequest, session_uuid: str) -> HttpResponse:
    actor = request.user
    current = selectors.session_get_for_actor(actor=actor, session_uuid=session_uuid)
    if request.method == "POST":
        ok, outcome = _attempt(
            request,
            lambda: collection.scan_handle(
                actor=actor, session=current, text=request.POST.get("scan", "")
            ),
        )
        if ok:
            messages.success(request, _scan_message(outcome))
        return redirect("testing:session", session_uuid=current.uuid)
    current = selectors.session_get_for_actor(actor=actor, session_uuid=session_uuid)
    tubes = selectors.session_tubes(actor=actor, session=current)
    open_tube = next((t for t in tubes if t.status == Tube.Status.OPEN), None)
    return render(
        request,
        "testing/session.html",
        {
            "session": current,
            "tubes": tubes,
            "open_tube": open_tube,
            "labs": Lab.objects.order_by("name"),
            "values": TubeResult.Value.choices,
        },
    )


@staff_required(Role.SAMPLER, Role.SITE_MANAGER)
@require_POST
def session_action(request: HttpRequest, session_uuid: str) -> HttpResponse:
    """The session page's other buttons: find by identity number, close a tube, correct a
    sample, record a rapid result, hand over."""
    actor = request.user
    current = selectors.session_get_for_actor(actor=actor, session_uuid=session_uuid)
    action = request.POST.get("action", "")
    if action == "find":
        ok, person = _attempt(
            request,
            lambda: collection.person_find_by_identity(
                actor=actor, session=current, id_number=request.POST.get("id_number", "")
            ),
        )
        if ok and person is None:
            messages.error(request, _("No one is registered with this identity number."))
        elif ok:
            ok, outcome = _attempt(
                request,
                lambda: collection.person_to_tube(
                    actor=actor,
                    session=current,
                    person=person,
                    appointment=collection._booked_appointment_for(person, current),
                ),
            )
            if ok:
                messages.success(request, _scan_message(outcome))
    elif action == "close_tube":
        tube = selectors.tube_get_for_sampler(actor=actor, tube_uuid=request.POST.get("tube", ""))
        if _attempt(request, lambda: collection.tube_close(actor=actor, tube=tube))[0]:
            messages.success(request, _("The tube is closed."))
    elif action == "rapid":
        tube = selectors.tube_get_for_sampler(actor=actor, tube_uuid=request.POST.get("tube", ""))
        if _attempt(
            request,
            lambda: results.rapid_result_record(
                actor=actor, tube=tube, value=request.POST.get("value", "")
            ),
        )[0]:
            messages.success(request, _("The result is recorded and sent to the person."))
    elif action in ("remove", "move"):
        sample = selectors.sample_get_for_actor(
            actor=actor, sample_uuid=request.POST.get("sample", "")
        )
        reason = request.POST.get("reason", "")
        done = (
            _attempt(
                request,
                lambda: collection.sample_remove(actor=actor, sample=sample, reason=reason),
            )[0]
            if action == "remove"
            else _attempt(
                request,
                lambda: collection.sample_move(
                    actor=actor,
                    sample=sample,
                    barcode=request.POST.get("barcode", ""),
                    reason=reason,
                ),
            )[0]
        )
        if done:
            messages.success(request, _("The correction is saved."))
    elif action == "ship":
        lab = Lab.objects.filter(uuid=_uuid_or_none(request.POST.get("lab", ""))).first()
        if lab is None:
            messages.error(request, _("Choose the laboratory."))
        elif _attempt(
            request, lambda: collection.shipment_create(actor=actor, session=current, lab=lab)
        )[0]:
            messages.success(request, _("The tubes are handed over to %(lab)s.") % {"lab": lab})
    return redirect("testing:session", session_uuid=current.uuid)


@staff_required(Role.SAMPLER, Role.SITE_MANAGER)
@require_http_methods(["GET", "POST"])
def session_walk_in(request: HttpRequest, session_uuid: str) -> HttpResponse:
    from covidhub.people.forms import DISTRICT_FIELD, PersonForm

    actor = request.user
    current = selectors.session_get_for_actor(actor=actor, session_uuid=session_uuid)
    form = PersonForm(request.POST or None, initial={"commune": current.site.commune.code})
    for name in ("email", "address_line"):
        form.fields.pop(name, None)
    if request.method == "POST" and not form.commune_filtering:
        raw = {k: request.POST.get(k, "") for k in form.fields if k != DISTRICT_FIELD}
        ok, outcome = _attempt(
            request,
            lambda: collection.walk_in_register(actor=actor, session=current, raw=raw),
        )
        if ok:
            messages.success(request, _scan_message(outcome))
            return redirect("testing:session", session_uuid=current.uuid)
    return render(request, "testing/walk_in.html", {"form": form, "session": current})


# Laboratories --------------------------------------------------------------------------


@staff_required(Role.LAB_TECHNICIAN)
@require_GET
def lab_home(request: HttpRequest) -> HttpResponse:
    actor = request.user
    labs = []
    for lab in labs_for_actor(actor):
        labs.append(
            {
                "lab": lab,
                "shipments": selectors.shipments_for_lab(actor=actor, lab=lab)[:20],
                "amendments": selectors.amendments_pending_for_lab(actor=actor, lab=lab),
            }
        )
    return render(
        request,
        "testing/lab_home.html",
        {"labs": labs, "values": TubeResult.Value.choices},
    )


@staff_required(Role.LAB_TECHNICIAN, Role.SAMPLER, Role.SITE_MANAGER)
@require_http_methods(["GET", "POST"])
def shipment_receive_view(request: HttpRequest, shipment_uuid: str) -> HttpResponse:
    actor = request.user
    shipment = selectors.shipment_get_for_actor(actor=actor, shipment_uuid=shipment_uuid)
    is_lab = labs_for_actor(actor).filter(pk=shipment.lab_id).exists()
    if request.method == "POST" and is_lab:
        barcodes = request.POST.get("barcodes", "").split()
        if _attempt(
            request,
            lambda: results.shipment_receive(actor=actor, shipment=shipment, barcodes=barcodes),
        )[0]:
            messages.success(request, _("The shipment is received."))
        return redirect("testing:shipment", shipment_uuid=shipment.uuid)
    return render(
        request,
        "testing/shipment.html",
        {
            "shipment": shipment,
            "tubes": shipment.tubes.order_by("barcode"),
            "is_lab": is_lab,
        },
    )


@staff_required(Role.LAB_TECHNICIAN)
@require_POST
def lab_action(request: HttpRequest, lab_uuid: str) -> HttpResponse:
    actor = request.user
    lab = lab_get(actor=actor, lab_uuid=lab_uuid)
    action = request.POST.get("action", "")
    if action == "record":
        if _attempt(
            request,
            lambda: results.tube_result_record(
                actor=actor,
                lab=lab,
                barcode=request.POST.get("barcode", ""),
                value=request.POST.get("value", ""),
                ct_value=request.POST.get("ct_value", ""),
            ),
        )[0]:
            messages.success(request, _("The result is recorded and released."))
    elif action == "receive_tube":
        if _attempt(
            request,
            lambda: results.tube_receive(
                actor=actor, lab=lab, barcode=request.POST.get("barcode", "")
            ),
        )[0]:
            messages.success(request, _("The tube is received."))
    elif action == "import":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("Choose the file to import."))
        else:
            content = upload.read(imports.MAX_BYTES + 1)
            ok, batch = _attempt(
                request,
                lambda: imports.import_validate(
                    actor=actor, lab=lab, file_name=upload.name or "", content=content
                ),
            )
            if ok:
                return redirect("testing:import_detail", import_uuid=batch.uuid)
    elif action == "amend":
        tube_result = TubeResult.objects.filter(
            tube__barcode=request.POST.get("barcode", "").strip().upper(), lab=lab
        ).first()
        if tube_result is None:
            messages.error(request, _("No result of this laboratory has this tube barcode."))
        elif _attempt(
            request,
            lambda: results.amendment_request(
                actor=actor,
                tube_result=tube_result,
                new_value=request.POST.get("value", ""),
                new_ct_value=request.POST.get("ct_value", ""),
                reason=request.POST.get("reason", ""),
            ),
        )[0]:
            messages.success(request, _("The correction waits for another technician."))
    elif action in ("approve", "reject"):
        amendment = selectors.amendment_get_for_actor(
            actor=actor, amendment_uuid=request.POST.get("amendment", "")
        )
        if _attempt(
            request,
            lambda: results.amendment_decide(
                actor=actor, amendment=amendment, approve=action == "approve"
            ),
        )[0]:
            messages.success(request, _("The decision is saved."))
    return redirect("testing:lab_home")


@staff_required(Role.LAB_TECHNICIAN)
@require_http_methods(["GET", "POST"])
def import_detail(request: HttpRequest, import_uuid: str) -> HttpResponse:
    actor = request.user
    batch = selectors.import_get_for_actor(actor=actor, import_uuid=import_uuid)
    if request.method == "POST":
        choice = request.POST.get("decision")
        ok, batch_after = _attempt(
            request,
            lambda: imports.import_commit(
                actor=actor, batch=batch, import_good_rows=choice == "good_rows"
            ),
        )
        if ok:
            job = imports.import_job_of(batch_after) if choice == "good_rows" else None
            if job is not None:
                # A large file: the worker stores it; the technician watches its progress.
                return redirect("testing:import_job", job_uuid=job.uuid)
            messages.success(
                request,
                _("%(count)s tube result(s) imported.") % {"count": batch_after.imported_count}
                if choice == "good_rows"
                else _("Nothing was imported."),
            )
        return redirect("testing:import_detail", import_uuid=batch.uuid)
    bad = [(r[0], r[1], imports.reason_text(r[2])) for r in batch.bad_rows]
    return render(
        request,
        "testing/import_detail.html",
        {
            "batch": batch,
            "bad": bad,
            "good_count": len(batch.good_rows),
            "job": imports.import_job_of(batch),
        },
    )


@staff_required(Role.LAB_TECHNICIAN)
@require_GET
def import_job(request: HttpRequest, job_uuid: str) -> HttpResponse:
    """The progress of a large result file, server-rendered: it reloads itself every few
    seconds (a meta refresh, no script) until the job ends."""
    job = imports.import_job_get_for_lab_actor(actor=request.user, job_uuid=job_uuid)
    batch = ImportBatch.objects.get(uuid=job.scope)
    return render(
        request,
        "testing/import_job.html",
        {"job": job, "batch": batch, "refresh_seconds": 3},
    )


# Officers ------------------------------------------------------------------------------


@staff_required(*OFFICER_ROLES, Role.SITE_MANAGER)
@require_http_methods(["GET", "POST"])
def staff_rounds(request: HttpRequest) -> HttpResponse:
    actor = request.user
    sites = list(sites_for_actor(actor))
    if request.method == "POST" and request.POST.get("action") == "round":
        area = Area.objects.filter(code=request.POST.get("area", ""), level__in=[2, 3]).first()
        chosen = [s for s in sites if str(s.uuid) in request.POST.getlist("sites")]
        first = parse_date(request.POST.get("starts_on", ""))
        last = parse_date(request.POST.get("ends_on", ""))
        if area is None or first is None or last is None:
            messages.error(request, _("Choose the area and enter the dates as YYYY-MM-DD."))
            return redirect("testing:staff_rounds")
        round_area, first_day, last_day = area, first, last
        if _attempt(
            request,
            lambda: registration.round_create(
                actor=actor,
                name=request.POST.get("name", ""),
                area=round_area,
                sites=chosen,
                starts_on=first_day,
                ends_on=last_day,
                test_type=request.POST.get("test_type", ""),
                pool_size=_int(request.POST.get("pool_size"), 0),
                streets=request.POST.get("streets", ""),
            ),
        )[0]:
            messages.success(request, _("The testing round is created."))
            return redirect("testing:staff_rounds")
    elif request.method == "POST" and request.POST.get("action") == "slot":
        site = next((s for s in sites if str(s.uuid) == request.POST.get("site")), None)
        starts = _local_datetime(request.POST.get("starts_at", ""))
        hours = _int(request.POST.get("hours"), 2)
        if site is None or starts is None:
            messages.error(request, _("Choose the site and enter the start time."))
        elif _attempt(
            request,
            lambda: registration.slot_create(
                actor=actor,
                site=site,
                starts_at=starts,
                ends_at=starts + datetime.timedelta(hours=max(1, hours)),
                capacity=_int(request.POST.get("capacity"), 0),
                test_type=request.POST.get("test_type", TestType.PCR),
            ),
        )[0]:
            messages.success(request, _("The time slot is open for registration."))
            return redirect("testing:staff_rounds")
    scope = actor_scope(actor)
    areas = [
        a
        for a in Area.objects.filter(level__in=[2, 3], dissolved_on__isnull=True).order_by("path")
        if scope.covers_path(a.path)
    ][:500]
    return render(
        request,
        "testing/staff_rounds.html",
        {
            "rounds": selectors.rounds_for_actor(actor=actor),
            "sites": sites,
            "areas": areas,
            "test_types": TestType.choices,
            "is_officer": scope.has_role(*OFFICER_ROLES),
        },
    )


def _local_datetime(text: str) -> datetime.datetime | None:
    value = parse_datetime(text.strip()) if text else None
    if value is None:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


@staff_required(*OFFICER_ROLES)
@require_GET
@reads_from_replica
def board(request: HttpRequest) -> HttpResponse:
    late_hours = max(1, min(_int(request.GET.get("late_hours"), 24), 240))
    days = max(1, min(_int(request.GET.get("days"), 7), 60))
    rows = selectors.turnaround_board(
        actor=request.user,
        since=timezone.now() - datetime.timedelta(days=days),
        late_hours=late_hours,
    )
    return render(
        request, "testing/board.html", {"rows": rows, "late_hours": late_hours, "days": days}
    )


@staff_required(*OFFICER_ROLES)
@require_GET
def staff_cases(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "testing/cases.html",
        {"cases": selectors.case_reports_for_actor(actor=request.user)},
    )


@staff_required(*OFFICER_ROLES)
@require_GET
def staff_case(request: HttpRequest, case_uuid: str) -> HttpResponse:
    report = selectors.case_report_get_for_actor(actor=request.user, case_uuid=case_uuid)
    return render(request, "testing/case.html", {"case": report})
