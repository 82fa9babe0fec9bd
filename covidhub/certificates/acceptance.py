"""The province's acceptance rules: EU-format CertLogic rules per purpose, versioned.

Three purposes (entry to a venue, to an event, travel), each with its rule set shipped as
data (`dcc/data/rules/<purpose>.json`, version 0) until a province version is activated.
A change is a new draft version, previewed against the live certificates in the
officer's areas (how many would be accepted, refused, left open, now and under the
draft), then activated; the active one is retired. The checkpoint verifier evaluates the
active version of the chosen purpose after the cryptographic checks.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Final, NamedTuple

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from covidhub.accounts.scoping import actor_scope, area_path_q
from covidhub.audit.services import audit_record
from covidhub.certificates.dcc.rules import (
    Rule,
    RuleInvalid,
    RuleOutcome,
    RulesInForce,
    RuleStatus,
    rules_external,
    rules_outcomes,
    rules_parse,
    rules_run,
)
from covidhub.certificates.dcc.valuesets import DATA_DIRECTORY, ValueSets
from covidhub.certificates.models import AcceptanceRuleSet, IssuedCertificate
from covidhub.certificates.value_sets import value_sets_current
from covidhub.core.errors import InvalidInput, NotFound
from covidhub.core.locks import transaction_lock
from covidhub.people.models import Person

RULES_DIRECTORY: Final = DATA_DIRECTORY / "rules"
PURPOSES: Final = tuple(AcceptanceRuleSet.Purpose.values)
DEFAULT_PURPOSE: Final = AcceptanceRuleSet.Purpose.VENUE.value
RULES_TTL_SECONDS: Final = 30
VERIFIER_COUNTRY: Final = "VN"


@cache
def shipped_rule_documents(purpose: str) -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = json.loads(
        (RULES_DIRECTORY / f"{purpose}.json").read_text(encoding="utf-8")
    )
    return documents


def acceptance_rules_clean(documents: Any) -> list[Rule]:
    """Parsed rules from an upload or API body; `InvalidInput` naming the faulty rule."""
    try:
        return rules_parse(documents)
    except RuleInvalid as error:
        raise InvalidInput(
            _("The rules are not valid: %(problem)s") % {"problem": error.message},
            code="rule_invalid",
            details={"fields": {"rules": [error.message]}},
        ) from error


def _purpose_check(purpose: str) -> str:
    if purpose not in PURPOSES:
        raise NotFound()
    return purpose


_lock = threading.Lock()
_cache: dict[str, tuple[float, int, list[Rule]]] = {}


def acceptance_rules_cache_clear() -> None:
    with _lock:
        _cache.clear()


def acceptance_rules_active(purpose: str) -> tuple[int, list[Rule]]:
    """(version, rules) in force for `purpose`; version 0 means the shipped rules."""
    _purpose_check(purpose)
    with _lock:
        cached = _cache.get(purpose)
    if cached is not None and time.monotonic() - cached[0] < RULES_TTL_SECONDS:
        return cached[1], cached[2]
    row = AcceptanceRuleSet.objects.filter(
        purpose=purpose, state=AcceptanceRuleSet.State.ACTIVE
    ).first()
    version = row.version if row else 0
    rules = rules_parse(row.rules if row else shipped_rule_documents(purpose))
    with _lock:
        _cache[purpose] = (time.monotonic(), version, rules)
    return version, rules


def acceptance_rules_draft_create(
    *, actor: Any, purpose: str, documents: Any, note: str = ""
) -> AcceptanceRuleSet:
    """A new draft version of a purpose's rules (checked first); changes nothing until
    activated."""
    _purpose_check(purpose)
    acceptance_rules_clean(documents)
    with transaction.atomic():
        # A purpose's versions are made and put in force in turn (a new version is a new
        # row: there is none to lock).
        transaction_lock(f"certificates.acceptance_rules:{purpose}")
        last = (
            AcceptanceRuleSet.objects.filter(purpose=purpose).aggregate(v=Max("version"))["v"] or 0
        )
        row = AcceptanceRuleSet.objects.create(
            purpose=purpose, version=last + 1, rules=documents, note=note[:200], created_by=actor
        )
        audit_record(
            actor=actor,
            action="certificates.acceptance_rules.drafted",
            obj=row,
            details={"purpose": purpose, "version": row.version, "rules": len(documents)},
        )
    return row


@transaction.atomic
def acceptance_rules_activate(*, actor: Any, rule_set: AcceptanceRuleSet) -> AcceptanceRuleSet:
    """Put a draft in force for its purpose; the active version is retired."""
    transaction_lock(f"certificates.acceptance_rules:{rule_set.purpose}")
    row = AcceptanceRuleSet.objects.get(pk=rule_set.pk)
    if row.state != AcceptanceRuleSet.State.DRAFT:
        raise InvalidInput(_("Only a draft can be activated."), code="rules_not_draft")
    AcceptanceRuleSet.objects.filter(
        purpose=row.purpose, state=AcceptanceRuleSet.State.ACTIVE
    ).update(state=AcceptanceRuleSet.State.RETIRED)
    row.state = AcceptanceRuleSet.State.ACTIVE
    row.activated_at = timezone.now()
    row.save(update_fields=["state", "activated_at"])
    audit_record(
        actor=actor,
        action="certificates.acceptance_rules.activated",
        obj=row,
        details={"purpose": row.purpose, "version": row.version},
    )
    transaction.on_commit(acceptance_rules_cache_clear)
    return row


def acceptance_rules_get(*, purpose: str, version: int) -> AcceptanceRuleSet:
    row = AcceptanceRuleSet.objects.filter(purpose=_purpose_check(purpose), version=version).first()
    if row is None:
        raise NotFound()
    return row


# Evaluation ------------------------------------------------------------------------------


class RulesResult(NamedTuple):
    """The business-rule part of a verification: which rule set, which value sets."""

    purpose: str
    rules_version: int
    value_sets_version: str
    outcomes: tuple[RuleOutcome, ...]

    @property
    def verdict(self) -> str:
        """`failed` if a rule failed, else `open` if one is open, else `passed`."""
        statuses = {outcome.status for outcome in self.outcomes}
        if RuleStatus.FAILED in statuses:
            return RuleStatus.FAILED.value
        if RuleStatus.OPEN in statuses:
            return RuleStatus.OPEN.value
        return RuleStatus.PASSED.value


def rules_results(
    *,
    payload: dict[str, Any],
    kind: str | None,
    now: datetime,
    issued_at: datetime | None,
    expires_at: datetime | None,
    rules: Sequence[Rule],
    value_sets: ValueSets,
) -> tuple[RulesInForce, list[Any]]:
    """The rules in force of `rules` for a decoded certificate and their results
    (`rules_run`), on the data context the EU verifier apps build: what `rules_check`
    reads as outcomes, and what the checkpoint turns into its screen lines directly."""
    external = rules_external(
        now=now,
        value_sets=value_sets.codes_by_id,
        country=VERIFIER_COUNTRY,
        issued_at=issued_at,
        expires_at=expires_at,
    )
    return rules_run(rules=rules, payload=payload, external=external, kind=kind, now=now)


def rules_check(
    *,
    purpose: str,
    payload: dict[str, Any],
    kind: str | None,
    now: datetime,
    issued_at: datetime | None,
    expires_at: datetime | None,
    rules: Sequence[Rule] | None = None,
    rules_version: int | None = None,
    value_sets: ValueSets | None = None,
) -> RulesResult:
    """Evaluate the purpose's rules in force (or `rules`) on a decoded certificate."""
    if rules is None:
        rules_version, rules = acceptance_rules_active(purpose)
    sets = value_sets if value_sets is not None else value_sets_current()
    in_force, results = rules_results(
        payload=payload,
        kind=kind,
        now=now,
        issued_at=issued_at,
        expires_at=expires_at,
        rules=rules,
        value_sets=sets,
    )
    return RulesResult(
        purpose=purpose,
        rules_version=rules_version or 0,
        value_sets_version=sets.version,
        outcomes=tuple(rules_outcomes(in_force, results, payload)),
    )


