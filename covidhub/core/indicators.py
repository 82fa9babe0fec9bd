"""Per-person indicators that capabilities publish for aggregate reports.

A capability registers, in its `AppConfig.ready()`, a function that answers one yes/no
question about many people at once ("has declared in the last 14 days", "has had a test",
"has at least one dose"): it takes a set of `Person` primary keys and returns the subset
that satisfies it, in one set-based query. Reports that may show only aggregates (the
adoption capability's agency reports) call every registered function and count, so that
they read health facts through the owning capability without importing its models, and
the capability does not know who asks.

Names are stable strings: "declared", "tested", "vaccinated".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise

PersonIndicatorFn = Callable[[set[int]], set[int]]


@dataclass(frozen=True)
class PersonIndicator:
    name: str
    label: str | Promise
    fn: PersonIndicatorFn
    order: int = 100


_indicators: dict[str, PersonIndicator] = {}


def register_person_indicator(
    name: str, fn: PersonIndicatorFn, *, label: str | Promise = "", order: int = 100
) -> None:
    """Register (or replace) the indicator `name`; `fn(person_ids) -> satisfying ids`."""
    _indicators[name] = PersonIndicator(name=name, label=label or name, fn=fn, order=order)


def unregister_person_indicator(name: str) -> None:
    _indicators.pop(name, None)


def person_indicators() -> list[PersonIndicator]:
    return sorted(_indicators.values(), key=lambda i: (i.order, i.name))
