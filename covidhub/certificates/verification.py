"""Verifying a scanned HC1 text against our trust list and revocations (the online path).

The trust list is built once per process and rebuilt after a change in this process or,
for changes made elsewhere, at most `TRUST_LIST_TTL_SECONDS` later. Revocations are read
from the database at every verification (one indexed lookup each for the UVCI and the
kid), so a revocation takes effect at once.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, NamedTuple

from cryptography import x509
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from covidhub.certificates.acceptance import (
    DEFAULT_PURPOSE,
    acceptance_rules_active,
    rules_results,
)
from covidhub.certificates.dcc import (
    KeyMaterialInvalid,
    Reason,
    TrustList,
    VerificationResult,
    certificate_load,
    hc1_verify,
    trust_list_build,
)
from covidhub.certificates.dcc.rules import Rule, RulesInForce, RuleStatus, rule_values_text
from covidhub.certificates.dcc.valuesets import ValueSets
from covidhub.certificates.dcc.verify import NoteCode
from covidhub.certificates.models import Revocation, TrustedCertificate
from covidhub.certificates.value_sets import value_sets_current

TRUST_LIST_TTL_SECONDS: Final = 60

_ACTIVE: Final[Any] = object()
"""The default of a `language` argument: read the active language."""

REASON_MESSAGES: dict[Reason, Promise] = {
    Reason.VALID: _("Valid certificate."),
    Reason.INPUT_TOO_LARGE: _("The text is too long to be a certificate."),
    Reason.BAD_PREFIX: _("This is not an EU digital COVID certificate (no HC1: prefix)."),
    Reason.BASE45_INVALID: _("The QR text is damaged (not valid Base45)."),
    Reason.ZLIB_INVALID: _("The QR text is damaged (compression)."),
    Reason.COSE_INVALID: _("The QR text is damaged (signature envelope)."),
    Reason.CBOR_INVALID: _("The certificate content cannot be read."),
    Reason.UNKNOWN_KID: _("The certificate was signed by a key we do not know."),
    Reason.UNSUPPORTED_ALGORITHM: _("The certificate uses an unsupported signature algorithm."),
    Reason.SIGNATURE_INVALID: _("The signature is not valid: the certificate may be forged."),
    Reason.UNSUPPORTED_KEY: _(
        "The certificate was signed with a key type the EU specification does not allow "
        "(unsupported key)."
    ),
    Reason.ISSUED_BEFORE_DSC: _(
        "The certificate claims to be issued before its signing key was valid."
    ),
    Reason.KEY_REVOKED: _("The key that signed this certificate has been revoked."),
    Reason.DSC_EXPIRED: _("The signing key of this certificate has expired."),
    Reason.DSC_NOT_YET_VALID: _("The signing key of this certificate is not yet valid."),
    Reason.DSC_USAGE: _("The signing key may not sign this type of certificate."),
    Reason.EXPIRED: _("The certificate has expired."),
    Reason.NOT_YET_VALID: _("The certificate is not yet valid."),
    Reason.SCHEMA_INVALID: _("The certificate content does not match the EU DCC schema."),
    Reason.UNKNOWN_CODE: _("The certificate contains an unknown code."),
    Reason.REVOKED: _("This certificate has been revoked."),
}


def reason_message(reason: Reason | str, *, language: str | None = _ACTIVE) -> str:
    """The reason's message in the active language (`language`: the active language
    read already by the caller)."""
    # A Reason is a str enum: its text finds it without the enum's (Python) lookup.
    message = REASON_MESSAGES.get(reason)  # type: ignore[arg-type]
    if message is None:
        return str(_("The certificate is not valid."))
    return _translated(message, language)


_translations: dict[tuple[str | None, int], str] = {}


def _translated(message: Promise, language: str | None = _ACTIVE) -> str:
    """`str(message)` in the active language, remembered: catalogues do not change while
    a process runs, and a checkpoint shows the same few messages on every scan.

    `language` is `get_language()` when the caller has read it already: reading the
    active language (an asgiref `Local`) costs more than the rest of this look-up, and
    a scan needs it for its reason, its verdict and its rule lines."""
    if language is _ACTIVE:
        language = get_language()
    key = (language, id(message))  # the messages are module constants
    text = _translations.get(key)
    if text is None:
        text = _translations[key] = str(message)
    return text


_cache_lock = threading.Lock()
_cache: dict[str, tuple[float, TrustList, list[TrustedCertificate]]] = {}


def trust_list_cache_clear() -> None:
    with _cache_lock:
        _cache.clear()


def _trusted_entries() -> list[TrustedCertificate]:
    return list(TrustedCertificate.objects.order_by("country", "kid", "id"))


def trust_list_current() -> TrustList:
    """Every trusted DSC keyed by kid, cached per process."""
    with _cache_lock:
        cached = _cache.get("trust")
    if cached is not None and time.monotonic() - cached[0] < TRUST_LIST_TTL_SECONDS:
        return cached[1]
    entries = _trusted_entries()
    certificates: list[x509.Certificate] = []
    for entry in entries:
        try:
            certificates.append(certificate_load(bytes(entry.certificate_der)))
        except KeyMaterialInvalid:
            continue
    trust_list = trust_list_build(certificates)
    with _cache_lock:
        _cache["trust"] = (time.monotonic(), trust_list, entries)
    return trust_list


class _RevokedInDatabase:
    """A `Collection` whose membership test is one indexed query, memoised per value.

    `hc1_verify` asks only about the scanned certificate's UVCI and kid, so loading the
    whole (country-sized) revocation list per scan would be waste.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._answers: dict[str, bool] = {}

    def _normal(self, value: object) -> str | None:
        if self.kind == Revocation.Kind.KID:
            return value.hex() if isinstance(value, bytes) else None
        return value.upper() if isinstance(value, str) else None

    def __contains__(self, value: object) -> bool:
        key = self._normal(value)
        if key is None:
            return False
        if key not in self._answers:
            self._answers[key] = Revocation.objects.filter(kind=self.kind, value=key).exists()
        return self._answers[key]

    def __iter__(self) -> Iterator[str]:
        return iter(Revocation.objects.filter(kind=self.kind).values_list("value", flat=True))

    def __len__(self) -> int:
        return Revocation.objects.filter(kind=self.kind).count()


