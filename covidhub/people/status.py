"""A person's COVID status colour for checkpoints, from whichever capability computes it.

The certificates capability registers the provider (its configurable status rules); a
checkpoint scan (declarations) shows the colour without importing certificates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from covidhub.people.models import Person


@dataclass(frozen=True)
class StatusColour:
    colour: str  # "green" | "yellow" | "red"
    reason: str  # translated, what the checkpoint may be told
    admit: bool = True  # False: the rules say not to check the person in


StatusProvider = Callable[["Person"], StatusColour | None]
_provider: list[StatusProvider] = []


def register_status_provider(provider: StatusProvider) -> None:
    _provider[:] = [provider]


def status_for(person: Person) -> StatusColour | None:
    """The person's colour, or None while no capability provides one."""
    return _provider[0](person) if _provider else None
