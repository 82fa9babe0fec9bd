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
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from cryptography import x509
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from covidhub.certificates.dcc import (
    KeyMaterialInvalid,
    Reason,
    TrustList,
    VerificationResult,
    certificate_load,
    hc1_verify,
    trust_list_build,
)
from covidhub.certificates.models import Revocation, TrustedCertificate

TRUST_LIST_TTL_SECONDS: Final = 60

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


def reason_message(reason: Reason | str) -> str:
    try:
        return str(REASON_MESSAGES[Reason(reason)])
    except ValueError:
        return str(_("The certificate is not valid."))


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


@dataclass(frozen=True)
class VerificationOutcome:
    """What a verifier shows; personal fields are filled only for a valid certificate."""

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


def certificate_verify(*, text: str, now: datetime | None = None) -> VerificationOutcome:
    """Verify a scanned HC1 text; never raises for any text."""
    moment = now or timezone.now()
    result = hc1_verify(
        text=text if isinstance(text, str) else "",
        trust_list=trust_list_current(),
        now=moment,
        revoked_uvcis=_RevokedInDatabase(Revocation.Kind.UVCI),  # type: ignore[arg-type]
        revoked_kids=_RevokedInDatabase(Revocation.Kind.KID),  # type: ignore[arg-type]
    )
    valid = result.valid
    return VerificationOutcome(
        result=result,
        valid=valid,
        reason=str(result.reason),
        message=reason_message(result.reason),
        certificate_type=result.certificate_type if valid else None,
        family_name=(result.family_name or "") if valid else "",
        given_name=(result.given_name or "") if valid else "",
        date_of_birth=(result.date_of_birth or "") if valid else "",
        expires_at=result.expires_at if valid else None,
        uvci=result.uvci if valid else None,
        kid=result.kid.hex() if valid and result.kid else None,
    )


def uvci_hash(uvci: str) -> str:
    """The published form of a revoked UVCI: SHA-256 of its upper-case text, hex."""
    return hashlib.sha256(uvci.upper().encode()).hexdigest()
