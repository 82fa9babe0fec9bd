"""The signature of a DCC: which keys the spec allows, the check through OpenSSL, and
what a verification reads from a trusted DSC (read once per certificate)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from .keys import CertificateKind, certificate_usages

COSE_ALGORITHM_ES256: Final = -7
COSE_ALGORITHM_PS256: Final = -37
MIN_RSA_BITS: Final = 2048


def key_supported(public_key: object, algorithm: int) -> bool:
    """Whether the spec allows this key for this algorithm: EC P-256 for ES256, RSA of
    at least 2048 bits for PS256. Any other key is "unsupported", not a forgery."""
    if algorithm == COSE_ALGORITHM_ES256:
        return isinstance(public_key, ec.EllipticCurvePublicKey) and isinstance(
            public_key.curve, ec.SECP256R1
        )
    return isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size >= MIN_RSA_BITS


def signature_verifies(*, public_key: Any, algorithm: int, data: bytes, signature: bytes) -> bool:
    try:
        if algorithm == COSE_ALGORITHM_ES256:
            if len(signature) != 64:
                return False
            der = encode_dss_signature(
                int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            )
            public_key.verify(der, data, ec.ECDSA(hashes.SHA256()))
            return True
        # RFC 8230: PSS with MGF1-SHA-256 and a salt as long as the hash.
        public_key.verify(
            signature,
            data,
            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH),
            hashes.SHA256(),
        )
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False


def public_key_or_none(certificate: x509.Certificate) -> object:
    try:
        return certificate.public_key()
    except (ValueError, TypeError):
        # A trust-list certificate with a key cryptography cannot read.
        return None


@dataclass(frozen=True, slots=True)
class SignerFacts:
    """What a verification reads from a trusted DSC, read once per certificate."""

    public_key: object
    algorithms: frozenset[int]
    """The COSE algorithms the spec allows with this key (`key_supported`)."""
    not_before: datetime
    not_after: datetime
    usages: frozenset[CertificateKind] | None
    not_before_timestamp: float = 0.0
    not_after_timestamp: float = 0.0
    """The validity as POSIX seconds, to compare with the CWT's NumericDates."""


SIGNER_FACTS_MAX: Final = 8192
signer_facts_cache: dict[int, tuple[x509.Certificate, SignerFacts]] = {}


def signer_facts(certificate: x509.Certificate) -> SignerFacts:
    """The key, validity and usages of a trusted DSC. A trust list is read for every scan
    and a country's list holds thousands of DSCs; parsing the key and the extensions
    again each time cost a fifth of a verification. Keyed by the certificate object
    (hashing it would hash its DER on every scan); the entry holds the certificate, so
    its id is not reused while the entry lives."""
    entry = signer_facts_cache.get(id(certificate))
    if entry is not None and entry[0] is certificate:
        return entry[1]
    public_key = public_key_or_none(certificate)
    try:
        usages = certificate_usages(certificate)
    except ValueError:
        # cryptography parses extensions lazily; a malformed one must not pass.
        usages = frozenset()
    facts = SignerFacts(
        public_key=public_key,
        algorithms=frozenset(
            algorithm
            for algorithm in (COSE_ALGORITHM_ES256, COSE_ALGORITHM_PS256)
            if key_supported(public_key, algorithm)
        ),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        usages=usages,
        not_before_timestamp=certificate.not_valid_before_utc.timestamp(),
        not_after_timestamp=certificate.not_valid_after_utc.timestamp(),
    )
    if len(signer_facts_cache) >= SIGNER_FACTS_MAX:
        signer_facts_cache.clear()  # trust lists are replaced whole: old entries go
    signer_facts_cache[id(certificate)] = (certificate, facts)
    return facts
