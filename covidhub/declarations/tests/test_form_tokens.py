"""Each declarations page form sent twice with its token (a double tap, a retried request)
creates once; the second lands on the first's result (covidhub.core.formtokens)."""

from __future__ import annotations

import unicodedata

import pytest
from django.utils import timezone

from covidhub.core.testing import form_tokens_in, post_form_twice
from covidhub.declarations.models import Case, CheckIn, Venue

pytestmark = pytest.mark.django_db


def _replayed(first, second):
    assert first.status_code == 302, getattr(first, "content", b"")[:2000]
    assert second.status_code == 303 and second["Location"] == first["Location"]
    return True


def test_check_in_form_twice_checks_in_once(citizen, citizen_person, venue, login):
    first, second = post_form_twice(
        login(citizen),
        "/declarations/checkin/",
        {"venue_code": venue.code, "people": [str(citizen_person.uuid)]},
    )
    assert _replayed(first, second)
    assert CheckIn.objects.filter(person=citizen_person).count() == 1


def test_venue_form_twice_registers_one_venue(owner, login):
    name = unicodedata.normalize("NFC", "Quán Phở Hai Lần")
    first, second = post_form_twice(
        login(owner),
        "/declarations/venues/new/",
        {
            "name": name,
            "kind": "shop",
            "address_line": "Số 2 Phố Mới",
            "commune": "10507",
            "contact_name": "Trần Văn Quản",
            "contact_phone": "0912 333 444",
        },
    )
    assert _replayed(first, second)
    assert Venue.objects.filter(name=name).count() == 1


def test_case_proposal_form_twice_proposes_once(commune_officer, make_person, login):
    person = make_person(full_name="Phạm Văn Ca", id_type="cccd", id_number="030085000123")
    first, second = post_form_twice(
        login(commune_officer),
        "/staff/declarations/cases/",
        {
            "query": "030085000123",
            "onset_date": timezone.localdate().strftime("%Y-%m-%d"),
            "window_minutes": "",
        },
    )
    assert _replayed(first, second)
    assert Case.objects.filter(person=person).count() == 1


def test_the_checkpoint_scan_form_carries_a_token(venue, owner, login):
    # The scan page answers with the card (no redirect: the next person is next); a repeat
    # within the check-in window is the same check-in (test_qr_and_checkin).
    assert len(form_tokens_in(login(owner).get(f"/declarations/venues/{venue.uuid}/scan/"))) == 1
