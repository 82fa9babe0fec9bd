"""The language of a notice: the managing account's, Vietnamese when there is none, and the
rule written once (covidhub/notifications/language.py), not copied into each capability."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from covidhub.accounts.models import User
from covidhub.notifications.language import account_language, notice_language, person_language

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]


def _account(username: str, language: str) -> User:
    phone = "+8491" + f"{abs(hash(username)) % 10**7:07d}"
    user = User(username=username, phone=phone, kind=User.Kind.CITIZEN)
    user.set_unusable_password()
    user.save()
    # Stored as a row could hold it (the field's choices are not a database constraint).
    User.objects.filter(pk=user.pk).update(language=language)
    return User.objects.get(pk=user.pk)


def test_person_managed_by_an_english_account_is_told_in_english(
    make_person: Callable[..., Any],
) -> None:
    person = make_person(managed_by=_account("en-account", "en"), relationship="self")
    assert person_language(person) == "en"
    with translation.override("vi"), notice_language(person) as language:
        assert language == "en"
        assert translation.get_language() == "en"


def test_person_without_a_managing_account_is_told_in_vietnamese(
    make_person: Callable[..., Any],
) -> None:
    person = make_person()
    assert person.managed_by is None
    assert person_language(person) == "vi"
    with translation.override("en"), notice_language(person) as language:
        assert language == "vi"
        assert translation.get_language() == "vi"
    assert account_language(None) == "vi"


@pytest.mark.parametrize("stored", ["", "fr", "xx-yy"])
def test_an_account_with_a_blank_or_unknown_language_means_vietnamese(
    make_person: Callable[..., Any], stored: str
) -> None:
    account = _account(f"odd-{stored or 'blank'}", stored)
    person = make_person(managed_by=account, relationship="self")
    assert account_language(account) == "vi"
    assert person_language(person) == "vi"


def test_a_vietnamese_account_is_told_in_vietnamese(make_person: Callable[..., Any]) -> None:
    person = make_person(managed_by=_account("vi-account", "vi"), relationship="self")
    assert person_language(person) == "vi"


# Shapes the copies of the rule had before it moved into one function; a new one in a
# capability should call person_language / notice_language / account_language instead.
_COPIES = re.compile(
    r"managed_by\.language"
    r"|getattr\([^()]*[\"']language[\"']"
    r"|\.language if [\w.]+ (?:is not None )?else"
    r"|\.language or [\"']vi[\"']"
)


def test_the_rule_is_written_in_one_place() -> None:
    home = ROOT / "covidhub" / "notifications" / "language.py"
    copies = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in (ROOT / "covidhub").rglob("*.py")
        if path != home and "tests" not in path.parts and "migrations" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _COPIES.search(line)
    ]
    assert copies == []
    assert _COPIES.search('language = account.language if account is not None else "vi"')
    assert _COPIES.search('language = getattr(account, "language", "") or "vi"')
