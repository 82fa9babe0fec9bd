"""SMART Health Cards: the JWS, its `shc:/` QR text and the issuer's public key (JWK).

Pure Python without Django. A card is a compact JWS (ES256 over P-256) whose payload is
the minified JSON credential compressed with raw DEFLATE (header `zip: DEF`); its `kid`
is the RFC 7638 thumbprint of the public key, which verifiers look up at
`<iss>/.well-known/jwks.json`. The QR text is `shc:/` followed by two digits per JWS
character (its code point minus 45), encoded in two segments (byte, then numeric).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import zlib
from dataclasses import dataclass
from typing import Any, Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

SHC_PREFIX: Final = "shc:/"
# Version 22 at error correction L holds 1195 JWS characters in one numeric segment: the
# specification's limit for a single QR code; a longer JWS is split into balanced chunks.
SINGLE_QR_MAX_JWS: Final = 1195
CREDENTIAL_TYPES: Final = (
    "https://smarthealth.cards#health-card",
    "https://smarthealth.cards#immunization",
    "https://smarthealth.cards#covid19",
)
FHIR_VERSION: Final = "4.0.1"


class HealthCardInvalid(ValueError):
    """A text that is not a well-formed SMART Health Card; `code` says why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as error:
        raise HealthCardInvalid("base64_invalid") from error


def _coordinate(value: int) -> str:
    return b64url(value.to_bytes(32, "big"))


