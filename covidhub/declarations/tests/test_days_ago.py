"""The last declaration "today" reads "today" for a declaration made today, never
"(0 days ago)" / "(0 ngày trước)", in both languages, on the citizen's home page and on
the venue's scan page (issue 17)."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from covidhub.declarations import tokens
from covidhub.declarations.models import Declaration, VenueStaff
from covidhub.declarations.services import declaration_submit
from covidhub.declarations.validation import declaration_input_clean

from .conftest import answers

pytestmark = pytest.mark.django_db
HOME = {
    "vi": ("Đã khai báo hôm nay.", "(2 ngày trước)"),
    "en": ("Last declared today.", "(2 days ago)"),
}
SCAN = {
    "vi": ("Khai báo y tế gần nhất: hôm nay.", "(2 ngày trước)"),
    "en": ("Last health declaration: today.", "(2 days ago)"),
}
ZERO = ("(0 ", "0 day", "0 ngày")


def _declare(citizen, person, *, days_ago: int = 0) -> None:
    declaration = declaration_submit(
        actor=citizen, person=person, data=declaration_input_clean(answers())
    )
    if days_ago:
        when = timezone.now() - datetime.timedelta(days=days_ago)
        Declaration.objects.filter(pk=declaration.pk).update(
            created_at=when, day=timezone.localdate(when)
        )


def _in(client, language: str):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


@pytest.mark.parametrize("language", ["vi", "en"])
def test_home_says_today_for_a_declaration_made_today(citizen, citizen_person, login, language):
    _declare(citizen, citizen_person)
    html = _in(login(citizen), language).get("/declarations/").content.decode()
    today, _ago = HOME[language]
    assert today in html
    assert not any(zero in html for zero in ZERO)


@pytest.mark.parametrize("language", ["vi", "en"])
def test_home_counts_the_days_of_an_older_declaration(citizen, citizen_person, login, language):
    _declare(citizen, citizen_person, days_ago=2)
    html = _in(login(citizen), language).get("/declarations/").content.decode()
    today, ago = HOME[language]
    assert ago in html and today not in html


@pytest.mark.parametrize(("language", "days_ago"), [("vi", 0), ("en", 0), ("vi", 2), ("en", 2)])
def test_scan_page_says_today_or_counts_the_days(
    citizen, citizen_person, venue, owner, make_citizen, login, language, days_ago
):
    worker = make_citizen("+84912000777", full_name="Người Soát Vé")
    VenueStaff.objects.create(venue=venue, user=worker, added_by=owner)
    _declare(citizen, citizen_person, days_ago=days_ago)
    token, _expires = tokens.personal_token_issue(person_id=citizen_person.pk)
    page = _in(login(worker), language).post(
        f"/declarations/venues/{venue.uuid}/scan/", {"token": token}
    )
    assert page.status_code == 200
    html = page.content.decode()
    today, ago = SCAN[language]
    if days_ago == 0:
        assert today in html
        assert not any(zero in html for zero in ZERO)
    else:
        assert ago in html and today not in html
