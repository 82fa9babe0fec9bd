"""The status card ("Thẻ COVID"): green / yellow / red by versioned province rules.

A person's colour is computed from their current health measures first (a confirmed case,
an isolation, a positive pool awaiting the retest: `covidhub.people.health_status`), then
from their live (unrevoked) certificates, so that it agrees with what they can prove. The
rules are a small set of parameters that officers can read and compare; each version
compiles to CertLogic clauses run by the engine that also evaluates the checkpoint's
acceptance rules (`status_clauses`), so the card and the verifier decide alike.

What a checkpoint sees of a measure is what the rules say: by default only that a health
measure of the province applies (not which one), and whether to admit the person.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Final

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from covidhub.accounts.scoping import actor_scope, area_path_q
from covidhub.audit.services import audit_record
from covidhub.certificates.dcc.certlogic import (
    CertLogicError,
    Evaluator,
    certlogic_compile,
    is_truthy,
)
from covidhub.certificates.models import IssuedCertificate, StatusRuleSet
from covidhub.core.dates import date_text
from covidhub.core.errors import InvalidInput, NotFound
from covidhub.core.locks import transaction_lock
from covidhub.people import health_status
from covidhub.people.health_status import (
    AWAITING_RETEST,
    CONFIRMED_CASE,
    HEALTH_MEASURES,
    ISOLATING,
    LONGEST_DAYS,
)
from covidhub.people.models import Person
from covidhub.people.status import StatusColour

GREEN: Final = "green"
YELLOW: Final = "yellow"
RED: Final = "red"
COLOURS: Final = (GREEN, YELLOW, RED)
OFF: Final = "off"
MEASURE_COLOURS: Final = (RED, YELLOW, OFF)
RULES_TTL_SECONDS: Final = 30


@dataclass(frozen=True)
class StatusRules:
    """The parameters of one rule version; 0 hours/days switch a clause off."""

    green_full_series_days: int = 14
    green_recovery_days: int = 180
    green_negative_test_hours: int = 0
    yellow_one_dose: bool = True
    yellow_negative_test_hours: int = 72
    # Health measures, tried before everything else: a colour ("off" ignores the measure)
    # for so many days from its start.
    case_colour: str = RED
    case_days: int = 14
    isolation_colour: str = RED
    isolation_days: int = 14
    retest_colour: str = RED
    retest_days: int = 7
    # A person made red by a measure is not checked in at a checkpoint.
    refuse_checkin: bool = True
    # The checkpoint is told which measure applies (else only that one does).
    checkpoint_names_measure: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def measure_clause(self, measure: str) -> tuple[str, int]:
        """(colour, days) of a health measure."""
        prefix = _MEASURE_PREFIX[measure]
        return getattr(self, f"{prefix}_colour"), getattr(self, f"{prefix}_days")


_MEASURE_PREFIX: Final = {CONFIRMED_CASE: "case", ISOLATING: "isolation", AWAITING_RETEST: "retest"}


DEFAULT_RULES: Final = StatusRules()
_LIMITS: Final = {
    "green_full_series_days": (0, 365),
    "green_recovery_days": (0, 365),
    "green_negative_test_hours": (0, 168),
    "yellow_negative_test_hours": (0, 168),
    "case_days": (0, LONGEST_DAYS),
    "isolation_days": (0, LONGEST_DAYS),
    "retest_days": (0, LONGEST_DAYS),
}
_SWITCHES: Final = ("yellow_one_dose", "refuse_checkin", "checkpoint_names_measure")


def status_rules_clean(raw: Mapping[str, Any]) -> StatusRules:
    """Typed rules from a form or API body; field errors otherwise (nothing saved)."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name, (low, high) in _LIMITS.items():
        value = raw.get(name, getattr(DEFAULT_RULES, name))
        try:
            number = int(value)
        except (TypeError, ValueError):
            errors[name] = [_("Enter a whole number.")]
            continue
        if isinstance(value, bool) or not low <= number <= high:
            errors[name] = [
                _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high}
            ]
            continue
        values[name] = number
    for measure in HEALTH_MEASURES:
        name = f"{_MEASURE_PREFIX[measure]}_colour"
        colour = raw.get(name, getattr(DEFAULT_RULES, name))
        if colour not in MEASURE_COLOURS:
            errors[name] = [_("Choose red, yellow or off.")]
            continue
        values[name] = colour
    for name in _SWITCHES:
        switch = raw.get(name, getattr(DEFAULT_RULES, name))
        if isinstance(switch, str):
            switch = switch.lower() in ("1", "true", "on", "yes")
        values[name] = bool(switch)
    if errors:
        raise InvalidInput(details={"fields": errors})
    return StatusRules(**values)


