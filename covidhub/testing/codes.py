"""Codes that people carry and scanners type: appointment codes, QR texts, tube barcodes."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from covidhub.people.personal_qr import looks_like_personal_qr

# No 0/O, 1/I/L: read aloud over the phone and typed from paper without mistakes.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
APPOINTMENT_QR_PREFIX = "CVHT:"
_CODE = re.compile(rf"[{ALPHABET}]{{{CODE_LENGTH}}}")
_BARCODE = re.compile(r"[A-Z0-9][A-Z0-9\-_.]{3,31}")


def appointment_code_new() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def appointment_code_display(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def appointment_code_normalise(text: str) -> str | None:
    """'abcd-2345', 'ABCD 2345', 'CVHT:ABCD2345' → 'ABCD2345'; None if it cannot be one."""
    value = (text or "").strip().upper()
    value = value.removeprefix(APPOINTMENT_QR_PREFIX)
    value = re.sub(r"[\s\-]", "", value)
    return value if _CODE.fullmatch(value) else None


def barcode_normalise(text: str) -> str | None:
    value = (text or "").strip().upper()
    return value if _BARCODE.fullmatch(value) else None


@dataclass(frozen=True)
class Scan:
    kind: str  # "appointment" | "personal_qr" | "tube"
    value: str


def scan_parse(text: str) -> Scan | None:
    """Classify what a camera or a barcode scanner produced.

    Appointment QR codes read "CVHT:<code>" and personal QR codes carry the signed token of
    `covidhub.people.personal_qr` ("CHP1:…"); a
    typed appointment code is "XXXX-XXXX" (the dash tells it from a tube barcode, which
    carries none at that place); anything else of 4–32 letters and digits is a tube.
    """
    raw = (text or "").strip()
    upper = raw.upper()
    if looks_like_personal_qr(raw):
        return Scan("personal_qr", raw)
    if upper.startswith(APPOINTMENT_QR_PREFIX) or re.fullmatch(r"\w{4}[\-\s]\w{4}", upper):
        code = appointment_code_normalise(upper)
        return Scan("appointment", code) if code else None
    barcode = barcode_normalise(upper)
    return Scan("tube", barcode) if barcode else None
