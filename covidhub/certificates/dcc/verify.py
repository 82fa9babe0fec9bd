"""Verification of a scanned DCC against a trust list, offline, without ever raising.

The input is whatever a camera or a USB scanner produced, so every layer assumes
hostile data: bounded decoding (codec), COSE parsed by hand with cbor2 rather than
through pycose (whose parser trusts its input), and each third-party parser call
fenced. The result names every failed check with a stable reason code, and `reason` is
the first of them in a fixed order: signature, key revocation, DSC validity and usage,
CWT times, schema, value sets, certificate revocation.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, Final, NamedTuple

import cbor2
from cryptography import x509

from .codec import DecodeFailed, hc1_decode
from .keys import CertificateKind, kid_for_certificate
from .schema import hcert_schema_issues
from .signature import (
    COSE_ALGORITHM_ES256,
    COSE_ALGORITHM_PS256,
    SignerFacts,
    signature_verifies,
    signer_facts,
)
from .signing import CLAIM_EXPIRES_AT, CLAIM_HCERT, CLAIM_ISSUED_AT, CLAIM_ISSUER, HCERT_EU_DCC_V1
from .valuesets import (
    CodeIssue,
    ValueSets,
    hcert_code_issues,
    hcert_entry_kind,
    value_sets_load,
)

type TrustList = Mapping[bytes, Sequence[x509.Certificate]]

COSE_TAG_SIGN1: Final = 18
CWT_TAG: Final = 61
COSE_HEADER_ALGORITHM: Final = 1
COSE_HEADER_KID: Final = 4
MAX_PAYLOAD_DEPTH: Final = 16
"""A DCC is four levels deep; deeper (or self-referencing, via CBOR tag 28/29) data is
rejected before the schema validator recurses into it."""
DEFAULT_ISSUED_AT_LEEWAY: Final = timedelta(minutes=5)


class Reason(StrEnum):
    """Why a DCC was refused; the values are stable and safe to store and translate."""

    VALID = "valid"
    INPUT_TOO_LARGE = "input_too_large"
    BAD_PREFIX = "bad_prefix"
    BASE45_INVALID = "base45_invalid"
    ZLIB_INVALID = "zlib_invalid"
    COSE_INVALID = "cose_invalid"
    CBOR_INVALID = "cbor_invalid"
    UNKNOWN_KID = "unknown_kid"
    UNSUPPORTED_ALGORITHM = "unsupported_algorithm"
    SIGNATURE_INVALID = "signature_invalid"
    UNSUPPORTED_KEY = "unsupported_key"
    KEY_REVOKED = "key_revoked"
    DSC_EXPIRED = "dsc_expired"
    DSC_NOT_YET_VALID = "dsc_not_yet_valid"
    DSC_USAGE = "dsc_usage"
    ISSUED_BEFORE_DSC = "issued_before_dsc"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    SCHEMA_INVALID = "schema_invalid"
    UNKNOWN_CODE = "unknown_code"
    """Kept for stored outcomes: an unknown code is now a rule outcome (`code_issues`)."""
    REVOKED = "revoked"


class NoteCode(StrEnum):
    """What a verifier noted but did not hold against the certificate."""

    DATE_TIME_AS_DATE = "date_time_as_date"
    """A date-time where the schema expects a date (dt, fr, df, du): read as its date."""
    TAGGED_TIMESTAMP = "tagged_timestamp"
    """A CBOR-tagged (tag 0/1) timestamp, read as the text it stands for."""
    FORMAT = "format"
    """A value that breaks a JSON-schema `format` (an annotation in the DCC schemas)."""
    EXPIRES_AFTER_DSC = "expires_after_dsc"
    """The certificate's expiry lies beyond its signing certificate's end."""


@dataclass(frozen=True, slots=True)
class Note:
    code: NoteCode
    field: str = ""
    value: str = ""


class VerificationResult(NamedTuple):
    """The outcome of `hc1_verify`.

    Fields other than `reason`/`failures` are filled as far as decoding got. They are
    *untrusted* unless `valid`: show a person's name from an invalid DCC only as
    "this QR code is not valid", never as a statement about that person.

    A named tuple (immutable like a frozen dataclass, made in a fifth of the time: one
    is made per scan, and a frozen dataclass of twenty fields cost as much as the
    schema check).
    """

    reason: Reason
    failures: tuple[Reason, ...] = ()
    detail: str = ""
    kid: bytes | None = None
    issuer_country: str | None = None
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    payload: Mapping[str, Any] | None = None
    certificate_type: CertificateKind | None = None
    family_name: str | None = None
    given_name: str | None = None
    family_name_icao: str | None = None
    given_name_icao: str | None = None
    date_of_birth: str | None = None
    uvci: str | None = None
    signer_certificate: x509.Certificate | None = None
    notes: tuple[Note, ...] = ()
    code_issues: tuple[CodeIssue, ...] = ()
    """Codes outside the value sets: for the rules to judge, not a reason to refuse."""
    value_sets_version: str | None = None

    @property
    def valid(self) -> bool:
        return self.reason is Reason.VALID


class _Refused(Exception):
    """A decoding layer failed; carries the reason out of the nested helpers."""

    def __init__(self, reason: Reason, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(detail)


@dataclass(frozen=True, slots=True)
class _Sign1:
    protected_bytes: bytes
    algorithm: object
    kid: object
    payload: bytes
    signature: bytes


@dataclass(frozen=True, slots=True)
class _Claims:
    issuer_country: str | None
    issued_at: float
    expires_at: float
    hcert: object


def trust_list_build(
    certificates: Iterable[x509.Certificate],
) -> dict[bytes, list[x509.Certificate]]:
    """A trust list keyed by DCC kid. Several certificates may share a kid (the kid is
    only 8 bytes, and gateways publish such collisions); all of them are tried."""
    trust_list: dict[bytes, list[x509.Certificate]] = {}
    for certificate in certificates:
        trust_list.setdefault(kid_for_certificate(certificate), []).append(certificate)
    return trust_list


def _cbor_load_exact(data: bytes, *, reason: Reason, what: str) -> object:
    """Decode one CBOR item that must fill `data` exactly.

    cbor2 raises a zoo of exception types on hostile input (CBORDecodeError, but also
    ValueError, OverflowError, RecursionError, TypeError from semantic tags), so any
    exception here means "not well-formed".
    """
    stream = io.BytesIO(data)
    try:
        item = cbor2.CBORDecoder(stream).decode()
    except Exception as error:
        raise _Refused(
            reason, f"{what} is not well-formed CBOR ({type(error).__name__})."
        ) from None
    if stream.tell() != len(data):
        raise _Refused(reason, f"{what} has trailing bytes.")
    return item


def _sign1_parse(data: bytes) -> _Sign1:
    item = _cbor_load_exact(data, reason=Reason.COSE_INVALID, what="The COSE message")
    # hcert allows the CWT tag around the COSE_Sign1 tag, and both may be omitted.
    if isinstance(item, cbor2.CBORTag) and item.tag == CWT_TAG:
        item = item.value
    if isinstance(item, cbor2.CBORTag):
        if item.tag != COSE_TAG_SIGN1:
            raise _Refused(Reason.COSE_INVALID, f"CBOR tag {item.tag} is not COSE_Sign1.")
        item = item.value
    if not isinstance(item, list) or len(item) != 4:
        raise _Refused(Reason.COSE_INVALID, "A COSE_Sign1 is an array of four items.")
    protected_bytes, unprotected, payload, signature = item
    if not (
        isinstance(protected_bytes, bytes)
        and isinstance(unprotected, dict)
        and isinstance(payload, bytes)
        and isinstance(signature, bytes)
    ):
        raise _Refused(Reason.COSE_INVALID, "The COSE_Sign1 items have the wrong types.")
    protected: object = {}
    if protected_bytes:
        protected = _cbor_load_exact(
            protected_bytes, reason=Reason.COSE_INVALID, what="The protected header"
        )
    if not isinstance(protected, dict):
        raise _Refused(Reason.COSE_INVALID, "The protected header is not a map.")
    # The protected header wins; the unprotected one is a fallback (hcert spec 3.3.1),
    # which the public test cases CO18-CO23 pin down.
    headers = {**unprotected, **protected}
    return _Sign1(
        protected_bytes=protected_bytes,
        algorithm=headers.get(COSE_HEADER_ALGORITHM),
        kid=headers.get(COSE_HEADER_KID),
        payload=payload,
        signature=signature,
    )


def _numeric_date(value: object, *, name: str) -> float:
    if isinstance(value, datetime):
        # A tagged (tag 0/1) time where CWT wants a NumericDate: read it all the same.
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Refused(Reason.CBOR_INVALID, f"The {name} claim is missing or not a number.")
    try:
        number = float(value)
    except OverflowError:
        # A CBOR bignum beyond any float.
        raise _Refused(Reason.CBOR_INVALID, f"The {name} claim is out of range.") from None
    if not math.isfinite(number):
        raise _Refused(Reason.CBOR_INVALID, f"The {name} claim is not finite.")
    return number


def _claims_parse(payload: bytes) -> _Claims:
    claims = _cbor_load_exact(payload, reason=Reason.CBOR_INVALID, what="The CWT payload")
    if not isinstance(claims, dict):
        raise _Refused(Reason.CBOR_INVALID, "The CWT payload is not a map.")
    issuer = claims.get(CLAIM_ISSUER)
    if issuer is not None and not isinstance(issuer, str):
        raise _Refused(Reason.CBOR_INVALID, "The iss claim is not a text string.")
    container = claims.get(CLAIM_HCERT)
    if not isinstance(container, dict) or not isinstance(container.get(HCERT_EU_DCC_V1), dict):
        raise _Refused(Reason.CBOR_INVALID, "The hcert claim does not hold an EU DCC map.")
    return _Claims(
        issuer_country=issuer,
        issued_at=_numeric_date(claims.get(CLAIM_ISSUED_AT), name="iat"),
        expires_at=_numeric_date(claims.get(CLAIM_EXPIRES_AT), name="exp"),
        hcert=container[HCERT_EU_DCC_V1],
    )


_DATE_FIELDS: Final = {"v": ("dt",), "t": (), "r": ("fr", "df", "du")}
_DATE_TIME_TEXT: Final = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt ]\d{2}:\d{2}")


def _timestamp_text(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    text = value.isoformat()
    return text.replace("+00:00", "Z")


def _untagged(value: object, path: str, notes: list[Note], depth: int = 0) -> object:
    """`value` with CBOR-tagged timestamps (tag 0 text, tag 1 epoch, RFC 8943 dates) as
    the text they stand for: the schema README requires validators to read both."""
    if depth > MAX_PAYLOAD_DEPTH:
        return value
    if isinstance(value, datetime):
        text = _timestamp_text(value)
        notes.append(Note(NoteCode.TAGGED_TIMESTAMP, path, text))
        return text
    if isinstance(value, date):
        notes.append(Note(NoteCode.TAGGED_TIMESTAMP, path, value.isoformat()))
        return value.isoformat()
    if isinstance(value, list):
        return [_untagged(item, f"{path}/{n}", notes, depth + 1) for n, item in enumerate(value)]
    if isinstance(value, dict):
        return {
            key: _untagged(item, f"{path}/{key}".lstrip("/"), notes, depth + 1)
            for key, item in value.items()
        }
    return value


def _is_plain(value: object, depth: int = 0) -> bool:
    """True when `value` is plain JSON data without a tagged timestamp (what a well-made
    certificate holds): one walk, so that the usual payload costs one pass instead of a
    look for tags and then a check for JSON."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if depth > MAX_PAYLOAD_DEPTH:
        return False
    if kind is dict:
        for key, item in value.items():  # type: ignore[attr-defined]
            if type(key) is not str:
                return False
            # Most values are text: checked here, without a call per field.
            if type(item) is not str and not _is_plain(item, depth + 1):
                return False
        return True
    if kind is list:
        return all(_is_plain(item, depth + 1) for item in value)  # type: ignore[attr-defined]
    if kind is float:
        return math.isfinite(value)  # type: ignore[arg-type]
    return False