@dataclass
class PersonFacts:
    """What the rules look at, from a person's live certificates."""

    series_completed_on: date | None = None
    has_dose: bool = False
    recovery_first_positive: date | None = None
    negative_test_at: datetime | None = None
    # Health measures in force or recent: measure → the day it started.
    measures: dict[str, date] = field(default_factory=dict)

    def add(
        self,
        *,
        kind: str,
        event_date: date,
        dose_number: int | None,
        total_doses: int | None,
        test_positive: bool | None,
        sampled_at: datetime | None,
    ) -> None:
        if kind == "v":
            self.has_dose = True
            completes = bool(dose_number and total_doses and dose_number >= total_doses)
            if completes and (
                self.series_completed_on is None or event_date < self.series_completed_on
            ):
                self.series_completed_on = event_date
        elif kind == "r" and (
            self.recovery_first_positive is None or event_date > self.recovery_first_positive
        ):
            self.recovery_first_positive = event_date
        elif (
            kind == "t"
            and test_positive is False
            and sampled_at is not None
            and (self.negative_test_at is None or sampled_at > self.negative_test_at)
        ):
            self.negative_test_at = sampled_at


# The rules as CertLogic ------------------------------------------------------------------
# The status card and the checkpoint verifier share one rule engine: a rule version's
# parameters compile to an ordered list of CertLogic clauses over the person's facts,
# and the first clause that holds gives the colour. The parameters stay what officers
# edit and compare; `status_rules_logic` shows what they compile to.


@dataclass(frozen=True)
class StatusClause:
    colour: str
    code: str
    logic: Any
    evaluate: Evaluator = field(repr=False, compare=False)


def _day(path: str, days: int = 0) -> dict[str, Any]:
    return {"plusTime": [{"var": path}, days, "day"]}


def _hour(path: str, hours: int = 0) -> dict[str, Any]:
    return {"plusTime": [{"var": path}, hours, "hour"]}


_TODAY: Final = _day("external.today")


def _clause_logic(rules: StatusRules) -> list[tuple[str, str, Any]]:
    clauses: list[tuple[str, str, Any]] = []
    for measure in HEALTH_MEASURES:
        colour, days = rules.measure_clause(measure)
        if colour == OFF:
            continue
        started = f"facts.measures.{measure}"
        clauses.append(
            (
                colour,
                measure,
                {
                    "and": [
                        {"var": started},
                        {"not-after": [_day(started), _TODAY]},
                        {"before": [_TODAY, _day(started, days)]},
                    ]
                },
            )
        )
    series = "facts.series_completed_on"
    first_positive = "facts.recovery_first_positive"
    negative = "facts.negative_test_at"
    clock = _hour("external.validationClock")
    if rules.green_full_series_days:
        clauses.append(
            (
                GREEN,
                "full_series",
                {
                    "and": [
                        {"var": series},
                        {"not-before": [_TODAY, _day(series, rules.green_full_series_days)]},
                    ]
                },
            )
        )
    if rules.green_recovery_days:
        clauses.append(
            (
                GREEN,
                "recovered",
                {
                    "and": [
                        {"var": first_positive},
                        {"not-after": [_day(first_positive, 10), _TODAY]},
                        {"before": [_TODAY, _day(first_positive, rules.green_recovery_days)]},
                    ]
                },
            )
        )
    if rules.green_negative_test_hours:
        clauses.append(
            (
                GREEN,
                "negative_test",
                {
                    "and": [
                        {"var": negative},
                        {"not-after": [clock, _hour(negative, rules.green_negative_test_hours)]},
                    ]
                },
            )
        )
    if rules.green_full_series_days:
        clauses.append((YELLOW, "series_recent", {"!": [{"!": [{"var": series}]}]}))
    if rules.yellow_one_dose:
        clauses.append((YELLOW, "one_dose", {"===": [{"var": "facts.has_dose"}, True]}))
    if rules.yellow_negative_test_hours:
        clauses.append(
            (
                YELLOW,
                "negative_test",
                {
                    "and": [
                        {"var": negative},
                        {"not-after": [clock, _hour(negative, rules.yellow_negative_test_hours)]},
                    ]
                },
            )
        )
    return clauses


