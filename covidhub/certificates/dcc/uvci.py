"""Unique vaccination certificate identifiers (UVCI), eHealth Network Annex 2, option 3.

Format issued here: ``URN:UVCI:01:VN:<opaque>#<checksum>``. The opaque part is random:
a UVCI is printed on paper and shown to venue staff, so it must not reveal anything about
the person or how many certificates we have issued.

Checksum: Luhn mod N over the charset ``A-Z 0-9 / :`` (N = 38) computed over the whole
UVCI before ``#`` *including* the ``URN:UVCI:`` prefix, as the eHN DCC schema FAQ
("UVCI checksum") specifies; the reference implementation (hcert-kotlin) produces the
checksums in the public Austrian test certificates this way, and the tests check them.
"""

from __future__ import annotations

import re
import secrets

from .errors import UvciInvalid

UVCI_PREFIX = "URN:UVCI:"
UVCI_VERSION = "01"
UVCI_MAX_LENGTH = 80
"""The DCC schema's maxLength for `ci`."""

LUHN_MOD_N_CHARSET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/:"
_CODE_POINTS = {character: index for index, character in enumerate(LUHN_MOD_N_CHARSET)}
_OPAQUE_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
OPAQUE_LENGTH = 26
"""26 characters of 36 symbols: about 134 bits, so guessing a valid UVCI is hopeless."""

_UVCI_PATTERN = re.compile(
    r"^(?:URN:UVCI:)?01[:/]?[A-Z]{2}[:/]?[A-Z0-9][A-Z0-9/:]*(?:#[A-Z0-9/:])?$"
)


def uvci_checksum_character(body: str) -> str:
    """The Luhn mod 38 check character for `body` (the UVCI before '#', prefix included)."""
    modulus = len(LUHN_MOD_N_CHARSET)
    factor = 2
    total = 0
    for character in reversed(body):
        code_point = _CODE_POINTS.get(character, -1)
        if code_point < 0:
            raise UvciInvalid(
                "The UVCI contains a character outside A-Z, 0-9, '/' and ':'.",
                code="uvci_format",
                details={"character": character},
            )
        addend = factor * code_point
        factor = 1 if factor == 2 else 2
        total += addend // modulus + addend % modulus
    return LUHN_MOD_N_CHARSET[(modulus - total % modulus) % modulus]


def uvci_generate(*, country: str = "VN") -> str:
    """A new random UVCI with checksum, e.g. ``URN:UVCI:01:VN:3K9…#Q``."""
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise UvciInvalid("The country must be two uppercase letters.", code="uvci_format")
    # One draw of 26 base-36 digits: the same uniform choice as 26 draws of one digit.
    number = secrets.randbelow(len(_OPAQUE_ALPHABET) ** OPAQUE_LENGTH)
    digits: list[str] = []
    for _ in range(OPAQUE_LENGTH):
        number, digit = divmod(number, len(_OPAQUE_ALPHABET))
        digits.append(_OPAQUE_ALPHABET[digit])
    opaque = "".join(digits)
    body = f"{UVCI_PREFIX}{UVCI_VERSION}:{country}:{opaque}"
    return f"{body}#{uvci_checksum_character(body)}"


def uvci_validate(value: str, *, require_checksum: bool = True) -> None:
    """Raise `UvciInvalid` unless `value` is a well-formed UVCI with a matching checksum.

    `require_checksum=False` accepts foreign UVCIs without one (the checksum is optional in
    Annex 2; Switzerland and Ukraine omit it); a checksum that is present must match.
    """
    if len(value) > UVCI_MAX_LENGTH or not _UVCI_PATTERN.fullmatch(value):
        raise UvciInvalid("The UVCI is not in the eHN Annex 2 format.", code="uvci_format")
    body, separator, checksum = value.partition("#")
    if not separator:
        if require_checksum:
            raise UvciInvalid("The UVCI has no checksum.", code="uvci_checksum_missing")
        return
    if uvci_checksum_character(body) != checksum:
        raise UvciInvalid("The UVCI checksum does not match.", code="uvci_checksum")
