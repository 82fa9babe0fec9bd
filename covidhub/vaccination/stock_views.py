"""Vaccine stock for planners (district and province officers): receive a lot into a store
of their area and allocate its doses to the sites. The same services as the API; until
now these were API-only, so no one could do them from the web."""

from __future__ import annotations

from typing import Any

from django import forms as djforms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from covidhub.accounts.decorators import staff_required
from covidhub.accounts.scoping import actor_scope, area_path_q
from covidhub.core.errors import DomainError, NotFound
from covidhub.vaccination import services
from covidhub.vaccination.models import Vaccine, VaccineLot
from covidhub.vaccination.scoping import PLANNER_ROLES, sites_for_actor
from covidhub.vaccination.services.stock import stores_for_actor


class ReceiveForm(djforms.Form):
    vaccine = djforms.ModelChoiceField(
        label=gettext_lazy("Vaccine"), queryset=Vaccine.objects.filter(active=True)
    )
    number = djforms.CharField(label=gettext_lazy("Lot number"), max_length=40)
    expiry_date = djforms.DateField(
        label=gettext_lazy("Expiry date"), widget=djforms.DateInput(attrs={"type": "date"})
    )
    doses = djforms.IntegerField(label=gettext_lazy("Doses received"), min_value=1)
    store = djforms.ChoiceField(label=gettext_lazy("Store"))


def lots_for_actor(actor: Any) -> list[VaccineLot]:
    """The lots held in the stores of the actor's area (planners only)."""
    scope = actor_scope(actor)
    return list(
        VaccineLot.objects.filter(area_path_q(scope, "store_path", roles=PLANNER_ROLES))
        .select_related("vaccine", "store_area")
        .order_by("expiry_date", "number")[:200]
    )


def _error_text(exc: DomainError) -> str:
    fields = exc.details.get("fields", {})
    return " ".join(str(m) for msgs in fields.values() for m in msgs) or str(exc.message)


@staff_required(*PLANNER_ROLES)
@require_http_methods(["GET", "POST"])
def staff_stock(request: HttpRequest) -> HttpResponse:
    actor = request.user
    stores = stores_for_actor(actor)
    form = ReceiveForm(request.POST if request.POST.get("action") == "receive" else None)
    form.fields["store"].choices = [(a.code, a.name) for a in stores]  # type: ignore[attr-defined]
    if request.method == "POST":
        try:
            if request.POST.get("action") == "receive":
                if form.is_valid():
                    store = next(a for a in stores if a.code == form.cleaned_data["store"])
                    lot = services.lot_receive(
                        actor=actor,
                        vaccine=form.cleaned_data["vaccine"],
                        number=form.cleaned_data["number"],
                        expiry_date=form.cleaned_data["expiry_date"],
                        doses=form.cleaned_data["doses"],
                        store_area=store,
                    )
                    messages.success(
                        request, _("Lot %(number)s received.") % {"number": lot.number}
                    )
                    return redirect("vaccination:staff_stock")
            else:
                chosen = next(
                    (x for x in lots_for_actor(actor) if str(x.uuid) == request.POST.get("lot")),
                    None,
                )
                site = (
                    sites_for_actor(actor, roles=PLANNER_ROLES)
                    .filter(uuid__in=[_uuid_text(request.POST.get("site"))])
                    .first()
                )
                if chosen is None or site is None:
                    raise NotFound()
                try:
                    doses = int(request.POST.get("doses", ""))
                except ValueError:
                    doses = 0
                services.lot_allocate(actor=actor, lot=chosen, site=site, doses=doses)
                messages.success(
                    request,
                    _("%(doses)s doses of lot %(number)s allocated to %(site)s.")
                    % {"doses": doses, "number": chosen.number, "site": site.name},
                )
                return redirect("vaccination:staff_stock")
        except NotFound:
            raise
        except DomainError as exc:
            messages.error(request, _error_text(exc))
    return render(
        request,
        "vaccination/stock.html",
        {
            "form": form,
            "lots": lots_for_actor(actor),
            "sites": list(sites_for_actor(actor, roles=PLANNER_ROLES).order_by("name")),
        },
    )


def _uuid_text(value: Any) -> str:
    import uuid

    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return "00000000-0000-0000-0000-000000000000"