@lru_cache(maxsize=64)
def status_clauses(rules: StatusRules) -> tuple[StatusClause, ...]:
    """The rule version as CertLogic clauses, compiled once per version."""
    return tuple(
        StatusClause(colour=colour, code=code, logic=logic, evaluate=certlogic_compile(logic))
        for colour, code, logic in _clause_logic(rules)
    )


def status_rules_logic(rules: StatusRules) -> list[dict[str, Any]]:
    """What a rule version compiles to, for officers and auditors to read."""
    return [
        {"colour": clause.colour, "code": clause.code, "logic": clause.logic}
        for clause in status_clauses(rules)
    ]


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def facts_data(facts: PersonFacts, *, now: datetime) -> dict[str, Any]:
    """The CertLogic data context of a person's facts at `now`."""
    return {
        "facts": {
            "series_completed_on": _iso(facts.series_completed_on),
            "has_dose": facts.has_dose,
            "recovery_first_positive": _iso(facts.recovery_first_positive),
            "negative_test_at": _iso(facts.negative_test_at),
            "measures": {
                measure: started.isoformat() for measure, started in facts.measures.items()
            },
        },
        "external": {
            "validationClock": now.isoformat(),
            "today": timezone.localdate(now).isoformat(),
        },
    }


def colour_for(facts: PersonFacts, rules: StatusRules, *, now: datetime) -> tuple[str, str]:
    """(colour, reason code) under `rules` at `now`; the first clause that holds wins, the
    health measures (most serious first) before vaccination, recovery and tests. A clause
    the engine cannot decide does not hold (the person is not made green by an error)."""
    data = facts_data(facts, now=now)
    for clause in status_clauses(rules):
        try:
            holds = is_truthy(clause.evaluate(data))
        except CertLogicError:
            holds = False
        if holds:
            return clause.colour, clause.code
    return RED, "none"


def _measure_until(code: str, facts: PersonFacts, rules: StatusRules) -> str:
    _colour, days = rules.measure_clause(code)
    return date_text(facts.measures[code] + timedelta(days=days))


def reason_text(code: str, facts: PersonFacts, rules: StatusRules) -> str:
    """The translated reason shown on the person's own card (and at the checkpoint, unless
    a health measure applies: `checkpoint_reason`)."""
    if code == CONFIRMED_CASE:
        return _(
            "Recorded as a confirmed COVID-19 case (onset %(date)s); applies until %(until)s."
        ) % {
            "date": date_text(facts.measures[code]),
            "until": _measure_until(code, facts, rules),
        }
    if code == ISOLATING:
        return _(
            "In isolation as advised by the commune health station; applies until %(until)s."
        ) % {"until": _measure_until(code, facts, rules)}
    if code == AWAITING_RETEST:
        return _(
            "A pooled test with your sample was positive: an individual retest is needed. "
            "Applies until the new result or %(until)s."
        ) % {"until": _measure_until(code, facts, rules)}
    if code == "full_series" and facts.series_completed_on:
        return _("Fully vaccinated: primary series completed on %(date)s.") % {
            "date": date_text(facts.series_completed_on)
        }
    if code == "series_recent" and facts.series_completed_on:
        green_on = facts.series_completed_on + timedelta(days=rules.green_full_series_days)
        return _("Primary series completed; green from %(date)s.") % {"date": date_text(green_on)}
    if code == "recovered" and facts.recovery_first_positive:
        return _("Recovered from COVID-19 (positive test on %(date)s).") % {
            "date": date_text(facts.recovery_first_positive)
        }
    if code == "one_dose":
        return _("Vaccinated with at least one dose; the primary series is not complete.")
    if code == "negative_test" and facts.negative_test_at:
        return _("Negative test, sample taken %(date)s.") % {
            "date": date_text(timezone.localtime(facts.negative_test_at))
        }
    return _("No vaccination, recovery or recent negative test on record.")


_rules_lock = threading.Lock()
_rules_cache: dict[str, tuple[float, int, StatusRules]] = {}


def rules_cache_clear() -> None:
    with _rules_lock:
        _rules_cache.clear()


