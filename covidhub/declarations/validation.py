"""Cleaning the answers of a declaration and a venue, shared by the forms and the API.

Every bad or contradictory answer is reported against its field, all at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from covidhub.areas.models import Area
from covidhub.areas.selectors import commune_by_code
from covidhub.areas.served import commune_refusal
from covidhub.core.errors import InvalidInput
from covidhub.core.phones import phone_normalise
from covidhub.core.text import nfc
from covidhub.declarations.models import Exposure, Symptom, Venue

EXPOSURE_FIELDS = tuple(Exposure.values)
CONSENT_VERSION = "2021-1"


@dataclass(frozen=True)
class DeclarationInput:
    phone: str
    commune: Area
    address_line: str
    travelled: bool
    travel_places: str
    symptoms: tuple[str, ...]
    other_symptoms: str
    exposures: dict[str, bool]
    chronic_conditions: str

    @property
    def has_symptoms(self) -> bool:
        return bool(self.symptoms or self.other_symptoms)

    @property
    def has_exposure(self) -> bool:
        return any(self.exposures.values())

    def answers(self) -> dict[str, Any]:
        return {
            "travelled": self.travelled,
            "travel_places": self.travel_places,
            "symptoms": list(self.symptoms),
            "other_symptoms": self.other_symptoms,
            **self.exposures,
            "chronic_conditions": self.chronic_conditions,
            "consent": True,
            "consent_version": CONSENT_VERSION,
        }


def _text(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    return "" if value is None else nfc(str(value))


def _yes_no(value: Any) -> bool | None:
    """True/False from a form ('yes'/'no') or JSON (true/false); None when not answered."""
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip().lower()
    if text in ("yes", "true", "1", "on"):
        return True
    if text in ("no", "false", "0"):
        return False
    return None


def _commune(value: Any) -> Area | None:
    if isinstance(value, Area):
        return value if value.level == Area.Level.COMMUNE else None
    if not value:
        return None
    return commune_by_code(str(value))


def declaration_input_clean(raw: dict[str, Any]) -> DeclarationInput:
    """Validate a declaration; raise one InvalidInput naming every bad field."""
    errors: dict[str, list[str]] = {}

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(str(message))

    phone = _text(raw, "phone")
    if not phone:
        fail("phone", _("Enter a phone number on which the health station can reach you."))
    else:
        try:
            phone = phone_normalise(phone)
        except InvalidInput as exc:
            fail("phone", str(exc.message))

    commune = _commune(raw.get("commune"))
    if commune is None:
        fail("commune", _("Choose the commune or ward where you are staying."))
    elif (refusal := commune_refusal(commune)) is not None:
        fail("commune", refusal)

    address_line = _text(raw, "address_line")
    if not address_line:
        fail("address_line", _("Enter the house number, street or hamlet."))
    elif len(address_line) > 200:
        fail("address_line", _("The address is too long."))

    travelled = _yes_no(raw.get("travelled"))
    travel_places = _text(raw, "travel_places")
    if travelled is None:
        fail("travelled", _("Answer whether you travelled in the last 14 days."))
    elif travelled and not travel_places:
        fail("travel_places", _("Enter the provinces or places you travelled to."))
    elif not travelled and travel_places:
        fail(
            "travel_places",
            _("You answered that you did not travel: leave the places empty or answer yes."),
        )
    if len(travel_places) > 500:
        fail("travel_places", _("This answer is too long."))

    raw_symptoms = raw.get("symptoms") or []
    if isinstance(raw_symptoms, str):
        raw_symptoms = [raw_symptoms]
    symptoms = tuple(sorted({str(s) for s in raw_symptoms}))
    if any(s not in Symptom.values for s in symptoms):
        fail("symptoms", _("Choose symptoms from the list."))
    other_symptoms = _text(raw, "other_symptoms")
    if len(other_symptoms) > 300:
        fail("other_symptoms", _("This answer is too long."))
    no_symptoms = _yes_no(raw.get("no_symptoms")) is True
    if no_symptoms and (symptoms or other_symptoms):
        fail(
            "no_symptoms",
            _("You chose symptoms and also “none of these”: choose one or the other."),
        )
    elif not no_symptoms and not symptoms and not other_symptoms:
        fail("symptoms", _("Choose your symptoms, or “none of these”."))

    exposures: dict[str, bool] = {}
    for name in EXPOSURE_FIELDS:
        answer = _yes_no(raw.get(name))
        if answer is None:
            fail(name, _("Answer yes or no."))
        else:
            exposures[name] = answer

    chronic_conditions = _text(raw, "chronic_conditions")
    if len(chronic_conditions) > 500:
        fail("chronic_conditions", _("This answer is too long."))

    if _yes_no(raw.get("consent")) is not True:
        fail("consent", _("Confirm that your answers are true to submit the declaration."))

    if errors or commune is None or travelled is None:
        raise InvalidInput(details={"fields": errors})
    return DeclarationInput(
        phone=phone,
        commune=commune,
        address_line=address_line,
        travelled=travelled,
        travel_places=travel_places,
        symptoms=symptoms,
        other_symptoms=other_symptoms,
        exposures=exposures,
        chronic_conditions=chronic_conditions,
    )


@dataclass(frozen=True)
class VenueInput:
    name: str
    kind: str
    address_line: str
    commune: Area
    contact_name: str
    contact_phone: str


def venue_input_clean(raw: dict[str, Any]) -> VenueInput:
    errors: dict[str, list[str]] = {}

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(str(message))

    name = _text(raw, "name")
    if not name:
        fail("name", _("Enter the venue's name."))
    elif len(name) > 150:
        fail("name", _("The name is too long."))
    kind = _text(raw, "kind")
    if kind not in Venue.Kind.values:
        fail("kind", _("Choose the type of venue."))
    address_line = _text(raw, "address_line")
    if not address_line:
        fail("address_line", _("Enter the venue's address."))
    elif len(address_line) > 200:
        fail("address_line", _("The address is too long."))
    commune = _commune(raw.get("commune"))
    if commune is None:
        fail("commune", _("Choose the venue's commune or ward."))
    elif (refusal := commune_refusal(commune)) is not None:
        fail("commune", refusal)
    contact_name = _text(raw, "contact_name")
    if not contact_name:
        fail("contact_name", _("Enter the name of a contact person."))
    elif len(contact_name) > 150:
        fail("contact_name", _("The name is too long."))
    contact_phone = _text(raw, "contact_phone")
    try:
        contact_phone = phone_normalise(contact_phone)
    except InvalidInput as exc:
        fail("contact_phone", str(exc.message))
    if errors or commune is None:
        raise InvalidInput(details={"fields": errors})
    return VenueInput(
        name=name,
        kind=kind,
        address_line=address_line,
        commune=commune,
        contact_name=contact_name,
        contact_phone=contact_phone,
    )
