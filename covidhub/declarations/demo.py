"""Demo data: a venue owned by the first demo citizen, and a declaration with a symptom
from the second so that the commune's follow-up list is not empty."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from covidhub.accounts.models import User
from covidhub.areas.models import Area
from covidhub.declarations.models import Declaration, Venue
from covidhub.declarations.services import declaration_submit, venue_register
from covidhub.declarations.validation import declaration_input_clean, venue_input_clean
from covidhub.people.models import Person

VENUE_OWNER_PHONE = "+84912000001"
DECLARANT_PHONE = "+84912000002"
HOME_COMMUNE = "10507"


@transaction.atomic
def declarations_seed(**context: Any) -> list[str]:
    commune = Area.objects.filter(level=Area.Level.COMMUNE, code=HOME_COMMUNE).first()
    owner = User.objects.filter(phone=VENUE_OWNER_PHONE).first()
    if commune is None or owner is None:
        return []
    venue = Venue.objects.filter(owner=owner).order_by("id").first()
    if venue is None:
        venue = venue_register(
            actor=owner,
            data=venue_input_clean(
                {
                    "name": "Chợ Cẩm Thượng",
                    "kind": Venue.Kind.MARKET,
                    "address_line": "Phố Cẩm Thượng",
                    "commune": commune,
                    "contact_name": "Nguyễn Văn An",
                    "contact_phone": VENUE_OWNER_PHONE,
                }
            ),
        )
    declarant = User.objects.filter(phone=DECLARANT_PHONE).first()
    person = (
        Person.objects.filter(managed_by=declarant, relationship=Person.Relationship.SELF).first()
        if declarant
        else None
    )
    if (
        declarant is not None
        and person is not None
        and not Declaration.objects.filter(person=person).exists()
    ):
        declaration_submit(
            actor=declarant,
            person=person,
            data=declaration_input_clean(
                {
                    "phone": DECLARANT_PHONE,
                    "commune": commune,
                    "address_line": "Số 12 Nguyễn Lương Bằng",
                    "travelled": False,
                    "symptoms": ["cough", "fever"],
                    "contact_case": False,
                    "contact_outbreak_area": False,
                    "contact_symptomatic": True,
                    "consent": True,
                }
            ),
        )
    return [
        f"  venue  {venue.name}: check-in code {venue.code_display} (owner {VENUE_OWNER_PHONE})"
    ]