def status_rules_active() -> tuple[int, StatusRules]:
    """(version, rules) in force; version 0 means the built-in defaults."""
    with _rules_lock:
        cached = _rules_cache.get("active")
    if cached is not None and time.monotonic() - cached[0] < RULES_TTL_SECONDS:
        return cached[1], cached[2]
    row = StatusRuleSet.objects.filter(state=StatusRuleSet.State.ACTIVE).first()
    version, rules = (row.version, status_rules_clean(row.rules)) if row else (0, DEFAULT_RULES)
    with _rules_lock:
        _rules_cache["active"] = (time.monotonic(), version, rules)
    return version, rules


_FACT_FIELDS: Final = (
    "person_id",
    "kind",
    "event_date",
    "dose_number",
    "total_doses",
    "test_positive",
    "sampled_at",
)


def _add_row(facts: PersonFacts, row: tuple[Any, ...]) -> None:
    facts.add(
        kind=row[1],
        event_date=row[2],
        dose_number=row[3],
        total_doses=row[4],
        test_positive=row[5],
        sampled_at=row[6],
    )


def _measures_since(now: datetime) -> date:
    return timezone.localdate(now) - timedelta(days=LONGEST_DAYS)


def refuses_checkin(code: str, colour: str, rules: StatusRules) -> bool:
    return rules.refuse_checkin and colour == RED and code in HEALTH_MEASURES


def checkpoint_reason(code: str, colour: str, facts: PersonFacts, rules: StatusRules) -> str:
    """What checkpoint staff read: of a health measure, no more than the rules disclose."""
    if code not in HEALTH_MEASURES:
        return reason_text(code, facts, rules)
    if rules.checkpoint_names_measure:
        named = {
            CONFIRMED_CASE: _("Confirmed COVID-19 case."),
            ISOLATING: _("In isolation."),
            AWAITING_RETEST: _("Awaiting an individual retest after a positive pooled test."),
        }
        text = str(named[code])
    else:
        text = _("A health measure of the province applies to this person.")
    if refuses_checkin(code, colour, rules):
        text += " " + _("Do not admit; refer the person to the commune health station.")
    return text


@dataclass(frozen=True)
class PersonStatus:
    colour: str
    reason_code: str
    reason: str
    rules_version: int
    admit: bool = True
    checkpoint_reason: str = ""


def person_status(*, person: Person, now: datetime | None = None) -> PersonStatus:
    """A person's status card under the active rules."""
    return people_status(people=[person], now=now)[person.pk]


def people_status(
    *, people: Sequence[Person], now: datetime | None = None
) -> dict[int, PersonStatus]:
    """Several people's status cards (a household) in a constant number of queries."""
    moment = now or timezone.now()
    version, rules = status_rules_active()
    ids = [person.pk for person in people]
    rows = (
        IssuedCertificate.objects.filter(person_id__in=ids, revoked_at__isnull=True)
        .order_by("person_id")
        .values_list(*_FACT_FIELDS)
    )
    facts_of = dict(_iter_people_facts(rows))
    measures = health_status.health_measures_for(
        Person.objects.filter(pk__in=ids), since=_measures_since(moment)
    )
    cards = {}
    for person_id in ids:
        facts = facts_of.get(person_id) or PersonFacts()
        facts.measures = measures.get(person_id, {})
        colour, code = colour_for(facts, rules, now=moment)
        cards[person_id] = PersonStatus(
            colour=colour,
            reason_code=code,
            reason=reason_text(code, facts, rules),
            rules_version=version,
            admit=not refuses_checkin(code, colour, rules),
            checkpoint_reason=checkpoint_reason(code, colour, facts, rules),
        )
    return cards


def status_provider(person: Person) -> StatusColour | None:
    """The `covidhub.people.status` provider: the checkpoint scan's colour."""
    status = person_status(person=person)
    return StatusColour(colour=status.colour, reason=status.checkpoint_reason, admit=status.admit)


# Rule versions -------------------------------------------------------------------------


STATUS_RULES_LOCK = "certificates.status_rules"


def status_rules_draft_create(*, actor: Any, rules: StatusRules, note: str = "") -> StatusRuleSet:
    """A new draft version; it changes nothing until activated."""
    with transaction.atomic():
        # Versions are made and put in force in turn (no row of their own to lock: a new
        # version is a new row).
        transaction_lock(STATUS_RULES_LOCK)
        last = StatusRuleSet.objects.aggregate(v=Max("version"))["v"] or 0
        row = StatusRuleSet.objects.create(
            version=last + 1, rules=rules.as_dict(), note=note[:200], created_by=actor
        )
        audit_record(
            actor=actor, action="certificates.status_rules.drafted", obj=row, details=row.rules
        )
    return row


