"""The vaccines' rules as pure functions: which dose comes next, when, and whether a given
dose is allowed. Services call these with the person's valid doses, in order."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils.translation import gettext as _

from covidhub.core.dates import date_text
from covidhub.vaccination.errors import AgeNotAllowed, SeriesComplete, TooEarly, WrongVaccine
from covidhub.vaccination.models import Dose, Vaccine


@dataclass(frozen=True)
class DoseFact:
    vaccine: Vaccine
    series: str
    dose_number: int
    day: datetime.date


@dataclass(frozen=True)
class NextDose:
    """The next dose a person should have; `series == ""` when nothing more is due."""

    series: str
    dose_number: int
    sequence: int
    vaccine: Vaccine | None  # the vaccine the primary series must continue with
    earliest_on: datetime.date | None
    due_on: datetime.date | None

    @property
    def complete(self) -> bool:
        return self.series == ""

    @property
    def completes_primary(self) -> bool:
        return (
            self.series == Dose.Series.PRIMARY
            and self.vaccine is not None
            and self.dose_number == self.vaccine.primary_doses
        )


def next_dose(doses: list[DoseFact]) -> NextDose:
    """The next dose after `doses` (valid doses in order) by the series vaccine's rules."""
    if not doses:
        return NextDose(Dose.Series.PRIMARY, 1, 1, None, None, None)
    first = doses[0].vaccine
    primary = [d for d in doses if d.series == Dose.Series.PRIMARY]
    boosters = [d for d in doses if d.series == Dose.Series.BOOSTER]
    last = doses[-1]
    sequence = len(doses) + 1
    if len(primary) < first.primary_doses:
        return NextDose(
            Dose.Series.PRIMARY,
            len(primary) + 1,
            sequence,
            first,
            last.day + datetime.timedelta(days=first.min_interval_days),
            last.day + datetime.timedelta(days=first.recommended_interval_days),
        )
    if len(boosters) < first.boosters_max:
        earliest = last.day + datetime.timedelta(days=last.vaccine.booster_interval_days)
        return NextDose(Dose.Series.BOOSTER, len(boosters) + 1, sequence, None, earliest, earliest)
    return NextDose("", 0, sequence, None, None, None)


def age_check(*, vaccine: Vaccine, age: int) -> None:
    if age < vaccine.min_age or (vaccine.max_age is not None and age > vaccine.max_age):
        if vaccine.max_age is None:
            limits = _("%(min)s years and over") % {"min": vaccine.min_age}
        else:
            limits = _("%(min)s to %(max)s years") % {
                "min": vaccine.min_age,
                "max": vaccine.max_age,
            }
        raise AgeNotAllowed(
            _("%(vaccine)s is given to people aged %(limits)s; this person is %(age)s.")
            % {"vaccine": vaccine.name, "limits": limits, "age": age}
        )


def dose_check(
    *,
    doses: list[DoseFact],
    vaccine: Vaccine,
    day: datetime.date,
    age: int,
    override: bool = False,
) -> NextDose:
    """The dose that `vaccine` on `day` would be, or raise with the reason it is refused.

    An officer's override allows another vaccine than the series' (mixing); nothing
    overrides the age limits or the minimum interval.
    """
    age_check(vaccine=vaccine, age=age)
    nxt = next_dose(doses)
    if nxt.complete:
        raise SeriesComplete(
            _("This person has had every recommended dose; no further dose is due.")
        )
    if (
        nxt.series == Dose.Series.PRIMARY
        and nxt.vaccine is not None
        and nxt.vaccine != vaccine
        and not override
    ):
        raise WrongVaccine(
            _(
                "The primary series was started with %(series)s; dose %(number)s must be "
                "%(series)s too unless an officer overrides."
            )
            % {"series": nxt.vaccine.name, "number": nxt.dose_number}
        )
    if nxt.series == Dose.Series.BOOSTER and not vaccine.booster_allowed and not override:
        raise WrongVaccine(
            _("%(vaccine)s is not used as a booster dose.") % {"vaccine": vaccine.name}
        )
    if nxt.earliest_on is not None and day < nxt.earliest_on:
        raise TooEarly(
            _(
                "Too early: the previous dose was on %(last)s and this dose may be given from "
                "%(earliest)s."
            )
            % {
                "last": date_text(doses[-1].day),
                "earliest": date_text(nxt.earliest_on),
            }
        )
    if nxt.series == Dose.Series.PRIMARY and nxt.vaccine is None:
        # The first dose decides the series' vaccine.
        return NextDose(nxt.series, 1, 1, vaccine, None, None)
    return nxt
