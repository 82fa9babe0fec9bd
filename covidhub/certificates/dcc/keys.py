"""Keys and certificates: the province's document signer (DSC) and development CSCAs.

In production the national CSCA signs our DSC: we generate a key pair and a PKCS#10
request here, the CSCA returns a certificate, and `signer_load` checks that it matches
the key. For development and tests a self-signed CSCA stands in; everything it issues
carries the subject organisation "covidhub development", so that production
(`allow_development=False`) refuses to sign with it even if the files are copied over.

Private keys are only ever serialized encrypted with a passphrase.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, Literal

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from .errors import KeyMaterialInvalid

type SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
type SigningAlgorithm = Literal["ES256", "PS256"]
type CertificateKind = Literal["v", "t", "r"]

DEVELOPMENT_MARKER: Final = "covidhub development"
RSA_KEY_SIZE: Final = 3072

# Extended key usages that restrict a DSC to some certificate kinds (hcert spec 5.1.1).
# Both arcs are in use: the registered one and the 1.3.6.1.4.1.0.1847 variant that the
# first specification drafts printed and several countries issued.
DSC_USAGE_OIDS: Final[dict[CertificateKind, tuple[x509.ObjectIdentifier, ...]]] = {
    "t": (
        x509.ObjectIdentifier("1.3.6.1.4.1.1847.2021.1.1"),
        x509.ObjectIdentifier("1.3.6.1.4.1.0.1847.2021.1.1"),
    ),
    "v": (
        x509.ObjectIdentifier("1.3.6.1.4.1.1847.2021.1.2"),
        x509.ObjectIdentifier("1.3.6.1.4.1.0.1847.2021.1.2"),
    ),
    "r": (
        x509.ObjectIdentifier("1.3.6.1.4.1.1847.2021.1.3"),
        x509.ObjectIdentifier("1.3.6.1.4.1.0.1847.2021.1.3"),
    ),
}


@dataclass(frozen=True, slots=True)
class KeyAndCertificate:
    private_key: SigningKey
    certificate: x509.Certificate


@dataclass(frozen=True, slots=True)
class DocumentSigner:
    """A DSC with its private key, checked to match; build it with `signer_from_keys`."""

    private_key: SigningKey
    certificate: x509.Certificate
    # Derived once: a signer signs thousands of certificates, and each would otherwise
    # serialise and hash the DSC again for its kid.
    kid: bytes = field(init=False, repr=False, compare=False)
    is_development: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kid", kid_for_certificate(self.certificate))
        object.__setattr__(self, "is_development", certificate_is_development(self.certificate))

    @property
    def algorithm(self) -> SigningAlgorithm:
        return "ES256" if isinstance(self.private_key, ec.EllipticCurvePrivateKey) else "PS256"


# DSCs that only the lenient parser could read: strict DER as re-encoded → the bytes the
# issuer published. The kid is computed over the published bytes, so it must survive the
# re-encoding; bounded, since a process sees at most a few thousand DSCs.
_PUBLISHED_DER: dict[bytes, bytes] = {}
_PUBLISHED_DER_LIMIT: Final = 10_000


def certificate_der_published(certificate: x509.Certificate) -> bytes:
    """The DER bytes as issued (differs from `public_bytes` only for a DSC that
    `certificate_load` had to read leniently)."""
    der = certificate.public_bytes(serialization.Encoding.DER)
    return _PUBLISHED_DER.get(der, der)


def kid_for_certificate(certificate: x509.Certificate) -> bytes:
    """The DCC key identifier: the first 8 bytes of SHA-256 over the certificate's DER."""
    return hashlib.sha256(certificate_der_published(certificate)).digest()[:8]


def certificate_usages(certificate: x509.Certificate) -> frozenset[CertificateKind] | None:
    """The kinds a DSC may sign, or None when it has no DCC usage OID (then: all kinds)."""
    try:
        extension = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        return None
    present = set(extension.value)
    kinds = frozenset(kind for kind, oids in DSC_USAGE_OIDS.items() if present & set(oids))
    return kinds or None


def certificate_is_development(certificate: x509.Certificate) -> bool:
    """True when the subject or issuer organisation carries the development marker."""
    for name in (certificate.subject, certificate.issuer):
        for oid in (NameOID.ORGANIZATION_NAME, NameOID.ORGANIZATIONAL_UNIT_NAME):
            for attribute in name.get_attributes_for_oid(oid):
                if DEVELOPMENT_MARKER in str(attribute.value).lower():
                    return True
    return False


def _private_key_generate(algorithm: SigningAlgorithm) -> SigningKey:
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_SIZE)


