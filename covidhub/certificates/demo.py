"""Demo data: a development signing key, and the certificates of the demo province's
doses and results, issued from those records as the worker would (never made up apart,
so that /certificates/ agrees with /vaccination/me/ and the test results)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from covidhub.certificates.healthcard_keys import healthcard_key_rotate
from covidhub.certificates.keystore import signing_key_create_development
from covidhub.certificates.models import HealthCardKey, IssuedCertificate, SigningKey
from covidhub.certificates.receivers import (
    RESULT_SOURCE,
    pending_drain,
    results_certificates_issue,
)


def certificates_seed(**context: Any) -> list[str]:
    """Idempotent: a key only when none is active; certificates keyed by their source."""
    if settings.PRODUCTION:
        return []
    from covidhub.testing.models import Result

    lines: list[str] = []
    if not SigningKey.objects.filter(status=SigningKey.Status.ACTIVE).exists():
        key, _csca = signing_key_create_development(actor=None, label="demo DSC")
        lines.append(f"  certificates: development signing key {key.kid}")
    if not HealthCardKey.objects.filter(status=HealthCardKey.Status.ACTIVE).exists():
        card_key = healthcard_key_rotate(actor=None)
        lines.append(f"  certificates: SMART Health Card issuer key {card_key.kid}")
    # The doses seeded by vaccination are queued as every dose is; issue them now rather
    # than when the worker first runs. Results go the same way (the worker's tasks for
    # them then find them issued: one live certificate per source is a constraint).
    drained = pending_drain()
    certified = {
        source_id.split(":", 1)[0]
        for source_id in IssuedCertificate.objects.filter(source_type=RESULT_SOURCE).values_list(
            "source_id", flat=True
        )
    }
    pending = [
        pk for pk, uuid in Result.objects.values_list("pk", "uuid") if str(uuid) not in certified
    ]
    issued = results_certificates_issue(result_ids=pending) if pending else {}
    if drained.get("issued") or issued.get("issued"):
        lines.append("  certificates: issued from the demo doses and test results (/certificates/)")
    lines += _status_rules_seed()
    lines += _acceptance_rules_seed()
    return lines


def _acceptance_rules_seed() -> list[str]:
    """The province officer is reviewing a first draft of the travel rules, taken from the
    shipped EU-format rules (/staff/certificates/acceptance-rules/travel/)."""
    from covidhub.accounts.models import User
    from covidhub.certificates.acceptance import (
        acceptance_rules_draft_create,
        shipped_rule_documents,
    )
    from covidhub.certificates.models import AcceptanceRuleSet

    purpose = AcceptanceRuleSet.Purpose.TRAVEL
    officer = User.objects.filter(username="tinh").first()
    if officer is None or AcceptanceRuleSet.objects.filter(purpose=purpose).exists():
        return []
    acceptance_rules_draft_create(
        actor=officer,
        purpose=purpose,
        documents=shipped_rule_documents(purpose),
        note="Dự thảo quy tắc cho đi lại, từ bộ quy tắc mẫu",
    )
    return ["  certificates: travel acceptance rules drafted"]


def _status_rules_seed() -> list[str]:
    """The province's status-card rules: version 1 (the built-in rules) in force, and a
    draft version 2 that the province officer is weighing (/staff/certificates/status-rules/):
    a negative test of the last 72 hours also makes the card green."""
    from dataclasses import replace

    from covidhub.accounts.models import User
    from covidhub.certificates.models import StatusRuleSet
    from covidhub.certificates.status_rules import (
        DEFAULT_RULES,
        status_rules_activate,
        status_rules_draft_create,
    )

    officer = User.objects.filter(username="tinh").first()
    if officer is None or StatusRuleSet.objects.exists():
        return []
    first = status_rules_draft_create(
        actor=officer, rules=DEFAULT_RULES, note="Quy tắc ban đầu của tỉnh"
    )
    status_rules_activate(actor=officer, rule_set=first)
    status_rules_draft_create(
        actor=officer,
        rules=replace(DEFAULT_RULES, green_negative_test_hours=72),
        note="Dự thảo: xét nghiệm âm tính trong 72 giờ cũng cho thẻ xanh",
    )
    return ["  certificates: status rules v1 in force, v2 drafted"]
