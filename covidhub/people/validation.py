"""Cleaning what people type about a person, shared by forms, the API and imports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from covidhub.areas.models import Area
from covidhub.areas.served import commune_refusal
from covidhub.core.cleaning import InvalidText, text_clean
from covidhub.core.dates import PartialDate, partial_date_parse
from covidhub.core.errors import InvalidInput
from covidhub.core.phones import phone_normalise
from covidhub.core.text import nfc
from covidhub.people.identity import IdType, Sex, identity_normalise


@dataclass(frozen=True)
class PersonInput:
    full_name: str
    birth: PartialDate
    sex: str
    commune: Area
    id_type: str = ""
    id_number: str = ""
    phone: str = ""
    email: str = ""
    address_line: str = ""
    nationality: str = "VN"


def _text(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    return "" if value is None else str(value).strip()


def person_input_clean(raw: dict[str, Any]) -> PersonInput:
    """Validate every field; raise one InvalidInput whose details name each bad field."""
    errors: dict[str, list[str]] = {}

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(str(message))

    # The one cleaning step first (imports reach this function without a form or the API's
    # parser): a refused text is that field's only error.
    raw, refused = dict(raw), {}
    for key, value in raw.items():
        if isinstance(value, str):
            try:
                raw[key] = text_clean(value)
            except InvalidText as exc:
                refused[key], raw[key] = str(exc.message), ""

    full_name = nfc(_text(raw, "full_name"))
    if not full_name:
        fail("full_name", _("Enter the full name."))
    elif len(full_name) > 150 or any(ch.isdigit() for ch in full_name):
        fail("full_name", _("Enter the name as on the identity document, without digits."))

    birth: PartialDate | None = None
    try:
        birth = partial_date_parse(_text(raw, "birth"))
    except InvalidInput as exc:
        fail("birth", str(exc.message))

    sex = _text(raw, "sex").upper()
    if sex not in Sex.values:
        fail("sex", _("Choose the sex."))

    commune: Area | None = None
    commune_value = raw.get("commune")
    if isinstance(commune_value, Area):
        commune = commune_value
    elif commune_value:
        commune = Area.objects.filter(
            code=str(commune_value).strip(), level=Area.Level.COMMUNE
        ).first()
    if commune is None or commune.level != Area.Level.COMMUNE:
        fail("commune", _("Choose the commune or ward of residence."))
    elif (refusal := commune_refusal(commune)) is not None:
        fail("commune", refusal)

    id_type = _text(raw, "id_type").lower()
    id_number = _text(raw, "id_number")
    if id_number and id_type not in IdType.values:
        fail("id_type", _("Choose the kind of identity document."))
    elif id_number:
        try:
            id_number = identity_normalise(
                id_type=id_type,
                number=id_number,
                sex=sex if sex in Sex.values else None,
                birth_year=birth.year if birth else None,
            )
        except InvalidInput as exc:
            fail("id_number", str(exc.message))
    else:
        id_type = ""

    phone = _text(raw, "phone")
    if phone:
        try:
            phone = phone_normalise(phone)
        except InvalidInput as exc:
            fail("phone", str(exc.message))

    email = _text(raw, "email").lower()
    if email and ("@" not in email or len(email) > 254 or " " in email):
        fail("email", _("Enter a valid e-mail address."))

    nationality = (_text(raw, "nationality") or "VN").upper()
    if len(nationality) != 2 or not nationality.isalpha():
        fail("nationality", _("Choose the nationality."))

    address_line = nfc(_text(raw, "address_line"))
    if len(address_line) > 200:
        fail("address_line", _("The address is too long."))

    for key, message in refused.items():
        errors[key] = [message]
    if errors or birth is None or commune is None:
        raise InvalidInput(details={"fields": errors})
    return PersonInput(
        full_name=full_name,
        birth=birth,
        sex=sex,
        commune=commune,
        id_type=id_type,
        id_number=id_number,
        phone=phone,
        email=email,
        address_line=address_line,
        nationality=nationality,
    )
