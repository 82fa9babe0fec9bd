"""Writes to the area tree: loading official lists, dissolution and succession."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from covidhub.areas.models import Area
from covidhub.core.errors import InvalidInput
from covidhub.core.text import fold_ascii, nfc


@dataclass(frozen=True)
class UnitRow:
    """One unit of an official list, at any level, with its parent's code."""

    level: int
    code: str
    name: str
    division_type: str = ""
    parent_code: str | None = None


@dataclass
class LoadReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dissolved: int = 0
    errors: list[str] = field(default_factory=list)


def _path_for(parent: Area | None, code: str) -> str:
    return f"{parent.path if parent else ''}{code}/"


@transaction.atomic
def area_tree_load(
    *,
    rows: list[UnitRow],
    valid_from: datetime.date | None = None,
    dissolve_missing_in: set[str] | None = None,
) -> LoadReport:
    """Create or update the units of an official list; running it again changes nothing.

    With `dissolve_missing_in` (province codes), active units below those provinces which the list does not name are marked dissolved on
    `valid_from`: the list describes the units valid from that date.
    """
    report = LoadReport()
    by_key: dict[tuple[int, str], Area] = {
        (a.level, a.code): a for a in Area.objects.select_for_update().all()
    }
    seen: set[tuple[int, str]] = set()
    for row in sorted(rows, key=lambda r: r.level):
        parent = None
        if row.level > Area.Level.PROVINCE:
            parent = by_key.get((row.level - 1, row.parent_code or ""))
            if parent is None:
                report.errors.append(
                    _("Unit %(code)s: its parent %(parent)s is not known.")
                    % {"code": row.code, "parent": row.parent_code}
                )
                continue
        name = nfc(row.name)
        wanted = {
            "name": name,
            "division_type": row.division_type,
            "search_name": fold_ascii(name),
            "parent": parent,
            "path": _path_for(parent, row.code),
        }
        key = (row.level, row.code)
        seen.add(key)
        existing = by_key.get(key)
        if existing is None:
            area = Area.objects.create(
                level=row.level, code=row.code, valid_from=valid_from, **wanted
            )
            by_key[key] = area
            report.created += 1
            continue
        changed = [name for name, value in wanted.items() if getattr(existing, name) != value]
        if existing.dissolved_on is not None and (
            valid_from is None or valid_from < existing.dissolved_on
        ):
            # The list names it as valid again (or an older list is loaded): revive it.
            existing.dissolved_on = None
            existing.successor = None
            changed += ["dissolved_on", "successor"]
        if changed:
            for name in changed:
                if name in wanted:
                    setattr(existing, name, wanted[name])
            existing.save()
            report.updated += 1
        else:
            report.unchanged += 1
    for province_code in sorted(dissolve_missing_in or ()):
        if valid_from is None:
            raise InvalidInput(_("A date is needed to dissolve the units a list does not name."))
        province = by_key.get((Area.Level.PROVINCE, province_code))
        if province is not None:
            for area in Area.objects.filter(
                path__startswith=province.path, dissolved_on__isnull=True
            ):
                if (area.level, area.code) not in seen:
                    area.dissolved_on = valid_from
                    area.save(update_fields=["dissolved_on", "updated_at"])
                    report.dissolved += 1
    if report.errors:
        # Nothing half-loaded: the transaction rolls back.
        raise InvalidInput(
            _("The list has errors; nothing was loaded."), details={"rows": report.errors}
        )
    return report


@transaction.atomic
def area_dissolve(*, area: Area, successor: Area | None, on: datetime.date) -> Area:
    """Mark a unit dissolved (merged into `successor`); records that point at it stay valid."""
    if successor is not None:
        if successor.pk == area.pk:
            raise InvalidInput(_("A unit cannot succeed itself."))
        if successor.level != area.level:
            raise InvalidInput(_("The successor must be a unit of the same level."))
        if successor.dissolved_on is not None:
            raise InvalidInput(_("The successor is itself dissolved."))
    area.dissolved_on = on
    area.successor = successor
    area.save(update_fields=["dissolved_on", "successor", "updated_at"])
    return area
