"""Stock: lots received into a store, allocated to sites, used by doses, wasted."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from covidhub.accounts.scoping import actor_scope, area_path_q
from covidhub.areas.models import Area
from covidhub.core.dates import date_text
from covidhub.core.errors import InvalidInput, NotFound
from covidhub.vaccination.errors import LotUnusable, StockShort
from covidhub.vaccination.models import (
    LotAllocation,
    StockWastage,
    VaccinationSite,
    Vaccine,
    VaccineLot,
)
from covidhub.vaccination.scoping import PLANNER_ROLES, SITE_ROLES, site_q
from covidhub.vaccination.services.common import audit


def _fields_error(**fields: str) -> InvalidInput:
    return InvalidInput(details={"fields": {k: [v] for k, v in fields.items()}})


def _store_allowed(actor: Any, area: Area) -> bool:
    scope = actor_scope(actor)
    return scope.has_role(*PLANNER_ROLES) and scope.covers_path(area.path)


@transaction.atomic
def lot_receive(
    *,
    actor: Any,
    vaccine: Vaccine,
    number: str,
    expiry_date: datetime.date,
    doses: int,
    store_area: Area,
    received_on: datetime.date | None = None,
) -> VaccineLot:
    """Receive a lot into a province or district store in the actor's area."""
    number = (number or "").strip().upper()
    errors: dict[str, str] = {}
    if not number or len(number) > 40:
        errors["number"] = _("Enter the lot number (up to 40 characters).")
    if doses < 1 or doses > 10_000_000:
        errors["doses"] = _("Enter the number of doses received (at least 1).")
    today = timezone.localdate()
    if expiry_date < today:
        errors["expiry_date"] = _("This lot has already expired; it cannot be received.")
    if store_area.level not in (Area.Level.PROVINCE, Area.Level.DISTRICT):
        errors["store_area"] = _("Lots are held by the province or a district.")
    elif not _store_allowed(actor, store_area):
        raise NotFound()
    if not vaccine.active:
        errors["vaccine"] = _("This vaccine is no longer in use.")
    if errors:
        raise _fields_error(**errors)
    if VaccineLot.objects.filter(vaccine=vaccine, number=number).exists():
        raise _fields_error(number=_("This lot number is already recorded for this vaccine."))
    try:
        with transaction.atomic():
            lot = VaccineLot.objects.create(
                vaccine=vaccine,
                number=number,
                expiry_date=expiry_date,
                doses_received=doses,
                store_area=store_area,
                store_path=store_area.path,
                received_on=received_on or today,
                received_by=actor,
            )
    except IntegrityError as exc:
        raise _fields_error(
            number=_("This lot number is already recorded for this vaccine.")
        ) from exc
    audit(actor, "vaccination.lot.received", lot, details={"doses": doses})
    return lot


@transaction.atomic
def lot_allocate(
    *, actor: Any, lot: VaccineLot, site: VaccinationSite, doses: int
) -> LotAllocation:
    """Allocate doses of a lot to a site inside the store's area (the lot row is locked)."""
    if doses < 1:
        raise _fields_error(doses=_("Enter the number of doses to allocate (at least 1)."))
    locked = VaccineLot.objects.select_for_update().filter(pk=lot.pk).first()
    if locked is None or not _store_allowed(actor, locked.store_area):
        raise NotFound()
    if not site.commune_path.startswith(locked.store_path):
        raise _fields_error(site=_("This site is outside the area of the lot's store."))
    if locked.is_expired(timezone.localdate()):
        raise LotUnusable(_("Lot %(number)s expired on %(date)s.") % _lot_args(locked))
    left = locked.doses_received - locked.doses_allocated
    if doses > left:
        raise StockShort(
            _("Only %(left)s doses of lot %(number)s are left to allocate.")
            % {"left": left, "number": locked.number}
        )
    allocation, _created = LotAllocation.objects.get_or_create(lot=locked, site=site)
    LotAllocation.objects.filter(pk=allocation.pk).update(
        doses_allocated=F("doses_allocated") + doses, updated_at=timezone.now()
    )
    VaccineLot.objects.filter(pk=locked.pk).update(
        doses_allocated=F("doses_allocated") + doses, updated_at=timezone.now()
    )
    allocation.refresh_from_db()
    audit(actor, "vaccination.lot.allocated", allocation, details={"doses": doses})
    return allocation


