"""The province's signing keys: creation, CSR, import, rotation, and the current signer.

The passphrase that encrypts private keys comes from the environment
(`COVIDHUB_DSC_PASSPHRASE`, or `COVIDHUB_DSC_PASSPHRASE_FILE` for a mounted secret); in
production it is required, in development a fixed default keeps `scripts/run` working.
Production (settings.PRODUCTION) refuses development keys: when creating them, when
importing a certificate issued by a development CSCA, and when loading one to sign.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from config.env import env_str
from covidhub.audit.services import audit_record
from covidhub.certificates.dcc import (
    DccError,
    DocumentSigner,
    KeyMaterialInvalid,
    SigningAlgorithm,
    certificate_is_development,
    certificate_load,
    development_csca_generate,
    development_dsc_generate,
    dsc_key_and_csr_generate,
    kid_for_certificate,
    private_key_load,
    private_key_serialize,
    signer_from_keys,
)
from covidhub.certificates.dcc.keys import certificate_der_published
from covidhub.certificates.errors import KeyRefused, NoSigningKey, domain_error_from
from covidhub.certificates.models import SigningKey, TrustedCertificate
from covidhub.core.errors import NotFound

PASSPHRASE_ENV = "COVIDHUB_DSC_PASSPHRASE"  # noqa: S105 - the variable name
DEVELOPMENT_PASSPHRASE = "covidhub-development-only-passphrase"  # noqa: S105 - development only


def key_passphrase() -> bytes:
    """The passphrase for private keys; production without one is a configuration error."""
    value = env_str(PASSPHRASE_ENV)
    if value:
        return value.encode()
    if settings.PRODUCTION:
        raise ImproperlyConfigured(
            f"{PASSPHRASE_ENV} (or {PASSPHRASE_ENV}_FILE) is required in production"
        )
    return DEVELOPMENT_PASSPHRASE.encode()


def development_keys_allowed() -> bool:
    return not settings.PRODUCTION


def kid_hex(kid: bytes) -> str:
    return kid.hex()


# The current signer, per process: decrypting a key costs a key derivation (tens of ms),
# so it is done once per key and checked against the row's updated_at.
_signer_cache: dict[tuple[int, str], tuple[datetime, DocumentSigner]] = {}
_signer_lock = threading.Lock()


def signer_cache_clear() -> None:
    with _signer_lock:
        _signer_cache.clear()
        _current_key.clear()


def _signer_for(key: SigningKey) -> DocumentSigner:
    with _signer_lock:
        cached = _signer_cache.get((key.pk, key.kid))
    if cached is not None and cached[0] == key.updated_at:
        signer = cached[1]
        if signer.is_development and not development_keys_allowed():
            raise KeyRefused(code="development_key_refused")
        return signer
    try:
        signer = signer_from_keys(
            private_key=private_key_load(
                data=key.private_key_encrypted.encode(), passphrase=key_passphrase()
            ),
            certificate=certificate_load(bytes(key.certificate_der or b"")),
            allow_development=development_keys_allowed(),
        )
    except DccError as error:
        raise domain_error_from(error) from error
    with _signer_lock:
        _signer_cache[(key.pk, key.kid)] = (key.updated_at, signer)
    return signer


CURRENT_KEY_TTL_SECONDS = 30
_current_key: dict[str, tuple[float, SigningKey]] = {}


def signing_key_current(*, now: datetime) -> SigningKey:
    """The newest active key valid at `now`: the one that signs new certificates.

    Remembered per process for CURRENT_KEY_TTL_SECONDS (a query per certificate would
    cost as much as signing it): a key imported or retired in another process takes
    over within that time; the remembered key is used only while valid at `now`.
    """
    with _signer_lock:
        cached = _current_key.get("key")
    if cached is not None and time.monotonic() - cached[0] < CURRENT_KEY_TTL_SECONDS:
        key = cached[1]
        start, end = key.not_valid_before, key.not_valid_after
        if start is not None and end is not None and start <= now < end:
            return key
    found = (
        SigningKey.objects.filter(
            status=SigningKey.Status.ACTIVE,
            not_valid_before__lte=now,
            not_valid_after__gt=now,
        )
        .order_by("-not_valid_before", "-id")
        .first()
    )
    if found is None:
        raise NoSigningKey()
    with _signer_lock:
        _current_key["key"] = (time.monotonic(), found)
    return found


def signer_current(*, now: datetime) -> tuple[SigningKey, DocumentSigner]:
    """The current key and its loaded signer; production refuses a development key."""
    key = signing_key_current(now=now)
    if key.is_development and not development_keys_allowed():
        raise KeyRefused(code="development_key_refused")
    return key, _signer_for(key)


@dataclass(frozen=True)
class CertificateFacts:
    kid: str
    country: str
    subject: str
    not_valid_before: datetime
    not_valid_after: datetime
    fingerprint: str


def _facts(certificate: x509.Certificate) -> CertificateFacts:
    countries = certificate.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)
    der = certificate_der_published(certificate)
    return CertificateFacts(
        kid=kid_hex(kid_for_certificate(certificate)),
        country=str(countries[0].value) if countries else "",
        subject=certificate.subject.rfc4514_string()[:300],
        not_valid_before=certificate.not_valid_before_utc,
        not_valid_after=certificate.not_valid_after_utc,
        fingerprint=hashlib.sha256(der).hexdigest(),
    )


def _activate(key: SigningKey, certificate: x509.Certificate) -> SigningKey:
    facts = _facts(certificate)
    if SigningKey.objects.filter(kid=facts.kid).exclude(pk=key.pk).exists():
        raise KeyRefused(code="key_duplicate")
    key.certificate_der = certificate.public_bytes(serialization.Encoding.DER)
    key.kid = facts.kid
    key.not_valid_before = facts.not_valid_before
    key.not_valid_after = facts.not_valid_after
    key.is_development = certificate_is_development(certificate)
    key.status = SigningKey.Status.ACTIVE
    key.csr_pem = ""
    key.save()
    TrustedCertificate.objects.update_or_create(
        fingerprint=facts.fingerprint,
        defaults={
            "kid": facts.kid,
            "certificate_der": key.certificate_der,
            "country": facts.country or "VN",
            "subject": facts.subject,
            "source": TrustedCertificate.Source.OWN,
            "signing_key": key,
            "not_valid_before": facts.not_valid_before,
            "not_valid_after": facts.not_valid_after,
        },
    )
    trust_list_changed()
    return key


@transaction.atomic
def signing_key_create_development(
    *,
    actor: Any,
    now: datetime | None = None,
    valid_for: timedelta = timedelta(days=2 * 365),
    label: str = "development DSC",
) -> tuple[SigningKey, x509.Certificate]:
    """A development CSCA and a DSC it signs; refused in production. Returns the CSCA."""
    if not development_keys_allowed():
        raise KeyRefused(code="development_key_refused")
    moment = now or timezone.now()
    csca = development_csca_generate(now=moment - timedelta(minutes=5))
    dsc = development_dsc_generate(
        csca=csca, now=moment - timedelta(minutes=5), valid_for=valid_for
    )
    key = SigningKey(
        label=label,
        algorithm="ES256",
        private_key_encrypted=private_key_serialize(
            private_key=dsc.private_key, passphrase=key_passphrase()
        ).decode(),
    )
    key.save()
    _activate(key, dsc.certificate)
    audit_record(
        actor=actor,
        action="certificates.key.created",
        obj=key,
        details={"kid": key.kid, "development": True},
    )
    return key, csca.certificate


@transaction.atomic
def signing_key_request(
    *,
    actor: Any,
    organization: str,
    common_name: str,
    algorithm: SigningAlgorithm = "ES256",
    label: str = "",
) -> SigningKey:
    """A new key pair (stored encrypted) and its CSR for the national CSCA to sign."""
    private_key, csr = dsc_key_and_csr_generate(
        organization=organization, common_name=common_name, algorithm=algorithm
    )
    key = SigningKey.objects.create(
        label=label or common_name,
        algorithm=algorithm,
        private_key_encrypted=private_key_serialize(
            private_key=private_key, passphrase=key_passphrase()
        ).decode(),
        csr_pem=csr.public_bytes(serialization.Encoding.PEM).decode(),
        status=SigningKey.Status.PENDING,
    )
    audit_record(actor=actor, action="certificates.key.requested", obj=key, details={})
    return key


@transaction.atomic
def signing_key_import_certificate(
    *,
    actor: Any,
    key: SigningKey,
    certificate_data: bytes,
    csca_data: bytes | None = None,
) -> SigningKey:
    """Attach the DSC signed by the CSCA to its pending key, after checking they match."""
    key = SigningKey.objects.select_for_update().get(pk=key.pk)
    if key.status != SigningKey.Status.PENDING:
        raise KeyRefused(code="key_not_pending")
    try:
        certificate = certificate_load(certificate_data)
        csca = certificate_load(csca_data) if csca_data else None
        signer_from_keys(
            private_key=private_key_load(
                data=key.private_key_encrypted.encode(), passphrase=key_passphrase()
            ),
            certificate=certificate,
            allow_development=development_keys_allowed(),
            csca=csca,
        )
    except DccError as error:
        raise domain_error_from(error) from error
    _activate(key, certificate)
    audit_record(actor=actor, action="certificates.key.imported", obj=key, details={"kid": key.kid})
    return key


@transaction.atomic
def signing_key_retire(*, actor: Any, key: SigningKey) -> SigningKey:
    """Stop signing with a key; it stays in the trust list so its certificates verify."""
    key = SigningKey.objects.select_for_update().get(pk=key.pk)
    if key.status == SigningKey.Status.ACTIVE:
        key.status = SigningKey.Status.RETIRED
        key.save(update_fields=["status", "updated_at"])
        trust_list_changed()
        audit_record(
            actor=actor, action="certificates.key.retired", obj=key, details={"kid": key.kid}
        )
    return key


def signing_key_get(*, kid_or_uuid: str) -> SigningKey:
    text = kid_or_uuid.strip().lower()
    key = SigningKey.objects.filter(kid=text).first()
    if key is None:
        try:
            key = SigningKey.objects.filter(uuid=uuid.UUID(text)).first()
        except ValueError:
            key = None
    if key is None:
        raise NotFound()
    return key


@transaction.atomic
def trust_list_import(*, actor: Any, certificates_data: list[bytes]) -> int:
    """Add foreign or national DSCs to the trust list; returns how many were new.

    Unreadable certificates are refused as a whole (nothing is imported), so that a
    damaged national list does not silently become a partial one.
    """
    loaded: list[x509.Certificate] = []
    for data in certificates_data:
        try:
            loaded.append(certificate_load(data))
        except KeyMaterialInvalid as error:
            raise domain_error_from(error) from error
    added = 0
    for certificate in loaded:
        facts = _facts(certificate)
        _entry, created = TrustedCertificate.objects.get_or_create(
            fingerprint=facts.fingerprint,
            defaults={
                "kid": facts.kid,
                "certificate_der": certificate_der_published(certificate),
                "country": facts.country or "XX",
                "subject": facts.subject,
                "source": TrustedCertificate.Source.IMPORTED,
                "not_valid_before": facts.not_valid_before,
                "not_valid_after": facts.not_valid_after,
            },
        )
        added += int(created)
    audit_record(
        actor=actor,
        action="certificates.trust_list.imported",
        details={"count": len(loaded), "added": added},
    )
    trust_list_changed()
    return added


def trust_list_changed() -> None:
    """Forget cached trust lists (this process now, other processes at their next check)."""
    from covidhub.certificates import verification

    verification.trust_list_cache_clear()
    signer_cache_clear()
    transaction.on_commit(verification.trust_list_cache_clear)
    transaction.on_commit(signer_cache_clear)
