"""Business rules in the EU DCC validation-rule format, evaluated with CertLogic.

A rule is the JSON object the EU gateway distributed (Identifier, Type, Country, Version,
SchemaVersion, Engine, EngineVersion, CertificateType, Description in several languages,
ValidFrom, ValidTo, AffectedFields, Logic). It is evaluated on the data context the EU
verifier apps build: `{"payload": <hcert>, "external": {"validationClock", "valueSets",
"countryCode", "exp", "iat"}}`. `true` passes, `false` fails, anything else (an error, a
non-boolean) leaves the rule open: a person looks at it, the app does not decide.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final, NamedTuple

from .certlogic import (
    Evaluator,
    Program,
    certlogic_compile,
    certlogic_program,
    date_time_text,
)
from .certlogic_validation import certlogic_validate
from .errors import DccError

ENGINE: Final = "CERTLOGIC"
RULE_TYPES: Final = ("Acceptance", "Invalidation")
CERTIFICATE_TYPES: Final = {"General": None, "Vaccination": "v", "Test": "t", "Recovery": "r"}
MAX_RULES: Final = 200
_IDENTIFIER: Final = re.compile(r"^(?:GR|VR|TR|RR|IR)-[A-Z0-9]{1,10}-\d{4}$")
_VERSION: Final = re.compile(r"^\d{1,4}\.\d{1,4}\.\d{1,4}$")
_COUNTRY: Final = re.compile(r"^[A-Z]{2}$")


class RuleInvalid(DccError):
    """A rule is not in the EU rule format, or its logic is not valid CertLogic.

    Code: `rule_invalid`; `details` names the rule and the field.
    """


class RuleStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    OPEN = "open"


@dataclass(frozen=True, slots=True)
class Rule:
    identifier: str
    rule_type: str
    country: str
    version: str
    certificate_type: str
    descriptions: Mapping[str, str]
    valid_from: datetime
    valid_to: datetime
    affected_fields: tuple[str, ...]
    logic: Any
    document: Mapping[str, Any] = field(repr=False, compare=False)
    evaluate: Evaluator = field(repr=False, compare=False)
    version_key: tuple[int, ...] = field(default=(), repr=False, compare=False)
    """The version as numbers (1.10.0 after 1.9.0), set by `rule_parse`."""
    affected_parts: tuple[tuple[str, tuple[str, ...]], ...] = field(
        default=(), repr=False, compare=False
    )
    """Each affected field with its path split (`rule_values` reads them on every failed
    scan), set by `rule_parse`."""

    def description(self, language: str) -> str:
        """The description in `language`, else English, else the first one given."""
        return (
            self.descriptions.get(language)
            or self.descriptions.get("en")
            or next(iter(self.descriptions.values()))
        )

    def applies(self, *, kind: str | None, now: datetime) -> bool:
        wanted = CERTIFICATE_TYPES[self.certificate_type]
        return (wanted is None or wanted == kind) and self.valid_from <= now <= self.valid_to


class RuleOutcome(NamedTuple):
    """One rule's outcome; a named tuple, as twenty are made per scan (a frozen
    dataclass costs three times as much to make)."""

    rule: Rule
    status: RuleStatus
    detail: str = ""
    values: Mapping[str, Any] = MappingProxyType({})
    """The affected fields' values in the certificate, to show beside a failed rule."""


def _invalid(identifier: str, message: str, field_name: str) -> RuleInvalid:
    return RuleInvalid(
        f"{identifier or '(rule)'}: {message}",
        code="rule_invalid",
        details={"rule": identifier, "field": field_name},
    )


def _moment(value: object, *, identifier: str, name: str) -> datetime:
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            if moment.tzinfo is not None:
                return moment.astimezone(UTC)
    raise _invalid(identifier, f"{name} must be a date-time with an offset.", name)