def _lot_args(lot: VaccineLot) -> dict[str, str]:
    return {"number": lot.number, "date": date_text(lot.expiry_date)}


def allocation_take(*, allocation: LotAllocation, day: datetime.date) -> None:
    """Take one dose from an allocation, or refuse an expired or exhausted lot.

    One conditional UPDATE: concurrent doses from the same lot never overdraw it.
    """
    if allocation.lot.is_expired(day):
        allocation_taken_check(allocation=allocation, day=day, taken=False)
    # Hand-written (portable) SQL: every injection of a site runs it, on one row.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {connection.ops.quote_name(LotAllocation._meta.db_table)} "  # noqa: S608 - a table name from model metadata
            "SET doses_used = doses_used + 1 "
            "WHERE id = %s AND doses_used < doses_allocated - doses_wasted",
            [allocation.pk],
        )
        taken = cursor.rowcount
    allocation_taken_check(allocation=allocation, day=day, taken=bool(taken))


def allocation_taken_check(*, allocation: LotAllocation, day: datetime.date, taken: bool) -> None:
    """Refuse an expired lot, or an allocation that had no dose left to take (`taken`
    False), as `allocation_take` does; the caller's transaction is then rolled back."""
    lot = allocation.lot
    if lot.is_expired(day):
        raise LotUnusable(
            _("Lot %(number)s expired on %(date)s; it cannot be used.") % _lot_args(lot)
        )
    if not taken:
        raise LotUnusable(
            _("Lot %(number)s has no doses left at this site.") % {"number": lot.number}
        )


def allocation_return(*, allocation: LotAllocation) -> None:
    """Give a dose back (its record was voided as an entry error)."""
    LotAllocation.objects.filter(pk=allocation.pk, doses_used__gt=0).update(
        doses_used=F("doses_used") - 1
    )


def allocation_for_site(*, actor: Any, site: VaccinationSite, lot_uuid: Any) -> LotAllocation:
    """The allocation of a lot at a site the actor works at, or NotFound."""
    allocation = (
        LotAllocation.objects.filter(site_q(actor, prefix="site__"))
        .select_related("lot__vaccine", "site")
        .filter(site=site, lot__uuid=lot_uuid)
        .first()
    )
    if allocation is None:
        raise NotFound(_("This lot is not allocated to this site."))
    return allocation


@transaction.atomic
def wastage_record(
    *, actor: Any, allocation: LotAllocation, doses: int, reason: str
) -> StockWastage:
    """Record doses lost at a site (an opened vial's leftover, a broken vial, …)."""
    if not (
        actor_scope(actor).has_role(*SITE_ROLES, *PLANNER_ROLES)
        and LotAllocation.objects.filter(site_q(actor, prefix="site__"), pk=allocation.pk).exists()
    ):
        raise NotFound()
    errors: dict[str, str] = {}
    if doses < 1:
        errors["doses"] = _("Enter the number of doses wasted (at least 1).")
    if reason not in StockWastage.Reason.values:
        errors["reason"] = _("Choose the reason.")
    if reason == StockWastage.Reason.OPENED_VIAL and doses >= allocation.lot.vaccine.doses_per_vial:
        errors["doses"] = _("An opened vial holds fewer than %(n)s unused doses.") % {
            "n": allocation.lot.vaccine.doses_per_vial
        }
    if errors:
        raise _fields_error(**errors)
    taken = LotAllocation.objects.filter(
        pk=allocation.pk,
        doses_used__lte=F("doses_allocated") - F("doses_wasted") - doses,
    ).update(doses_wasted=F("doses_wasted") + doses, updated_at=timezone.now())
    if not taken:
        raise StockShort(_("More doses than are left at this site."))
    wastage = StockWastage.objects.create(
        allocation=allocation, doses=doses, reason=reason, recorded_by=actor
    )
    audit(actor, "vaccination.stock.wasted", allocation, details={"doses": doses, "reason": reason})
    return wastage


def stores_for_actor(actor: Any) -> list[Area]:
    scope = actor_scope(actor)
    return list(
        Area.objects.filter(
            area_path_q(scope, "path", roles=PLANNER_ROLES),
            level__in=(Area.Level.PROVINCE, Area.Level.DISTRICT),
        )
    )
