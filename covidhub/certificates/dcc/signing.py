"""Signing: the CWT claims around the payload, COSE_Sign1, the HC1 text.

ES256 is signed with `cryptography` (OpenSSL) directly: pycose signs EC keys with the
pure-Python `ecdsa` package, about twenty times slower, which would make signing the
bottleneck of a result-release burst. The COSE structure is the one pycose builds (the
tests verify our output with pycose). PS256 goes through pycose. Verification in
`verify.py` parses COSE itself, because it must survive arbitrary input.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from pycose.algorithms import Ps256
from pycose.headers import KID, Algorithm
from pycose.keys.curves import P256
from pycose.keys.ec2 import EC2Key
from pycose.keys.rsa import RSAKey
from pycose.messages.sign1message import Sign1Message

from .codec import hc1_encode
from .errors import KeyMaterialInvalid
from .keys import DocumentSigner, SigningKey
from .payload import hcert_issuable_check
from .valuesets import ValueSets

CLAIM_ISSUER: Final = 1
CLAIM_EXPIRES_AT: Final = 4
CLAIM_ISSUED_AT: Final = 6
CLAIM_HCERT: Final = -260
HCERT_EU_DCC_V1: Final = 1
COSE_TAG_SIGN1: Final = 18
COSE_HEADER_ALGORITHM: Final = 1
COSE_HEADER_KID: Final = 4
COSE_ALGORITHM_ES256: Final = -7


def _integer_bytes(value: int, length: int | None = None) -> bytes:
    size = length if length is not None else max(1, (value.bit_length() + 7) // 8)
    return value.to_bytes(size, "big")


def _cose_key(private_key: SigningKey) -> EC2Key | RSAKey:
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        numbers = private_key.private_numbers()
        return EC2Key(
            crv=P256,
            x=_integer_bytes(numbers.public_numbers.x, 32),
            y=_integer_bytes(numbers.public_numbers.y, 32),
            d=_integer_bytes(numbers.private_value, 32),
        )
    rsa_numbers = private_key.private_numbers()
    return RSAKey(
        n=_integer_bytes(rsa_numbers.public_numbers.n),
        e=_integer_bytes(rsa_numbers.public_numbers.e),
        d=_integer_bytes(rsa_numbers.d),
        p=_integer_bytes(rsa_numbers.p),
        q=_integer_bytes(rsa_numbers.q),
        dp=_integer_bytes(rsa_numbers.dmp1),
        dq=_integer_bytes(rsa_numbers.dmq1),
        qinv=_integer_bytes(rsa_numbers.iqmp),
    )


def _sign1_es256(*, private_key: ec.EllipticCurvePrivateKey, kid: bytes, payload: bytes) -> bytes:
    """A tagged COSE_Sign1 (RFC 9052 section 4.4) signed with ES256 through OpenSSL."""
    protected = cbor2.dumps({COSE_HEADER_ALGORITHM: COSE_ALGORITHM_ES256, COSE_HEADER_KID: kid})
    to_be_signed = cbor2.dumps(["Signature1", protected, b"", payload])
    r, s = decode_dss_signature(private_key.sign(to_be_signed, ec.ECDSA(hashes.SHA256())))
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return cbor2.dumps(cbor2.CBORTag(COSE_TAG_SIGN1, [protected, {}, payload, signature]))


def _require_aware(value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise KeyMaterialInvalid("Times must be timezone-aware.", code="naive_datetime")


def hcert_sign(
    *,
    hcert: Mapping[str, Any],
    signer: DocumentSigner,
    issued_at: datetime,
    expires_at: datetime,
    issuer_country: str = "VN",
) -> bytes:
    """The tagged COSE_Sign1 bytes of the CWT carrying `hcert`, signed by `signer`.

    Refuses a lifetime outside the DSC's validity: verifiers reject a DCC whose DSC
    has expired, so such a certificate would die early without anyone noticing.
    Does not validate `hcert`; `hc1_issue` does.
    """
    _require_aware(issued_at)
    _require_aware(expires_at)
    certificate = signer.certificate
    if not certificate.not_valid_before_utc <= issued_at <= certificate.not_valid_after_utc:
        raise KeyMaterialInvalid("The DSC is not valid at the issuing time.", code="dsc_not_valid")
    if not issued_at < expires_at <= certificate.not_valid_after_utc:
        raise KeyMaterialInvalid(
            "The expiry must follow the issuing time and fall within the DSC's validity.",
            code="dsc_validity_exceeded",
        )
    claims = {
        CLAIM_ISSUER: issuer_country,
        CLAIM_ISSUED_AT: int(issued_at.timestamp()),
        CLAIM_EXPIRES_AT: int(expires_at.timestamp()),
        CLAIM_HCERT: {HCERT_EU_DCC_V1: dict(hcert)},
    }
    if isinstance(signer.private_key, ec.EllipticCurvePrivateKey):
        return _sign1_es256(
            private_key=signer.private_key, kid=signer.kid, payload=cbor2.dumps(claims)
        )
    message = Sign1Message(
        phdr={Algorithm: Ps256, KID: signer.kid},
        payload=cbor2.dumps(claims),
        key=_cose_key(signer.private_key),
    )
    encoded: bytes = message.encode(tag=True)
    return encoded


def hc1_issue(
    *,
    hcert: Mapping[str, Any],
    signer: DocumentSigner,
    issued_at: datetime,
    expires_at: datetime,
    value_sets: ValueSets | None = None,
) -> str:
    """The QR text of a new certificate: validate `hcert` for issuing, sign, encode."""
    hcert_issuable_check(hcert=hcert, value_sets=value_sets)
    cose = hcert_sign(hcert=hcert, signer=signer, issued_at=issued_at, expires_at=expires_at)
    return hc1_encode(cose)