@transaction.atomic
def status_rules_activate(*, actor: Any, rule_set: StatusRuleSet) -> StatusRuleSet:
    """Put a draft in force; the active version is retired (one active by constraint)."""
    transaction_lock(STATUS_RULES_LOCK)
    row = StatusRuleSet.objects.get(pk=rule_set.pk)
    if row.state != StatusRuleSet.State.DRAFT:
        raise InvalidInput(_("Only a draft can be activated."), code="rules_not_draft")
    StatusRuleSet.objects.filter(state=StatusRuleSet.State.ACTIVE).update(
        state=StatusRuleSet.State.RETIRED
    )
    row.state = StatusRuleSet.State.ACTIVE
    row.activated_at = timezone.now()
    row.save(update_fields=["state", "activated_at"])
    audit_record(actor=actor, action="certificates.status_rules.activated", obj=row, details={})
    transaction.on_commit(rules_cache_clear)
    return row


def status_rules_get(*, version: int) -> StatusRuleSet:
    row = StatusRuleSet.objects.filter(version=version).first()
    if row is None:
        raise NotFound()
    return row


@dataclass(frozen=True)
class RulesPreview:
    """How many people (in the actor's areas) have each colour now and under a draft."""

    people: int
    current: dict[str, int]
    candidate: dict[str, int]
    transitions: dict[str, int]  # "green→yellow": n, only for changes

    @property
    def changed(self) -> int:
        return sum(self.transitions.values())


def _iter_people_facts(rows: Iterable[tuple[Any, ...]]) -> Iterable[tuple[int, PersonFacts]]:
    current_id: int | None = None
    facts = PersonFacts()
    for row in rows:
        if row[0] != current_id:
            if current_id is not None:
                yield current_id, facts
            current_id = row[0]
            facts = PersonFacts()
        _add_row(facts, row)
    if current_id is not None:
        yield current_id, facts


def status_rules_preview(
    *, actor: Any, candidate: StatusRules, now: datetime | None = None
) -> RulesPreview:
    """Compare the active rules with `candidate` over every person the actor may see.

    Streams the narrow certificate columns ordered by person, so memory stays flat for
    a province of millions; only the (few) people under a recent health measure are held
    in memory; people with neither are red under any rules.
    """
    moment = now or timezone.now()
    _version, active = status_rules_active()
    scope_q = area_path_q(actor_scope(actor), "commune_path")
    people = Person.objects.filter(scope_q).count()
    measures = health_status.health_measures_for(
        Person.objects.filter(scope_q), since=_measures_since(moment)
    )
    rows = (
        IssuedCertificate.objects.filter(revoked_at__isnull=True)
        .filter(person__in=Person.objects.filter(scope_q).values("pk"))
        .order_by("person_id")
        .values_list(*_FACT_FIELDS)
        .iterator(chunk_size=5000)
    )
    current: Counter[str] = Counter()
    proposed: Counter[str] = Counter()
    transitions: Counter[str] = Counter()
    seen = 0
    seen_ids: set[int] = set()  # people with both certificates and a measure
    # After the certificates: the people under a measure who have none (read lazily, once
    # `seen_ids` is complete).
    only_measures = (
        (person_id, PersonFacts(measures=found))
        for person_id, found in list(measures.items())
        if person_id not in seen_ids
    )
    for person_id, facts in itertools.chain(_iter_people_facts(rows), only_measures):
        seen += 1
        if person_id in measures:
            seen_ids.add(person_id)
            facts.measures = measures[person_id]
        before, _code = colour_for(facts, active, now=moment)
        after, _code = colour_for(facts, candidate, now=moment)
        current[before] += 1
        proposed[after] += 1
        if before != after:
            transitions[f"{before}→{after}"] += 1
    current[RED] += people - seen
    proposed[RED] += people - seen
    audit_record(
        actor=actor, action="certificates.status_rules.previewed", details={"people": people}
    )
    return RulesPreview(
        people=people,
        current={colour: current[colour] for colour in COLOURS},
        candidate={colour: proposed[colour] for colour in COLOURS},
        transitions=dict(transitions),
    )
