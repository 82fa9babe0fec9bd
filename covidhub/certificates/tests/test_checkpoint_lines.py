"""The checkpoint's rule lines against the rule outcomes they stand for.

`checkpoint_verify` turns the rule program's results into screen lines directly;
`rules_check` (the status card's preview, the API's rule outcome) reads the same results
as `RuleOutcome`s. Both must say the same of every rule: same status, and beside a failed
rule the same affected values."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import translation

from covidhub.certificates.acceptance import rules_check
from covidhub.certificates.dcc import (
    development_csca_generate,
    development_dsc_generate,
    hc1_issue,
    hcert_build_recovery,
    hcert_build_test,
    hcert_build_vaccination,
    signer_from_keys,
    trust_list_build,
    value_sets_load,
)
from covidhub.certificates.dcc.rules import RuleStatus, rules_parse
from covidhub.certificates.dcc.valuesets import DATA_DIRECTORY
from covidhub.certificates.verification import checkpoint_verify

NOW = datetime.now(UTC)
PERSON = {"family_name": "Nguyễn", "given_name": "Văn An", "date_of_birth": "1968-11-02"}
ISSUER = "Sở Y tế tỉnh Hải Dương"


def _payloads():
    today = NOW.date()
    return {
        "vaccination": hcert_build_vaccination(
            **PERSON,
            prophylaxis="1119349007",
            medicinal_product="EU/1/20/1528",
            manufacturer="ORG-100030215",
            dose_number=1,
            total_doses=2,
            vaccination_date=today - timedelta(days=300),
            issuer=ISSUER,
        ),
        "test": hcert_build_test(
            **PERSON,
            test_type="LP6464-4",
            sample_collected_at=NOW - timedelta(hours=80),
            result="260373001",
            naa_test_name="PCR",
            testing_centre="CDC Hải Dương",
            issuer=ISSUER,
        ),
        "recovery": hcert_build_recovery(
            **PERSON,
            first_positive_on=today - timedelta(days=5),
            valid_from=today + timedelta(days=6),
            valid_until=date(today.year + 1, 1, 1),
            issuer=ISSUER,
        ),
    }


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("kind", ["vaccination", "test", "recovery"])
def test_screen_lines_say_what_the_rule_outcomes_say(kind, language):
    documents = json.loads((DATA_DIRECTORY / "rules" / "travel.json").read_text())
    rules = rules_parse([{**document, "CertificateType": "General"} for document in documents])
    value_sets = value_sets_load()
    csca = development_csca_generate(now=NOW - timedelta(days=2))
    dsc = development_dsc_generate(csca=csca, now=NOW - timedelta(days=1))
    signer = signer_from_keys(
        private_key=dsc.private_key, certificate=dsc.certificate, allow_development=True
    )
    text = hc1_issue(
        hcert=_payloads()[kind], signer=signer, issued_at=NOW, expires_at=NOW + timedelta(days=9)
    )
    with translation.override(language):
        outcome = checkpoint_verify(
            text=text,
            now=NOW,
            trust_list=trust_list_build([dsc.certificate]),
            revoked_uvcis=frozenset(),
            revoked_kids=frozenset(),
            value_sets=value_sets,
            purpose="travel",
            rules=rules,
            rules_version=3,
        )
    assert outcome.valid and outcome.rules_version == 3
    checked = rules_check(
        purpose="travel",
        payload=dict(outcome.result.payload),
        kind=outcome.result.certificate_type,
        now=NOW,
        issued_at=outcome.result.issued_at,
        expires_at=outcome.result.expires_at,
        rules=rules,
        rules_version=3,
        value_sets=value_sets,
    )
    expected = {
        outcome_.rule.identifier: (
            outcome_.status.value,
            outcome_.rule.description(language),
            ", ".join(f"{path} = {value}" for path, value in outcome_.values.items() if value),
        )
        for outcome_ in checked.outcomes
    }
    assert {line.identifier: line[1:] for line in outcome.rules} == expected
    statuses = [line.status for line in outcome.rules]
    assert statuses == sorted(statuses, key=["failed", "open", "passed"].index)
    # Each kind fails or leaves open some of the other kinds' rules, and fails one of its own.
    assert {RuleStatus.FAILED.value, RuleStatus.OPEN.value} <= set(statuses)
    assert outcome.verdict == "refused"
    assert any(line.values for line in outcome.rules if line.status == "failed")