def rule_parse(document: object) -> Rule:
    """A `Rule` from its EU-format JSON, or `RuleInvalid` naming what is wrong."""
    if not isinstance(document, dict):
        raise _invalid("", "a rule is a JSON object.", "")
    identifier = document.get("Identifier")
    if not isinstance(identifier, str) or not _IDENTIFIER.fullmatch(identifier):
        raise _invalid("", "Identifier must look like VR-VN-0001.", "Identifier")
    checks: list[tuple[str, bool, str]] = [
        ("Type", document.get("Type") in RULE_TYPES, "Acceptance or Invalidation"),
        ("Country", bool(_COUNTRY.fullmatch(str(document.get("Country")))), "a country code"),
        ("Version", bool(_VERSION.fullmatch(str(document.get("Version")))), "like 1.0.0"),
        ("Engine", document.get("Engine") == ENGINE, ENGINE),
        (
            "CertificateType",
            document.get("CertificateType") in CERTIFICATE_TYPES,
            "General, Vaccination, Test or Recovery",
        ),
    ]
    for name, ok, expected in checks:
        if not ok:
            raise _invalid(identifier, f"{name} must be {expected}.", name)
    descriptions: dict[str, str] = {}
    for item in document.get("Description") or ():
        if (
            isinstance(item, dict)
            and isinstance(item.get("lang"), str)
            and isinstance(item.get("desc"), str)
            and item["desc"].strip()
        ):
            descriptions[item["lang"]] = item["desc"]
    if not descriptions:
        raise _invalid(identifier, "Description needs at least one language.", "Description")
    affected = document.get("AffectedFields")
    if not isinstance(affected, list) or not all(isinstance(item, str) for item in affected):
        raise _invalid(identifier, "AffectedFields must be a list of paths.", "AffectedFields")
    valid_from = _moment(document.get("ValidFrom"), identifier=identifier, name="ValidFrom")
    valid_to = _moment(document.get("ValidTo"), identifier=identifier, name="ValidTo")
    if valid_to <= valid_from:
        raise _invalid(identifier, "ValidTo must follow ValidFrom.", "ValidTo")
    logic = document.get("Logic")
    issues = certlogic_validate(logic)
    if issues:
        raise _invalid(identifier, f"Logic: {issues[0]['message']}", "Logic")
    return Rule(
        identifier=identifier,
        rule_type=document["Type"],
        country=document["Country"],
        version=document["Version"],
        certificate_type=document["CertificateType"],
        descriptions=descriptions,
        valid_from=valid_from,
        valid_to=valid_to,
        affected_fields=tuple(affected),
        logic=logic,
        document=document,
        evaluate=certlogic_compile(logic),
        version_key=tuple(int(part) for part in document["Version"].split(".")),
        affected_parts=tuple((path, tuple(path.split("."))) for path in affected),
    )


def rules_parse(documents: object) -> list[Rule]:
    """A rule set: a list of EU-format rules, at most `MAX_RULES`, no identifier and
    version twice."""
    if not isinstance(documents, list) or len(documents) > MAX_RULES:
        raise _invalid("", f"a rule set is a list of at most {MAX_RULES} rules.", "")
    rules = [rule_parse(document) for document in documents]
    seen: set[tuple[str, str]] = set()
    for rule in rules:
        key = (rule.identifier, rule.version)
        if key in seen:
            raise _invalid(rule.identifier, f"version {rule.version} is given twice.", "Version")
        seen.add(key)
    return rules


def rules_in_force(rules: Iterable[Rule], *, kind: str | None, now: datetime) -> list[Rule]:
    """The rules that apply to a certificate of `kind` at `now`: for each identifier the
    highest version valid then (the EU apps' choice), in identifier order."""
    chosen: dict[str, Rule] = {}
    for rule in rules:
        if not rule.applies(kind=kind, now=now):
            continue
        current = chosen.get(rule.identifier)
        if current is None or rule.version_key > current.version_key:
            chosen[rule.identifier] = rule
    return [chosen[identifier] for identifier in sorted(chosen)]


@dataclass(frozen=True, slots=True)
class _Selection:
    """`rules_in_force` of one rule set and kind, for every moment strictly between two
    consecutive ValidFrom/ValidTo bounds of the set (nothing changes in between), with
    the program that evaluates the chosen rules."""

    rules: tuple[Rule, ...]
    after: datetime | None
    before: datetime | None
    chosen: RulesInForce


class RulesInForce(NamedTuple):
    """The rules in force, their logic as one program (`certlogic_program`), and each
    rule's "passed" outcome, made once: a pass carries nothing of the certificate.
    Made once per choice of rules, so its identity can key what is derived from it
    (the checkpoint's screen lines)."""

    rules: tuple[Rule, ...]
    program: Program
    passed: tuple[RuleOutcome, ...]


def _chosen(rules: Sequence[Rule]) -> RulesInForce:
    return RulesInForce(
        rules=tuple(rules),
        program=certlogic_program([rule.logic for rule in rules]),
        passed=tuple(RuleOutcome(rule, RuleStatus.PASSED) for rule in rules),
    )


_SELECTIONS_MAX: Final = 256
_selections: dict[tuple[str | None, tuple[int, ...]], _Selection] = {}
_programs: dict[tuple[int, ...], RulesInForce] = {}