def _name(*, country: str, organization: str, common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, country),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _require_aware(value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise KeyMaterialInvalid("Times must be timezone-aware.", code="naive_datetime")


def development_csca_generate(
    *,
    now: datetime,
    common_name: str = "covidhub development CSCA",
    valid_for: timedelta = timedelta(days=4 * 365),
) -> KeyAndCertificate:
    """A self-signed EC P-256 CSCA marked as development, to sign development DSCs."""
    _require_aware(now)
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(country="VN", organization=DEVELOPMENT_MARKER, common_name=common_name)
    public_key = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + valid_for)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(key, hashes.SHA256())
    )
    return KeyAndCertificate(private_key=key, certificate=certificate)


def dsc_key_and_csr_generate(
    *,
    organization: str,
    common_name: str,
    country: str = "VN",
    algorithm: SigningAlgorithm = "ES256",
) -> tuple[SigningKey, x509.CertificateSigningRequest]:
    """A new DSC key pair and its PKCS#10 request for the national CSCA to sign.

    Store the key at once with `private_key_serialize`; send
    `csr.public_bytes(serialization.Encoding.PEM)` to the CSCA.
    """
    key = _private_key_generate(algorithm)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(_name(country=country, organization=organization, common_name=common_name))
        .sign(key, hashes.SHA256())
    )
    return key, csr


def csr_sign_with_csca(
    *,
    csr: x509.CertificateSigningRequest,
    csca: KeyAndCertificate,
    now: datetime,
    valid_for: timedelta = timedelta(days=2 * 365),
    usages: Iterable[CertificateKind] | None = ("v", "t", "r"),
) -> x509.Certificate:
    """Sign a DSC request as a CSCA does; `usages=None` issues a DSC without usage OIDs.

    Our own use is the development CSCA; in production the national CSCA does this.
    """
    _require_aware(now)
    if not csr.is_signature_valid:
        raise KeyMaterialInvalid("The request's signature is invalid.", code="key_invalid")
    csca_public_key = csca.private_key.public_key()
    public_key = csr.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise KeyMaterialInvalid(
            "Only EC P-256 and RSA keys can sign DCCs.", code="unsupported_key"
        )
    builder = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(csca.certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + valid_for)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(csca_public_key), critical=False
        )
    )
    if usages is not None:
        oids = [DSC_USAGE_OIDS[kind][0] for kind in sorted(set(usages))]
        builder = builder.add_extension(x509.ExtendedKeyUsage(oids), critical=False)
    return builder.sign(csca.private_key, hashes.SHA256())


def development_dsc_generate(
    *,
    csca: KeyAndCertificate,
    now: datetime,
    common_name: str = "covidhub development DSC",
    valid_for: timedelta = timedelta(days=2 * 365),
    usages: Iterable[CertificateKind] | None = ("v", "t", "r"),
    algorithm: SigningAlgorithm = "ES256",
) -> KeyAndCertificate:
    """A development DSC signed by `csca`, through the same CSR path as production."""
    key, csr = dsc_key_and_csr_generate(
        organization=DEVELOPMENT_MARKER, common_name=common_name, algorithm=algorithm
    )
    certificate = csr_sign_with_csca(
        csr=csr, csca=csca, now=now, valid_for=valid_for, usages=usages
    )
    return KeyAndCertificate(private_key=key, certificate=certificate)


def _certificate_parse(der: bytes) -> x509.Certificate:
    certificate = x509.load_der_x509_certificate(der)
    certificate.public_key()
    for _extension in certificate.extensions:
        pass
    return certificate


def _der_reencoded(der: bytes) -> bytes | None:
    """The certificate in strict DER, or None if even a lenient BER parser cannot read it.

    DER forbids encoding a field that holds its DEFAULT value (an extension's `critical`
    FALSE, BasicConstraints' `cA` FALSE), and cryptography refuses such certificates;
    several national CAs issued them. asn1crypto reads them and drops the defaults when
    it encodes again. Only the DSC's key, validity and extensions are used from the
    result; its own signature is not checked against a CSCA here (the trust list is the
    anchor), and its kid stays that of the bytes as published.
    """
    try:
        reencoded: bytes = asn1_x509.Certificate.load(der, strict=True).dump(force=True)
    except (ValueError, TypeError, OverflowError):
        return None
    return reencoded if reencoded != der else None


