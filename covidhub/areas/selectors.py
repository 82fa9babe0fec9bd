"""Reads of the area tree."""

from __future__ import annotations

import datetime

from django.db.models import Q, QuerySet

from covidhub.areas.models import Area
from covidhub.core.localcache import LocalCache
from covidhub.core.text import fold_ascii


def area_subtree(*, area: Area, include_self: bool = True) -> QuerySet[Area]:
    qs = Area.objects.filter(path__startswith=area.path)
    return qs if include_self else qs.exclude(pk=area.pk)


def area_list_valid_on(*, day: datetime.date) -> QuerySet[Area]:
    return Area.objects.filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=day),
        Q(dissolved_on__isnull=True) | Q(dissolved_on__gt=day),
    )


def area_search(*, query: str, level: int | None = None, limit: int | None = 20) -> QuerySet[Area]:
    """Accent-insensitive search: 'cam thuong' finds 'Phường Cẩm Thượng'. `limit=None`:
    every match, for a caller that pages."""
    qs = Area.objects.filter(dissolved_on__isnull=True)
    if level is not None:
        qs = qs.filter(level=level)
    folded = fold_ascii(query)
    if folded:
        qs = qs.filter(search_name__contains=folded)
    qs = qs.select_related("parent")
    return qs if limit is None else qs[:limit]


def area_current(*, area: Area) -> Area:
    """Follow the succession chain of a dissolved unit to the unit that carries it today."""
    seen = {area.pk}
    while area.successor_id is not None and area.successor_id not in seen:
        seen.add(area.successor_id)
        area = Area.objects.get(pk=area.successor_id)
    return area


def communes_of(*, parent: Area) -> QuerySet[Area]:
    return Area.objects.filter(
        path__startswith=parent.path, level=Area.Level.COMMUNE, dissolved_on__isnull=True
    )


_communes_by_code: LocalCache[Area] = LocalCache("areas.commune_by_code", ttl_seconds=300)


def commune_by_code(code: str) -> Area | None:
    """The commune with this official code (reference data, cached per process for five
    minutes and cleared when an area is saved here)."""
    code = code.strip()
    if not code:
        return None
    return _communes_by_code.get_or_load(
        code, lambda: Area.objects.filter(code=code, level=Area.Level.COMMUNE).first()
    )


_provinces_by_code: LocalCache[Area] = LocalCache("areas.province_by_code", ttl_seconds=300)


def province_of_path(path: str) -> Area | None:
    """The province at the top of a materialised path ("30/288/10507/" → Hải Dương),
    cached per process like `commune_by_code`."""
    code = path.split("/", 1)[0]
    if not code:
        return None
    return _provinces_by_code.get_or_load(
        code, lambda: Area.objects.filter(code=code, level=Area.Level.PROVINCE).first()
    )


def areas_cache_clear(*args: object, **kwargs: object) -> None:
    """After the tree changed in this process (loader, dissolution, admin)."""
    _communes_by_code.clear()
    _provinces_by_code.clear()