VALUE_SET_LABELS: dict[str, Promise] = {
    "vaccine-medicinal-product": _("Unknown vaccine product %(code)s"),
    "vaccine-mah-manf": _("Unknown vaccine manufacturer %(code)s"),
    "vaccine-prophylaxis": _("Unknown vaccine type %(code)s"),
    "test-manf": _("Unknown rapid test device %(code)s"),
    "test-type": _("Unknown test type %(code)s"),
    "test-result": _("Unknown test result %(code)s"),
    "disease-agent-targeted": _("Unknown disease %(code)s"),
    "country-2-codes": _("Unknown country %(code)s"),
}
NOTE_MESSAGES: dict[NoteCode, Promise] = {
    NoteCode.DATE_TIME_AS_DATE: _(
        "%(field)s was written as a date-time (%(value)s); read as its date."
    ),
    NoteCode.TAGGED_TIMESTAMP: _("%(field)s was a tagged CBOR timestamp; read as %(value)s."),
    NoteCode.FORMAT: _("%(field)s does not follow the expected format (%(value)s)."),
    NoteCode.EXPIRES_AFTER_DSC: _(
        "The certificate's expiry lies beyond its signing key's end (%(value)s)."
    ),
}
VERDICT_MESSAGES: dict[str, Promise] = {
    "accepted": _("Genuine, and every rule of this checkpoint is met."),
    "refused": _("Genuine, but a rule of this checkpoint is not met."),
    "open": _("Genuine; some rules could not be decided: check them by hand."),
    "invalid": _("Not a valid certificate."),
}


class RuleLine(NamedTuple):
    """One rule as the verifier screen shows it, in the reader's language (a named
    tuple: twenty per scan)."""

    identifier: str
    status: str
    description: str
    values: str = ""


class VerificationOutcome(NamedTuple):
    """What a verifier shows; personal fields are filled only for a valid certificate.

    `valid` is the cryptographic result (signature, key, times, revocation, schema);
    `verdict` adds the rules of the checkpoint's purpose: accepted, refused, open, or
    invalid when the cryptographic result already refused it.
    """

    result: VerificationResult
    valid: bool
    reason: str
    message: str
    certificate_type: str | None
    family_name: str
    given_name: str
    date_of_birth: str
    expires_at: datetime | None
    uvci: str | None
    kid: str | None
    verdict: str = "invalid"
    verdict_message: str = ""
    purpose: str = DEFAULT_PURPOSE
    rules_version: int | None = None
    value_sets_version: str | None = None
    rules: tuple[RuleLine, ...] = ()
    notes: tuple[str, ...] = ()


_PASSED: Final = RuleStatus.PASSED.value
_OPEN: Final = RuleStatus.OPEN.value
_FAILED: Final = RuleStatus.FAILED.value

_LINE_TABLES_MAX: Final = 256
_line_tables: dict[tuple[int, str], tuple[RulesInForce, tuple[tuple[RuleLine, RuleLine], ...]]] = {}


def _line_table(in_force: RulesInForce, language: str) -> tuple[tuple[RuleLine, RuleLine], ...]:
    """Each rule's screen line when it passes and when it is open, made once per choice
    of rules and language: those lines hold only the rule's identifier, status and
    description (the values of the affected fields are shown only beside a failed
    rule). The entry holds the rules in force, so their id is not reused meanwhile."""
    key = (id(in_force), language)
    entry = _line_tables.get(key)
    if entry is not None and entry[0] is in_force:
        return entry[1]
    table = tuple(
        (
            RuleLine(rule.identifier, _PASSED, rule.description(language)),
            RuleLine(rule.identifier, _OPEN, rule.description(language)),
        )
        for rule in in_force.rules
    )
    if len(_line_tables) >= _LINE_TABLES_MAX:
        _line_tables.clear()  # rule sets change rarely: a full table is old sets
    _line_tables[key] = (in_force, table)
    return table