def certificate_load(data: bytes) -> x509.Certificate:
    """An X.509 certificate from PEM or DER bytes; `KeyMaterialInvalid` if unreadable.

    Extensions are parsed here, not on first use: cryptography parses them lazily, and a
    malformed one (the public test case CO15 has an empty ExtendedKeyUsage, which RFC 5280
    forbids) must keep the certificate out of a trust list rather than fail mid-scan.
    A certificate with DER-default values encoded in it is read leniently
    (`_der_reencoded`).
    """
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            der = x509.load_pem_x509_certificate(data).public_bytes(serialization.Encoding.DER)
        else:
            der = data
    except ValueError:
        # A PEM whose DER cryptography refuses: read its base64 body.
        body = b"".join(
            line.strip() for line in data.splitlines() if line and not line.startswith(b"-----")
        )
        try:
            der = base64.b64decode(body, validate=True)
        except ValueError as error:
            raise KeyMaterialInvalid(
                "The certificate cannot be read.", code="certificate_invalid"
            ) from error
    try:
        return _certificate_parse(der)
    except ValueError as error:
        strict = _der_reencoded(der)
        if strict is None:
            raise KeyMaterialInvalid(
                "The certificate cannot be read.", code="certificate_invalid"
            ) from error
        try:
            certificate = _certificate_parse(strict)
        except ValueError as second:
            raise KeyMaterialInvalid(
                "The certificate cannot be read.", code="certificate_invalid"
            ) from second
        if len(_PUBLISHED_DER) >= _PUBLISHED_DER_LIMIT:
            _PUBLISHED_DER.pop(next(iter(_PUBLISHED_DER)))
        _PUBLISHED_DER[strict] = der
        return certificate


def private_key_serialize(*, private_key: SigningKey, passphrase: bytes) -> bytes:
    """PKCS#8 PEM encrypted with the passphrase; there is no unencrypted variant."""
    if not passphrase:
        raise KeyMaterialInvalid("A passphrase is required.", code="passphrase_required")
    return private_key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.BestAvailableEncryption(passphrase),
    )


def private_key_load(*, data: bytes, passphrase: bytes) -> SigningKey:
    """Decrypt a PEM private key; an unencrypted key is refused, not silently accepted."""
    if not passphrase:
        raise KeyMaterialInvalid("A passphrase is required.", code="passphrase_required")
    try:
        key = serialization.load_pem_private_key(data, password=passphrase)
    except TypeError as error:
        # cryptography raises TypeError when a password is given for a clear-text key.
        raise KeyMaterialInvalid(
            "The private key is stored unencrypted.", code="key_not_encrypted"
        ) from error
    except ValueError as error:
        raise KeyMaterialInvalid(
            "The private key cannot be decrypted: wrong passphrase or damaged file.",
            code="passphrase_wrong",
        ) from error
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    if isinstance(key, rsa.RSAPrivateKey) and key.key_size >= 2048:
        return key
    raise KeyMaterialInvalid(
        "Only EC P-256 and RSA ≥ 2048 keys can sign DCCs.", code="unsupported_key"
    )


def signer_from_keys(
    *,
    private_key: SigningKey,
    certificate: x509.Certificate,
    allow_development: bool,
    csca: x509.Certificate | None = None,
) -> DocumentSigner:
    """A `DocumentSigner` after checking that key and certificate belong together.

    With `csca`, also checks that the CSCA signed the DSC (catches a certificate returned
    for someone else's request). `allow_development=False` refuses development keys.
    """
    if private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise KeyMaterialInvalid(
            "The certificate does not belong to this private key.", code="key_mismatch"
        )
    if isinstance(private_key, ec.EllipticCurvePrivateKey) and not isinstance(
        private_key.curve, ec.SECP256R1
    ):
        raise KeyMaterialInvalid("EC keys must be on P-256.", code="unsupported_key")
    if csca is not None:
        try:
            certificate.verify_directly_issued_by(csca)
        except (ValueError, TypeError, InvalidSignature) as error:
            raise KeyMaterialInvalid(
                "The certificate was not issued by this CSCA.", code="certificate_invalid"
            ) from error
    signer = DocumentSigner(private_key=private_key, certificate=certificate)
    if signer.is_development and not allow_development:
        raise KeyMaterialInvalid(
            "A development key cannot sign certificates here.", code="development_key_refused"
        )
    return signer


def signer_load(
    *,
    certificate_data: bytes,
    private_key_data: bytes,
    passphrase: bytes,
    allow_development: bool,
    csca: x509.Certificate | None = None,
) -> DocumentSigner:
    """Load a signed DSC (PEM or DER) and its encrypted key, and check that they match."""
    return signer_from_keys(
        private_key=private_key_load(data=private_key_data, passphrase=passphrase),
        certificate=certificate_load(certificate_data),
        allow_development=allow_development,
        csca=csca,
    )
