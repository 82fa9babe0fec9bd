"""A person's current health measures — a confirmed case, an isolation, a positive pool
awaiting the individual retest — from whichever capability records them.

The status card rules (certificates) decide what each measure means for the colour and at
a checkpoint; the capabilities that know register a provider here (declarations: confirmed
cases and isolation from the follow-up calls; testing: pool-positive results; homecare: home
care and quarantine orders, and the releases that lift measures), so that the card does not
import them and they do not know about the card.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from covidhub.people.models import Person

CONFIRMED_CASE: Final = "confirmed_case"
ISOLATING: Final = "isolating"
AWAITING_RETEST: Final = "awaiting_retest"
# The most serious first: the status rules try them in this order.
HEALTH_MEASURES: Final = (CONFIRMED_CASE, ISOLATING, AWAITING_RETEST)
# No rule may keep a measure in force longer than this (the rules' day limits).
LONGEST_DAYS: Final = 60

# people → {person id: {measure: the latest day it started}}, for measures that started
# on or after `since`; people without a measure are left out.
HealthProvider = Callable[["QuerySet[Person]", datetime.date], dict[int, dict[str, datetime.date]]]
_providers: dict[str, HealthProvider] = {}
# people → {person id: the day their measures were lifted}, for releases on or after
# `since`: a release (the end of home care) lifts every measure that started on or before
# it, whichever capability recorded the measure.
HealthRelease = Callable[["QuerySet[Person]", datetime.date], dict[int, datetime.date]]
_releases: dict[str, HealthRelease] = {}


def register_health_provider(name: str, provider: HealthProvider) -> None:
    _providers[name] = provider


def register_health_release(name: str, release: HealthRelease) -> None:
    _releases[name] = release


def health_measures_for(
    people: QuerySet[Person], *, since: datetime.date
) -> dict[int, dict[str, datetime.date]]:
    """The measures of `people` that started on or after `since`, the latest start of each."""
    merged: dict[int, dict[str, datetime.date]] = {}
    for provider in _providers.values():
        for person_id, measures in provider(people, since).items():
            known = merged.setdefault(person_id, {})
            for measure, started in measures.items():
                if measure not in known or started > known[measure]:
                    known[measure] = started
    lifted: dict[int, datetime.date] = {}
    for release in _releases.values():
        for person_id, day in release(people, since).items():
            if person_id not in lifted or day > lifted[person_id]:
                lifted[person_id] = day
    for person_id, day in lifted.items():
        held = merged.get(person_id)
        if held is None:
            continue
        for measure in [m for m, started in held.items() if started <= day]:
            del held[measure]
        if not held:
            del merged[person_id]
    return merged