def public_jwk(public_key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    """The public key as a JWK with its thumbprint `kid`, for `/.well-known/jwks.json`."""
    if not isinstance(public_key.curve, ec.SECP256R1):
        raise HealthCardInvalid("unsupported_key")
    numbers = public_key.public_numbers()
    x, y = _coordinate(numbers.x), _coordinate(numbers.y)
    return {
        "kty": "EC",
        "kid": jwk_thumbprint(x=x, y=y),
        "use": "sig",
        "alg": "ES256",
        "crv": "P-256",
        "x": x,
        "y": y,
    }


def jwk_thumbprint(*, x: str, y: str) -> str:
    """RFC 7638: SHA-256 over the required members in lexical order, no whitespace."""
    canonical = json.dumps(
        {"crv": "P-256", "kty": "EC", "x": x, "y": y}, separators=(",", ":"), sort_keys=True
    )
    return b64url(hashlib.sha256(canonical.encode()).digest())


def revocation_id(*, kid: str, record_id: str) -> str:
    """The card's revocation identifier (`vc.rid`): 64 bits of SHA-256 over the key and
    the record, so that the published list names no record and links no two keys."""
    return b64url(hashlib.sha256(f"{kid}:{record_id.upper()}".encode()).digest()[:8])


def credential(
    *, issuer: str, not_before: int, fhir_bundle: dict[str, Any], rid: str | None = None
) -> dict[str, Any]:
    """The JWS payload: issuer URL (no trailing slash), issuance time, FHIR bundle, and
    the revocation identifier that the issuer's CRL lists once the record is revoked."""
    vc: dict[str, Any] = {
        "type": list(CREDENTIAL_TYPES),
        "credentialSubject": {"fhirVersion": FHIR_VERSION, "fhirBundle": fhir_bundle},
    }
    if rid:
        vc["rid"] = rid
    return {"iss": issuer.rstrip("/"), "nbf": not_before, "vc": vc}


def _deflate_raw(data: bytes) -> bytes:
    compressor = zlib.compressobj(level=9, wbits=-15)
    return compressor.compress(data) + compressor.flush()


def jws_sign(*, payload: dict[str, Any], private_key: ec.EllipticCurvePrivateKey, kid: str) -> str:
    """The compact JWS of a card: minified JSON, raw DEFLATE, ES256 (r||s, 64 bytes)."""
    header = b64url(
        json.dumps({"zip": "DEF", "alg": "ES256", "kid": kid}, separators=(",", ":")).encode()
    )
    body = b64url(
        _deflate_raw(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    )
    signing_input = f"{header}.{body}".encode("ascii")
    der = private_key.sign(signing_input, ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return f"{header}.{body}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


@dataclass(frozen=True)
class DecodedCard:
    header: dict[str, Any]
    payload: dict[str, Any]


def jws_verify(*, jws: str, public_key: ec.EllipticCurvePublicKey) -> DecodedCard:
    """Check a card's signature with `public_key` and return its header and payload."""
    from cryptography.exceptions import InvalidSignature

    parts = jws.split(".")
    if len(parts) != 3:
        raise HealthCardInvalid("jws_invalid")
    try:
        header = json.loads(b64url_decode(parts[0]))
    except ValueError as error:
        raise HealthCardInvalid("jws_invalid") from error
    if not isinstance(header, dict) or header.get("alg") != "ES256":
        raise HealthCardInvalid("unsupported_algorithm")
    signature = b64url_decode(parts[2])
    if len(signature) != 64:
        raise HealthCardInvalid("signature_invalid")
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        public_key.verify(der, f"{parts[0]}.{parts[1]}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as error:
        raise HealthCardInvalid("signature_invalid") from error
    body = b64url_decode(parts[1])
    if header.get("zip") == "DEF":
        try:
            inflater = zlib.decompressobj(wbits=-15)
            body = inflater.decompress(body, 1 << 20)
        except zlib.error as error:
            raise HealthCardInvalid("deflate_invalid") from error
    try:
        payload = json.loads(body)
    except ValueError as error:
        raise HealthCardInvalid("payload_invalid") from error
    if not isinstance(payload, dict):
        raise HealthCardInvalid("payload_invalid")
    return DecodedCard(header=header, payload=payload)


# Each JWS character (base64url or ".", code points 45-122) as two digits: one C-level
# str.translate instead of a Python loop (which cost more than the signature).
_NUMERIC_TABLE: Final = {code: f"{code - 45:02d}" for code in range(45, 123)}


def _numeric(text: str) -> str:
    return text.translate(_NUMERIC_TABLE)


def qr_texts(jws: str) -> list[str]:
    """The `shc:/` texts of a card: one if it fits a version-22 code, else balanced chunks
    `shc:/<index>/<count>/<digits>` (the specification's legacy chunking)."""
    if len(jws) <= SINGLE_QR_MAX_JWS:
        return [SHC_PREFIX + _numeric(jws)]
    count = math.ceil(len(jws) / SINGLE_QR_MAX_JWS)
    size = math.ceil(len(jws) / count)
    chunks = [jws[start : start + size] for start in range(0, len(jws), size)]
    return [
        f"{SHC_PREFIX}{index}/{len(chunks)}/{_numeric(chunk)}"
        for index, chunk in enumerate(chunks, start=1)
    ]


def jws_from_qr_texts(texts: list[str]) -> str:
    """Reassemble a JWS from its `shc:/` texts (one, or every chunk in any order)."""
    parts: dict[int, str] = {}
    expected = 1
    for text in texts:
        if not text.startswith(SHC_PREFIX):
            raise HealthCardInvalid("bad_prefix")
        rest = text[len(SHC_PREFIX) :]
        index, digits = 1, rest
        if "/" in rest:
            try:
                index_text, count_text, digits = rest.split("/")
                index, expected = int(index_text), int(count_text)
            except ValueError as error:
                raise HealthCardInvalid("chunk_invalid") from error
        if not digits.isdigit() or len(digits) % 2:
            raise HealthCardInvalid("numeric_invalid")
        parts[index] = "".join(chr(int(digits[i : i + 2]) + 45) for i in range(0, len(digits), 2))
    if sorted(parts) != list(range(1, expected + 1)):
        raise HealthCardInvalid("chunk_missing")
    return "".join(parts[index] for index in sorted(parts))


def qr_svg(*, text: str, scale: int = 4, border: int = 4) -> str:
    """An inline SVG of one `shc:/` text: the prefix in byte mode, the digits numeric,
    error correction L (the specification's choice, so that a card fits one code)."""
    import segno
    from segno import consts

    from covidhub.core.qr import qr_code_svg_inline

    prefix, _separator, digits = text.rpartition("/")
    segments: Any = [(prefix + "/", consts.MODE_BYTE), (digits, consts.MODE_NUMERIC)]
    code = segno.make_qr(
        segments,
        error="l",
        boost_error=False,
    )
    return qr_code_svg_inline(code, scale=scale, border=border)


@dataclass(frozen=True)
class HealthCard:
    jws: str
    qr_texts: list[str]
    kid: str


def card_issue(
    *,
    issuer: str,
    not_before: int,
    fhir_bundle: dict[str, Any],
    private_key: ec.EllipticCurvePrivateKey,
    kid: str,
    record_id: str | None = None,
) -> HealthCard:
    """A signed card and its QR texts: what a holder downloads or scans."""
    rid = revocation_id(kid=kid, record_id=record_id) if record_id else None
    jws = jws_sign(
        payload=credential(issuer=issuer, not_before=not_before, fhir_bundle=fhir_bundle, rid=rid),
        private_key=private_key,
        kid=kid,
    )
    return HealthCard(jws=jws, qr_texts=qr_texts(jws), kid=kid)