def _rules_in_force_cached(
    rules: Sequence[Rule], *, kind: str | None, now: datetime
) -> RulesInForce:
    """`rules_in_force` and its program, remembered per rule set and kind until a
    validity bound passes.

    A verifier evaluates the same rule set on every scan; choosing the rules again (and
    sorting them) cost about as much as evaluating a third of them, and the program is
    compiled once per choice (a new version of a rule is a new `Rule`, so a new rule set
    is a new key). The key is the rules' identities, safe because the entry holds the
    rules (their ids cannot be reused); at a bound itself the choice is made afresh, as
    `applies` includes both bounds (its program is remembered by the chosen rules).
    """
    key = (kind, tuple(map(id, rules)))
    selection = _selections.get(key)
    if (
        selection is not None
        and (selection.after is None or selection.after < now)
        and (selection.before is None or now < selection.before)
    ):
        return selection.chosen
    in_force = rules_in_force(rules, kind=kind, now=now)
    program_key = tuple(map(id, in_force))
    chosen = _programs.get(program_key)
    if chosen is None:
        if len(_programs) >= _SELECTIONS_MAX:
            _programs.clear()
        chosen = _programs[program_key] = _chosen(in_force)  # holds the rules: ids stay
    bounds = {moment for rule in rules for moment in (rule.valid_from, rule.valid_to)}
    if now in bounds:
        return chosen
    if len(_selections) >= _SELECTIONS_MAX:
        _selections.clear()  # rule sets change rarely: a full table is old sets
    _selections[key] = _Selection(
        rules=tuple(rules),
        after=max((moment for moment in bounds if moment < now), default=None),
        before=min((moment for moment in bounds if moment > now), default=None),
        chosen=chosen,
    )
    return chosen


def rules_external(
    *,
    now: datetime,
    value_sets: Mapping[str, list[str]],
    country: str,
    issued_at: datetime | None = None,
    expires_at: datetime | None = None,
) -> dict[str, Any]:
    """The `external` part of the data context, as the EU verifier apps fill it."""
    external: dict[str, Any] = {
        "validationClock": date_time_text(now),
        "valueSets": value_sets,
        "countryCode": country,
    }
    if issued_at is not None:
        external["iat"] = date_time_text(issued_at)
    if expires_at is not None:
        external["exp"] = date_time_text(expires_at)
    return external


def _field_value(payload: Mapping[str, Any], parts: tuple[str, ...]) -> Any:
    value: Any = payload
    for part in parts:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def rules_run(
    *,
    rules: Sequence[Rule],
    payload: Mapping[str, Any],
    external: Mapping[str, Any],
    kind: str | None,
    now: datetime,
) -> tuple[RulesInForce, list[Any]]:
    """The rules in force for this certificate and each one's result (never raises):
    its logic's value, or the error it raised (without a traceback). The rules in force
    run as one program on one data context. `true` passes, `false` fails, anything else
    is open (`rules_outcomes`)."""
    in_force = _rules_in_force_cached(rules, kind=kind, now=now)
    return in_force, in_force.program({"payload": payload, "external": external})


def rule_values(rule: Rule, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The affected fields' values in the certificate, shown beside a failed rule."""
    return {path: _field_value(payload, parts) for path, parts in rule.affected_parts}


def rule_values_text(rule: Rule, payload: Mapping[str, Any]) -> str:
    """`rule_values` as a failed rule's screen line shows them: `path = value` for each
    field that has a value, joined by commas."""
    shown = []
    for path, parts in rule.affected_parts:
        value = _field_value(payload, parts)
        if value:
            shown.append(f"{path} = {value}")
    return ", ".join(shown)


def rules_outcomes(
    in_force: RulesInForce, results: Sequence[Any], payload: Mapping[str, Any]
) -> list[RuleOutcome]:
    """Each result of `rules_run` as a rule's outcome: `true` passes, `false` fails (with
    the affected fields' values), anything else is open (an error with its text)."""
    outcomes: list[RuleOutcome] = []
    append = outcomes.append
    for rule, passed, result in zip(in_force.rules, in_force.passed, results, strict=True):
        if result is True:
            append(passed)
        elif result is False:
            append(RuleOutcome(rule, RuleStatus.FAILED, "", rule_values(rule, payload)))
        elif isinstance(result, BaseException):
            append(RuleOutcome(rule, RuleStatus.OPEN, str(result)))
        else:
            append(RuleOutcome(rule, RuleStatus.OPEN, "not a true/false result"))
    return outcomes


def rules_evaluate(
    *,
    rules: Sequence[Rule],
    payload: Mapping[str, Any],
    external: Mapping[str, Any],
    kind: str | None,
    now: datetime,
) -> list[RuleOutcome]:
    """The outcome of every rule in force for this certificate (never raises)."""
    in_force, results = rules_run(
        rules=rules, payload=payload, external=external, kind=kind, now=now
    )
    return rules_outcomes(in_force, results, payload)