@dataclass(frozen=True)
class AcceptancePreview:
    """Live certificates in the actor's areas by verdict now and under a candidate."""

    certificates: int
    current: dict[str, int]
    candidate: dict[str, int]
    transitions: dict[str, int]

    @property
    def changed(self) -> int:
        return sum(self.transitions.values())


def acceptance_rules_preview(
    *, actor: Any, purpose: str, candidate: Sequence[Rule], now: datetime | None = None
) -> AcceptancePreview:
    """Compare the active rules of `purpose` with `candidate` over the live certificates of
    the people the actor may see (streamed; the certificates' stored payloads)."""
    moment = now or timezone.now()
    version, active = acceptance_rules_active(purpose)
    sets = value_sets_current()
    scope_q = area_path_q(actor_scope(actor), "commune_path")
    rows = (
        IssuedCertificate.objects.filter(revoked_at__isnull=True)
        .filter(person__in=Person.objects.filter(scope_q).values("pk"))
        .order_by("pk")
        .values_list("kind", "payload", "issued_at", "expires_at")
        .iterator(chunk_size=2000)
    )
    current: Counter[str] = Counter()
    proposed: Counter[str] = Counter()
    transitions: Counter[str] = Counter()
    count = 0
    for kind, payload, issued_at, expires_at in rows:
        count += 1
        verdicts = [
            rules_check(
                purpose=purpose,
                payload=payload,
                kind=kind,
                now=moment,
                issued_at=issued_at,
                expires_at=expires_at,
                rules=rules,
                rules_version=version,
                value_sets=sets,
            ).verdict
            for rules in (active, candidate)
        ]
        current[verdicts[0]] += 1
        proposed[verdicts[1]] += 1
        if verdicts[0] != verdicts[1]:
            transitions[f"{verdicts[0]}→{verdicts[1]}"] += 1
    audit_record(
        actor=actor,
        action="certificates.acceptance_rules.previewed",
        details={"purpose": purpose, "certificates": count},
    )
    statuses = [status.value for status in RuleStatus]
    return AcceptancePreview(
        certificates=count,
        current={status: current[status] for status in statuses},
        candidate={status: proposed[status] for status in statuses},
        transitions=dict(transitions),
    )


def acceptance_rules_document() -> dict[str, Any]:
    """The public rule list: per purpose, the version in force and its EU-format rules."""
    purposes = {}
    for purpose in PURPOSES:
        version, rules = acceptance_rules_active(purpose)
        purposes[purpose] = {
            "version": version,
            "rules": [dict(rule.document) for rule in rules],
        }
    return {"engine": "CERTLOGIC", "engineVersion": "1.3.3", "purposes": purposes}
