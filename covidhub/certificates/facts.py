"""What a certificate is issued from, independent of the vaccination and testing models.

The receivers (`receivers.py`) map a dose or a released test result to these facts;
tests and imports build them directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from covidhub.people.models import Person

# The issuer when the person's province is not known (a deployment serving several
# provinces names each person's own Department of Health: `issuer_of`).
DEFAULT_ISSUER: Final = "Sở Y tế tỉnh Hải Dương"
RECOVERY_VALID_FROM_DAY: Final = 11
RECOVERY_VALID_UNTIL_DAY: Final = 180


@dataclass(frozen=True)
class VaccinationFacts:
    person: Person
    source_type: str
    source_id: str
    medicinal_product: str
    manufacturer: str
    prophylaxis: str
    dose_number: int
    total_doses: int
    vaccination_date: date
    country: str = "VN"
    issuer: str = ""  # empty: the person's province's Department of Health (issuer_of)


@dataclass(frozen=True)
class TestFacts:
    person: Person
    source_type: str
    source_id: str
    test_type: str  # LP6464-4 (NAAT) or LP217198-3 (rapid antigen)
    positive: bool
    sample_collected_at: datetime
    naa_test_name: str = ""
    rat_device: str = ""
    testing_centre: str = ""
    country: str = "VN"
    issuer: str = ""  # empty: the person's province's Department of Health (issuer_of)


@dataclass(frozen=True)
class RecoveryFacts:
    person: Person
    source_type: str
    source_id: str
    first_positive_on: date
    country: str = "VN"
    issuer: str = ""  # empty: the person's province's Department of Health (issuer_of)


type Facts = VaccinationFacts | TestFacts | RecoveryFacts


def issuer_of(person: Person) -> str:
    """The Department of Health of the person's province: "Sở Y tế tỉnh Hải Dương",
    "Sở Y tế thành phố Hà Nội"."""
    from covidhub.areas.selectors import province_of_path

    province = province_of_path(person.commune_path or "")
    if province is None:
        return DEFAULT_ISSUER
    return f"Sở Y tế {province.name[:1].lower()}{province.name[1:]}"
