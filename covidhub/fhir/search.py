"""Search parameters: parsing the query string into filters, strictly.

A parameter the resource type does not support, a malformed date or count is a 400 with
an OperationOutcome (never silently ignored: a client that filters by a parameter we do not
know would otherwise receive every record). Values separated by commas are alternatives
(OR), a repeated parameter narrows (AND), as in the FHIR search specification.
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from covidhub.fhir.errors import BadRequest

# Accepted on every interaction, without effect on the result set.
FORMAT_PARAMS = frozenset({"_format", "_pretty"})
PAGING_PARAMS = frozenset({"_count", "_offset"})
COUNT_DEFAULT = 50
COUNT_MAX = 200
OFFSET_MAX = 100_000

_DATE = re.compile(
    r"^(?P<prefix>eq|lt|le|gt|ge)?"
    r"(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d+)?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


@dataclass(frozen=True)
class Paging:
    count: int
    offset: int


def paging_parse(params: QueryDict) -> Paging:
    count = _int_param(params, "_count", COUNT_DEFAULT, low=1)
    offset = _int_param(params, "_offset", 0, low=0)
    if offset > OFFSET_MAX:
        raise BadRequest(
            _("Paging stops at %(max)s results: narrow the search (date, _lastUpdated).")
            % {"max": OFFSET_MAX}
        )
    return Paging(count=min(count, COUNT_MAX), offset=offset)


def _int_param(params: QueryDict, name: str, default: int, *, low: int) -> int:
    values = params.getlist(name)
    if not values:
        return default
    if len(values) > 1 or not re.fullmatch(r"\d{1,7}", values[-1]):
        raise BadRequest(_("%(name)s must be a whole number.") % {"name": name})
    value = int(values[-1])
    if value < low:
        raise BadRequest(_("%(name)s must be at least %(low)s.") % {"name": name, "low": low})
    return value


def unknown_params_refuse(params: QueryDict, supported: frozenset[str]) -> None:
    allowed = supported | FORMAT_PARAMS | PAGING_PARAMS
    unknown = sorted(name for name in params if name not in allowed)
    if unknown:
        raise BadRequest(
            _("Unknown or unsupported search parameter: %(names)s. Supported: %(supported)s.")
            % {"names": ", ".join(unknown), "supported": ", ".join(sorted(supported))}
        )


def _alternatives(value: str) -> list[str]:
    parts = [part.strip() for part in value.split(",")]
    if not all(parts):
        raise BadRequest(_("A search value is empty."))
    return parts


def combine(params: QueryDict, name: str, one: Callable[[str], Q]) -> Q:
    """AND over repeated parameters, OR over comma-separated values."""
    q = Q()
    for value in params.getlist(name):
        alternatives = Q(pk__in=[])
        for part in _alternatives(value):
            alternatives |= one(part)
        q &= alternatives
    return q


# Dates -------------------------------------------------------------------------------


def _range(text: str) -> tuple[str, datetime.datetime, datetime.datetime]:
    """(prefix, start, end) of a FHIR date/dateTime value: the instant interval it names."""
    match = _DATE.match(text)
    if not match:
        raise BadRequest(
            _("Not a FHIR date: %(value)s (use e.g. 2021-08-01 or ge2021-08-01T07:00:00+07:00).")
            % {"value": text[:40]}
        )
    g = match.groupdict()
    prefix = g["prefix"] or "eq"
    tz: datetime.tzinfo = timezone.get_current_timezone()
    if g["tz"]:
        tz = (
            datetime.UTC
            if g["tz"] == "Z"
            else datetime.timezone(
                datetime.timedelta(hours=int(g["tz"][1:3]), minutes=int(g["tz"][4:6]))
                * (-1 if g["tz"][0] == "-" else 1)
            )
        )
    year = int(g["year"])
    try:
        if g["month"] is None:
            start = datetime.datetime(year, 1, 1, tzinfo=tz)
            end = datetime.datetime(year + 1, 1, 1, tzinfo=tz)
        elif g["day"] is None:
            month = int(g["month"])
            start = datetime.datetime(year, month, 1, tzinfo=tz)
            end = datetime.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
        elif g["hour"] is None:
            start = datetime.datetime(year, int(g["month"]), int(g["day"]), tzinfo=tz)
            end = start + datetime.timedelta(days=1)
        else:
            second = int(g["second"]) if g["second"] else 0
            start = datetime.datetime(
                year,
                int(g["month"]),
                int(g["day"]),
                int(g["hour"]),
                int(g["minute"]),
                second,
                tzinfo=tz,
            )
            end = start + datetime.timedelta(seconds=1 if g["second"] else 60)
    except (ValueError, OverflowError) as exc:
        raise BadRequest(_("Not a FHIR date: %(value)s") % {"value": text[:40]}) from exc
    return prefix, start, end


def instant_parse(text: str) -> datetime.datetime:
    """A FHIR instant for `_since`: the start of the interval the value names."""
    if not text[:1].isdigit():
        raise BadRequest(_("_since takes a plain instant, without a prefix."))
    return _range(text)[1]


def date_q(field: str, *, as_date: bool = False) -> Callable[[str], Q]:
    """A filter for one date value on `field` (a DateTimeField, or a DateField)."""

    def one(text: str) -> Q:
        prefix, start, end = _range(text)
        low: datetime.date | datetime.datetime = start
        high: datetime.date | datetime.datetime = end
        if as_date:
            low, high = start.date(), end.date()
        return {
            "eq": Q(**{f"{field}__gte": low, f"{field}__lt": high}),
            "lt": Q(**{f"{field}__lt": low}),
            "le": Q(**{f"{field}__lt": high}),
            "gt": Q(**{f"{field}__gte": high}),
            "ge": Q(**{f"{field}__gte": low}),
        }[prefix]

    return one


# References and tokens -----------------------------------------------------------------


def reference_uuid(text: str, resource_type: str) -> uuid.UUID | None:
    """The UUID of `Patient/<id>` or `<id>`; None for anything else (matches nothing)."""
    value = text.strip()
    if "/" in value:
        kind, _sep, value = value.rpartition("/")
        if kind.rsplit("/", 1)[-1] != resource_type:
            return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def uuid_q(field: str, resource_type: str) -> Callable[[str], Q]:
    def one(text: str) -> Q:
        key = reference_uuid(text, resource_type)
        return Q(**{field: key}) if key is not None else Q(pk__in=[])

    return one


def token_split(text: str) -> tuple[str | None, str]:
    """`system|code` → (system, code); `code` → (None, code); `|code` → ("", code)."""
    if "|" in text:
        system, _sep, code = text.partition("|")
        return system, code
    return None, text