def _rule_lines(
    in_force: RulesInForce,
    results: Sequence[Any],
    payload: Mapping[str, Any],
    result: VerificationResult,
    language: str,
) -> list[RuleLine]:
    """The screen's lines for the results of `rules_run`, read as `rules_outcomes` reads
    them (`true` passed, `false` failed, anything else open): failed first, then open
    (unknown codes, then open rules), then passed, each in the rules' order."""
    failed: list[RuleLine] = []
    opened = (
        [
            RuleLine(
                identifier=f"VS-{issue.field}",
                status=_OPEN,
                description=str(
                    VALUE_SET_LABELS.get(issue.value_set, _("Unknown code %(code)s"))
                    % {"code": issue.code}
                ),
            )
            for issue in result.code_issues
        ]
        if result.code_issues
        else []
    )
    passed: list[RuleLine] = []
    for rule, (passed_line, open_line), value in zip(
        in_force.rules, _line_table(in_force, language), results, strict=True
    ):
        if value is True:
            passed.append(passed_line)
        elif value is False:
            failed.append(
                RuleLine(
                    rule.identifier,
                    _FAILED,
                    passed_line.description,
                    rule_values_text(rule, payload),
                )
            )
        else:
            opened.append(open_line)
    return failed + opened + passed


def certificate_verify(
    *, text: str, now: datetime | None = None, purpose: str = DEFAULT_PURPOSE
) -> VerificationOutcome:
    """Verify a scanned HC1 text and apply the purpose's rules; never raises for any text.

    The lists in force (trust list, value sets, the purpose's rules: cached per process)
    and the revocations in the database, given to `checkpoint_verify`.
    """
    rules_version, rules = acceptance_rules_active(purpose)
    return checkpoint_verify(
        text=text,
        now=now or timezone.now(),
        trust_list=trust_list_current(),
        revoked_uvcis=_RevokedInDatabase(Revocation.Kind.UVCI),  # type: ignore[arg-type]
        revoked_kids=_RevokedInDatabase(Revocation.Kind.KID),  # type: ignore[arg-type]
        value_sets=value_sets_current(),
        purpose=purpose,
        rules=rules,
        rules_version=rules_version,
    )


def checkpoint_verify(
    *,
    text: str,
    now: datetime,
    trust_list: TrustList,
    revoked_uvcis: Collection[str],
    revoked_kids: Collection[bytes],
    value_sets: ValueSets,
    purpose: str,
    rules: Sequence[Rule],
    rules_version: int,
) -> VerificationOutcome:
    """The whole verification a checkpoint makes, on the lists it is given: signature,
    trust, times, revocation, schema and value sets (`hc1_verify`), then the purpose's
    rules, as the screen shows them. `certificate_verify` is this on the lists in force;
    the benchmark runs this very function."""
    moment, sets = now, value_sets
    language = get_language()  # read once: it is an asgiref Local
    result = hc1_verify(
        text=text if isinstance(text, str) else "",
        trust_list=trust_list,
        now=moment,
        revoked_uvcis=revoked_uvcis,
        revoked_kids=revoked_kids,
        value_sets=sets,
    )
    valid = result.valid
    verdict = "invalid"
    lines: list[RuleLine] = []
    checked_version: int | None = None
    payload = result.payload
    if valid and payload is not None:
        checked_version = rules_version or 0
        in_force, results = rules_results(
            payload=payload,  # type: ignore[arg-type]
            kind=result.certificate_type,
            now=moment,
            issued_at=result.issued_at,
            expires_at=result.expires_at,
            rules=rules,
            value_sets=sets,
        )
        lines = _rule_lines(in_force, results, payload, result, language or "vi")
        # The lines are sorted failed, open, passed: the first one decides.
        first = lines[0].status if lines else None
        verdict = "refused" if first == _FAILED else "open" if first == _OPEN else "accepted"
    notes = (
        tuple(
            str(NOTE_MESSAGES[note.code] % {"field": note.field, "value": note.value})
            for note in result.notes
            if note.code is not NoteCode.TAGGED_TIMESTAMP
        )
        if valid and result.notes
        else ()
    )
    return VerificationOutcome(
        result=result,
        valid=valid,
        reason=str(result.reason),
        message=reason_message(result.reason, language=language),
        certificate_type=result.certificate_type if valid else None,
        family_name=(result.family_name or "") if valid else "",
        given_name=(result.given_name or "") if valid else "",
        date_of_birth=(result.date_of_birth or "") if valid else "",
        expires_at=result.expires_at if valid else None,
        uvci=result.uvci if valid else None,
        kid=result.kid.hex() if valid and result.kid else None,
        verdict=verdict,
        verdict_message=_translated(VERDICT_MESSAGES[verdict], language),
        purpose=purpose,
        rules_version=checked_version,
        value_sets_version=result.value_sets_version,
        rules=tuple(lines),
        notes=notes,
    )


def uvci_hash(uvci: str) -> str:
    """The published form of a revoked UVCI: SHA-256 of its upper-case text, hex."""
    return hashlib.sha256(uvci.upper().encode()).hexdigest()
