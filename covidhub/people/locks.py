"""When a person's identity is locked for direct edits.

A person whose identity appears on records the platform has signed or reported (a dose,
a test result, a certificate) may no longer have name, date of birth, sex or identity
number changed by a simple edit: a change becomes a correction request that an officer
approves (`covidhub.people.corrections`). This app sits below the capabilities that keep
those records, so they register a probe here (certificates does, for doses, results and
certificates) instead of this app importing them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from covidhub.people.models import Person

# Name, date of birth, sex and identity document: what certificates and results carry.
IDENTITY_FIELDS = ("full_name", "birth_year", "birth_date", "sex", "id_type", "id_number")

RecordsProbe = Callable[["Person"], bool]
_probes: dict[str, RecordsProbe] = {}


def register_records_probe(name: str, probe: RecordsProbe) -> None:
    """`probe(person)` is true when the person has records that carry their identity."""
    _probes[name] = probe


def person_identity_locked(person: Person) -> bool:
    """True once the person has any dose, result or certificate.

    Without any registered probe the answer is True: not knowing whether records exist
    must not reopen the door to rewriting a signed identity.
    """
    if person.pk is None:
        return False
    if not _probes:
        return True
    return any(probe(person) for probe in _probes.values())
