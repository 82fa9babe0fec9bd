"""The provinces a deployment serves (`settings.PROVINCES`, from `COVIDHUB_PROVINCES`).

The tree may hold more of the country than a deployment serves (a list loaded once for
the whole country, a province that stopped being served): these helpers are the one place
that says which part of it people may register in, the portal publishes and a national
officer sees. A province's path is its code and a slash ("30/"), so every rule here is a
prefix of the materialised path, answered by the path index without a join.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from covidhub.areas.models import Area


def served_province_codes() -> tuple[str, ...]:
    """The served provinces' official codes, in the order of the setting."""
    return tuple(settings.PROVINCES)


def home_province_code() -> str:
    """The first served province: the portal's home page, and the province that takes the
    figures whose commune is not known."""
    return served_province_codes()[0]


def served_paths() -> tuple[str, ...]:
    return tuple(f"{code}/" for code in served_province_codes())


def is_served(area: Area) -> bool:
    return area.path.startswith(served_paths())


def served_q(field_name: str = "path") -> Q:
    """Rows whose materialised-path field lies in a served province."""
    q = Q(pk__in=[])
    for path in served_paths():
        q |= Q(**{f"{field_name}__startswith": path})
    return q


def served_provinces() -> list[Area]:
    """The served provinces that are loaded, in the order of the setting."""
    order = {code: n for n, code in enumerate(served_province_codes())}
    found = Area.objects.filter(level=Area.Level.PROVINCE, code__in=list(order))
    return sorted(found, key=lambda area: order[area.code])


def served_communes() -> QuerySet[Area]:
    return Area.objects.filter(served_q(), level=Area.Level.COMMUNE, dissolved_on__isnull=True)


def commune_refusal(commune: Area) -> str | None:
    """Why a commune cannot be chosen as a place of residence, stay or business (None: it
    can). The one rule for every form, API body and import that names a commune."""
    if commune.dissolved_on is not None:
        return _("This commune no longer exists; choose the one it merged into.")
    if not is_served(commune):
        return _("This commune is in a province that this platform does not serve.")
    return None