def hcert_normalise(hcert: object) -> tuple[object, list[Note]]:
    """The payload as the schema speaks of it, and what was changed to get there.

    Tagged timestamps become text; a date-time in a date field (dt, fr, df, du) becomes
    its date, as JSON-schema `format` is only an annotation in the DCC schemas and some
    issuers wrote midnight UTC there. Nothing else is touched.
    """
    normalised, notes, _plain = _normalise(hcert)
    return normalised, notes


def _normalise(hcert: object) -> tuple[object, list[Note], bool]:
    """`hcert_normalise`, and whether the payload was plain JSON data already (then the
    result is JSON data without a second look)."""
    notes: list[Note] = []
    plain = _is_plain(hcert)
    normalised = hcert if plain else _untagged(hcert, "", notes)
    if not isinstance(normalised, dict):
        return normalised, notes, plain
    for kind, fields in _DATE_FIELDS.items():
        entries = normalised.get(kind)
        if not isinstance(entries, list):
            continue
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                continue
            for name in fields:
                value = entry.get(name)
                match = _DATE_TIME_TEXT.match(value) if isinstance(value, str) else None
                if match is not None:
                    entry[name] = match.group(1)
                    notes.append(
                        Note(NoteCode.DATE_TIME_AS_DATE, f"{kind}/{index}/{name}", str(value))
                    )
    return normalised, notes, plain


