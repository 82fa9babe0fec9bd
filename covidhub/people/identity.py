"""Identity documents: CCCD (12 digits), old CMND (9 digits), passports.

A CCCD encodes the province of birth, sex and century, and the last two digits of the
birth year; a number that contradicts the person it is entered for is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from django.db import models
from django.utils.translation import gettext_lazy as _

from covidhub.core.errors import InvalidInput


class IdType(models.TextChoices):
    CCCD = "cccd", _("Citizen identity card (CCCD)")
    CMND = "cmnd", _("Identity card (CMND, 9 digits)")
    PASSPORT = "passport", _("Passport")


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class InvalidIdentity(InvalidInput):
    code = "identity_invalid"
    default_message = _("The identity number is not valid.")


@cache
def cccd_province_codes() -> frozenset[str]:
    from vietnam_provinces.legacy import Province

    return frozenset(f"{int(p.code):03d}" for p in Province.iter_all())


# The 4th digit: century of birth and sex (even male, odd female).
_CENTURY = {
    0: 1900,
    1: 1900,
    2: 2000,
    3: 2000,
    4: 2100,
    5: 2100,
    6: 2200,
    7: 2200,
    8: 1800,
    9: 1800,
}


@dataclass(frozen=True)
class CccdFacts:
    province_code: str
    sex: str
    birth_year: int


def cccd_facts(number: str) -> CccdFacts:
    if not re.fullmatch(r"\d{12}", number):
        raise InvalidIdentity(_("A CCCD number has exactly 12 digits."))
    province = number[:3]
    if province not in cccd_province_codes():
        raise InvalidIdentity(
            _("The first three digits (%(code)s) are not a province code.") % {"code": province}
        )
    digit = int(number[3])
    return CccdFacts(
        province_code=province,
        sex=Sex.MALE if digit % 2 == 0 else Sex.FEMALE,
        birth_year=_CENTURY[digit] + int(number[4:6]),
    )


def identity_normalise(
    *, id_type: str, number: str, sex: str | None = None, birth_year: int | None = None
) -> str:
    """Return the number in canonical form, or raise with the reason it is refused."""
    text = re.sub(r"[\s.\-]", "", number or "").upper()
    if id_type == IdType.CCCD:
        facts = cccd_facts(text)
        if sex and facts.sex != sex:
            raise InvalidIdentity(_("The CCCD number does not match the sex entered."))
        if birth_year is not None and facts.birth_year != birth_year:
            raise InvalidIdentity(_("The CCCD number does not match the year of birth entered."))
        return text
    if id_type == IdType.CMND:
        if not re.fullmatch(r"\d{9}", text):
            raise InvalidIdentity(_("An old identity card (CMND) number has exactly 9 digits."))
        return text
    if id_type == IdType.PASSPORT:
        if not re.fullmatch(r"[A-Z0-9]{6,20}", text):
            raise InvalidIdentity(_("A passport number has 6 to 20 letters and digits."))
        return text
    raise InvalidIdentity(_("Choose the kind of identity document."))
