"""The rules in force, chosen once per rule set and kind and remembered until a validity
bound passes: the remembered choice must be the one `rules_in_force` makes at every
moment, at the bounds themselves too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from covidhub.certificates.dcc.rules import rules_evaluate, rules_in_force, rules_parse

START = datetime(2030, 1, 1, tzinfo=UTC)


def _rule(identifier: str, version: str, valid_from: datetime, valid_to: datetime) -> Any:
    return {
        "Identifier": identifier,
        "Type": "Acceptance",
        "Country": "VN",
        "Version": version,
        "SchemaVersion": "1.3.0",
        "Engine": "CERTLOGIC",
        "EngineVersion": "1.3.3",
        "CertificateType": "Vaccination",
        "Description": [{"lang": "en", "desc": f"{identifier} {version}"}],
        "ValidFrom": valid_from.isoformat(),
        "ValidTo": valid_to.isoformat(),
        "AffectedFields": ["v.0.dn"],
        # Version 1 wants one dose, version 2 two: the outcome tells which one ran.
        "Logic": {">=": [{"var": "payload.v.0.dn"}, int(version[0])]},
    }


def test_the_remembered_choice_follows_every_validity_bound():
    rules = rules_parse(
        [
            _rule("VR-VN-0001", "1.0.0", START, START + timedelta(days=30)),
            _rule("VR-VN-0001", "2.0.0", START + timedelta(days=10), START + timedelta(days=20)),
            _rule("VR-VN-0002", "1.0.0", START + timedelta(days=15), START + timedelta(days=40)),
        ]
    )
    payload = {"v": [{"dn": 1}]}
    bounds = sorted({moment for rule in rules for moment in (rule.valid_from, rule.valid_to)})
    moments = sorted(
        {
            START - timedelta(days=1),
            *bounds,
            *(bound - timedelta(microseconds=1) for bound in bounds),
            *(bound + timedelta(microseconds=1) for bound in bounds),
            *(START + timedelta(days=day, hours=5) for day in range(45)),
        }
    )
    seen: set[tuple[tuple[str, str, str], ...]] = set()
    # Forwards and backwards: a remembered choice must not outlive its interval either way.
    for moment in [*moments, *reversed(moments)]:
        outcomes = rules_evaluate(rules=rules, payload=payload, external={}, kind="v", now=moment)
        expected = rules_in_force(rules, kind="v", now=moment)
        assert [outcome.rule for outcome in outcomes] == expected, moment
        seen.add(
            tuple(
                (outcome.rule.identifier, outcome.rule.version, outcome.status.value)
                for outcome in outcomes
            )
        )
    # Control: the moments cover every choice, including version 2 failing one dose.
    assert (("VR-VN-0001", "2.0.0", "failed"),) in seen
    assert (("VR-VN-0001", "1.0.0", "passed"), ("VR-VN-0002", "1.0.0", "passed")) in seen
    assert () in seen
    # A test certificate gets none of these vaccination rules.
    assert rules_evaluate(rules=rules, payload={}, external={}, kind="t", now=START) == []