def _is_json_data(value: object, depth: int = 0) -> bool:
    """True when `value` is plain JSON data (what the schema speaks about), bounded."""
    if depth > MAX_PAYLOAD_DEPTH:
        return False
    if value is None or isinstance(value, str | bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_is_json_data(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return all(
            isinstance(key, str) and _is_json_data(item, depth + 1) for key, item in value.items()
        )
    return False


def _datetime_from_numeric(value: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def hc1_verify(
    *,
    text: str,
    trust_list: TrustList,
    now: datetime,
    revoked_uvcis: Collection[str] = frozenset(),
    revoked_kids: Collection[bytes] = frozenset(),
    value_sets: ValueSets | None = None,
    issued_at_leeway: timedelta = DEFAULT_ISSUED_AT_LEEWAY,
) -> VerificationResult:
    """Verify a scanned HC1 text at `now`; never raises for any `text`.

    `issued_at_leeway` tolerates a verifier whose clock runs a little behind the issuing
    server (a certificate scanned seconds after issuing); expiry gets no leeway.
    Pass `revoked_uvcis` upper-cased, as a set (one lookup per scan): a certificate whose
    UVCI is written in lower case (Switzerland does) matches its upper-case entry.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        # A programming error, not bad input: the caller's clock must be unambiguous.
        raise ValueError("`now` must be timezone-aware.")
    if not isinstance(text, str):
        return VerificationResult(
            reason=Reason.BAD_PREFIX, failures=(Reason.BAD_PREFIX,), detail="Not text."
        )
    try:
        cose = hc1_decode(text)
    except DecodeFailed as error:
        reason = Reason(error.code)
        return VerificationResult(reason=reason, failures=(reason,), detail=error.message)
    try:
        sign1 = _sign1_parse(cose)
        claims = _claims_parse(sign1.payload)
    except _Refused as refused:
        return VerificationResult(
            reason=refused.reason, failures=(refused.reason,), detail=refused.detail
        )

    failures: list[Reason] = []
    details: list[str] = []
    hcert, payload_notes, plain = _normalise(claims.hcert)
    hcert_is_json = plain or _is_json_data(hcert)
    hcert_map: dict[str, Any] = hcert if hcert_is_json else {}  # type: ignore[assignment]
    kind: CertificateKind | None = hcert_entry_kind(hcert_map)  # type: ignore[assignment]
    kid = sign1.kid if isinstance(sign1.kid, bytes) else None

    # Signature, then what the verified signer certificate allows.
    signer: x509.Certificate | None = None
    trusted: SignerFacts | None = None
    candidates = trust_list.get(kid, ()) if kid is not None else ()
    if not candidates:
        failures.append(Reason.UNKNOWN_KID)
    elif type(sign1.algorithm) is not int or sign1.algorithm not in (
        COSE_ALGORITHM_ES256,
        COSE_ALGORITHM_PS256,
    ):
        failures.append(Reason.UNSUPPORTED_ALGORITHM)
    else:
        to_be_signed = cbor2.dumps(["Signature1", sign1.protected_bytes, b"", sign1.payload])
        usable = False
        for certificate in candidates:
            facts = signer_facts(certificate)
            if sign1.algorithm not in facts.algorithms:
                continue
            usable = True
            if signature_verifies(
                public_key=facts.public_key,
                algorithm=sign1.algorithm,
                data=to_be_signed,
                signature=sign1.signature,
            ):
                signer, trusted = certificate, facts
                break
        if not usable:
            failures.append(Reason.UNSUPPORTED_KEY)
        elif signer is None:
            failures.append(Reason.SIGNATURE_INVALID)
    notes: list[Note] = []
    if trusted is not None and kid is not None:
        if kid in revoked_kids:
            failures.append(Reason.KEY_REVOKED)
        if now < trusted.not_before:
            failures.append(Reason.DSC_NOT_YET_VALID)
        if now > trusted.not_after:
            failures.append(Reason.DSC_EXPIRED)
        # hcert spec 3.3.3: the issued-at MUST NOT predate the DSC; an expiry beyond the
        # DSC is allowed (the certificate is then invalid from the DSC's end), so noted.
        if claims.issued_at < trusted.not_before_timestamp:
            failures.append(Reason.ISSUED_BEFORE_DSC)
        if claims.expires_at > trusted.not_after_timestamp:
            notes.append(Note(NoteCode.EXPIRES_AFTER_DSC, "", trusted.not_after.isoformat()))
        usages = trusted.usages
        if usages is not None and kind is not None and kind not in usages:
            failures.append(Reason.DSC_USAGE)

    # CWT validity period.
    moment = now.timestamp()
    if moment > claims.expires_at:
        failures.append(Reason.EXPIRED)
    if claims.issued_at > moment + issued_at_leeway.total_seconds():
        failures.append(Reason.NOT_YET_VALID)

    # Content: schema, value sets, revocation. A code outside the value sets is for the
    # rules to judge (a new vaccine, a device added after our release), not a forgery.
    notes.extend(payload_notes)
    schema_valid = False
    code_issues: list[CodeIssue] = []
    sets = value_sets if value_sets is not None else value_sets_load()
    if not hcert_is_json:
        failures.append(Reason.SCHEMA_INVALID)
        details.append("The payload holds data that JSON cannot represent.")
    else:
        issues = hcert_schema_issues(hcert_map)
        if issues:
            # `format` is an annotation in the DCC schemas: noted, not held against it.
            for issue in issues:
                if issue.keyword == "format":
                    notes.append(Note(NoteCode.FORMAT, issue.path, issue.message))
            issues = [issue for issue in issues if issue.keyword != "format"]
        if issues:
            failures.append(Reason.SCHEMA_INVALID)
            details.append(f"{issues[0].path or '(root)'}: {issues[0].message}")
        else:
            schema_valid = True
            code_issues = hcert_code_issues(hcert=hcert_map, value_sets=sets)
            if code_issues:  # deprecated codes stay genuine on old certificates
                code_issues = [issue for issue in code_issues if not issue.known]
    uvci = None
    if schema_valid and kind is not None:
        uvci = hcert_map[kind][0]["ci"]
        if uvci in revoked_uvcis or uvci.upper() in revoked_uvcis:
            failures.append(Reason.REVOKED)

    name = hcert_map.get("nam")
    name_map: Mapping[str, Any] = name if isinstance(name, dict) else {}
    return VerificationResult(
        reason=failures[0] if failures else Reason.VALID,
        failures=tuple(failures),
        detail="; ".join(details) if details else "",
        kid=kid,
        issuer_country=claims.issuer_country,
        issued_at=_datetime_from_numeric(claims.issued_at),
        expires_at=_datetime_from_numeric(claims.expires_at),
        payload=hcert_map if hcert_is_json else None,
        certificate_type=kind,
        family_name=_text_or_none(name_map.get("fn")),
        given_name=_text_or_none(name_map.get("gn")),
        family_name_icao=_text_or_none(name_map.get("fnt")),
        given_name_icao=_text_or_none(name_map.get("gnt")),
        date_of_birth=_text_or_none(hcert_map.get("dob")),
        uvci=uvci,
        signer_certificate=signer,
        notes=tuple(notes) if notes else (),
        code_issues=tuple(code_issues) if code_issues else (),
        value_sets_version=sets.version,
    )
