"""The language a notice is written in: the one rule every capability follows.

A notice to a person is written in the language of the account that manages the person
(the household account), Vietnamese when there is none or when its language is blank or not
one the platform speaks. A notice to a staff member follows their own account the same way.
The outbox row records the same language, so the text and the row never disagree.

Typed by protocol so that this module never imports `people` or `accounts` (both import
`notifications`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from django.conf import settings
from django.utils import translation

DEFAULT_LANGUAGE = "vi"


class _Managed(Protocol):
    @property
    def managed_by(self) -> Any: ...


def account_language(account: Any) -> str:
    """The language of an account's notices: its own language if the platform speaks it,
    else Vietnamese (also for no account at all)."""
    language = getattr(account, "language", "") or ""
    if language in {code for code, _name in settings.LANGUAGES}:
        return str(language)
    return DEFAULT_LANGUAGE


def person_language(person: _Managed) -> str:
    """The language of a notice to a person: that of the account managing the person,
    Vietnamese when there is none."""
    return account_language(person.managed_by)


@contextmanager
def notice_language(person: _Managed) -> Iterator[str]:
    """Translate in the person's notice language for the block; yields the language code
    (to store on the outbox rows)."""
    language = person_language(person)
    with translation.override(language):
        yield language
