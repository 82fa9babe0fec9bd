"""Personal QR tokens (signed, rotating, never the identity number), venue codes, check-in by
the citizen for their family and by venue staff; forged, expired, unknown and foreign codes
are refused with a clear message, logged, never crashed on."""

from __future__ import annotations

import base64
import datetime
import logging
import time

import pytest
from django.utils import timezone

from covidhub.audit.models import AuditEvent
from covidhub.declarations import tokens
from covidhub.declarations.models import CheckIn, VenueStaff
from covidhub.declarations.services import checkin_record, personal_card_print

pytestmark = pytest.mark.django_db


def scan(client, venue, token):
    return client.post(
        f"/api/v1/declarations/venues/{venue.uuid}/scan",
        {"token": token},
        content_type="application/json",
    )


def test_the_personal_token_rotates_is_signed_and_hides_the_identity_number(
    make_person, citizen, login
):
    person = make_person(
        full_name="Lê Thị Hoa",
        birth="02/02/1990",
        sex="F",
        id_type="cccd",
        id_number="030190123456",
        managed_by=citizen,
        relationship="spouse",
    )
    now = time.time()
    a, _info = tokens.personal_token_issue(person_id=person.pk, now=now)
    b, _info = tokens.personal_token_issue(person_id=person.pk, now=now + 1)
    c, _info = tokens.personal_token_issue(person_id=person.pk, now=now + tokens.ROTATE_SECONDS)
    assert a == b and a != c  # the same within its bucket, new in the next
    assert a.startswith("CHP1:") and "030190123456" not in a and str(person.uuid) not in a
    raw = base64.b32decode(a[5:] + "=" * (-len(a[5:]) % 8))
    assert b"030190123456" not in raw
    assert tokens.personal_token_read(a, now=now).person_id == person.pk
    response = login(citizen).get(f"/api/v1/declarations/people/{person.uuid}/qr")
    assert response.status_code == 200 and response.json()["token"].startswith("CHP1:")
    assert "<svg" in response.json()["svg"]


def test_refused_codes_have_clear_messages_are_logged_and_do_not_crash(
    citizen_person, venue, owner, login, caplog
):
    good, _info = tokens.personal_token_issue(person_id=citizen_person.pk)
    body = bytearray(base64.b32decode(good[5:] + "=" * (-len(good[5:]) % 8)))
    body[3] ^= 0x01
    forged = "CHP1:" + base64.b32encode(bytes(body)).decode().rstrip("=")
    expired, _info = tokens.personal_token_issue(
        person_id=citizen_person.pk, now=time.time() - tokens.APP_TTL_SECONDS - 400
    )
    unknown, _info = tokens.personal_token_issue(person_id=10**9)
    cases = {
        "qr_forged": [forged, "CHP1:AAAA", "CHP1:" + "Z" * 42, "chp1:!!!"],
        "qr_expired": [expired],
        "qr_unknown": [unknown],
        "qr_foreign": ["https://tokhaiyte.vn/qr/123456", "", "0123456789012", "\xff"],
        "qr_is_venue": [venue.code, f"https://covid.example/v/{venue.code}/"],
    }
    client = login(owner)
    with caplog.at_level(logging.WARNING, logger="covidhub.declarations"):
        for code, texts in cases.items():
            for text in texts:
                response = scan(client, venue, text)
                if text == "":
                    assert response.status_code == 422
                    continue
                assert response.status_code == 422, (code, text)
                assert response.json()["code"] == code, text
                assert response.json()["message"]
    assert "personal QR refused: qr_forged" in caplog.text
    assert "personal QR refused: qr_expired" in caplog.text
    assert "personal QR refused: qr_unknown" in caplog.text
    assert "personal QR refused: qr_foreign" in caplog.text
    # A control character is refused before the scanner reads it (covidhub/core/cleaning.py).
    nul = scan(client, venue, "\x00\xff")
    assert nul.status_code == 400 and nul.json()["code"] == "invalid_text"
    assert not CheckIn.objects.exists()
    page = client.post(f"/declarations/venues/{venue.uuid}/scan/", {"token": forged})
    assert page.status_code == 422
    assert "không hợp lệ" in page.content.decode()


def test_a_printed_card_lasts_and_a_new_card_revokes_the_old(
    citizen, citizen_person, venue, owner, login
):
    first, _expires = personal_card_print(actor=citizen, person=citizen_person)
    assert scan(login(owner), venue, first).status_code == 200
    second, expires = personal_card_print(actor=citizen, person=citizen_person)
    assert expires > timezone.now() + datetime.timedelta(days=29)
    assert scan(login(owner), venue, first).json()["code"] == "qr_revoked"
    assert scan(login(owner), venue, second).status_code == 200


def test_staff_scan_shows_only_the_card_checks_in_once_and_is_audited(
    citizen, citizen_person, venue, owner, make_citizen, login
):
    worker = make_citizen("+84912000777", full_name="Người Soát Vé")
    token, _expires = tokens.personal_token_issue(person_id=citizen_person.pk)
    # Neither a stranger nor a citizen of the household may scan here.
    assert scan(login(worker), venue, token).status_code == 404
    VenueStaff.objects.create(venue=venue, user=worker, added_by=owner)
    client = login(worker)
    first = scan(client, venue, token)
    assert first.status_code == 200, first.content
    card = first.json()
    assert set(card) == {
        "full_name",
        "birth_year",
        "last_declared_on",
        "days_since_declaration",
        "status_colour",
        "status_reason",
        "admitted",
        "checkin",
        "repeated",
    }
    assert card["full_name"] == citizen_person.full_name and card["birth_year"] == 1985
    assert card["last_declared_on"] is None and card["repeated"] is False
    again = scan(client, venue, token).json()  # a typing scanner sent it twice
    assert again["repeated"] is True and again["checkin"] == card["checkin"]
    assert CheckIn.objects.filter(person=citizen_person).count() == 1
    assert (
        AuditEvent.objects.filter(
            actor=worker, action="declarations.person.scanned", person_uuid=citizen_person.uuid
        ).count()
        == 2
    )
    page = login(worker).post(f"/declarations/venues/{venue.uuid}/scan/", {"token": token})
    assert page.status_code == 200 and citizen_person.full_name in page.content.decode()


def test_citizen_checks_in_self_and_family_by_code_or_url_once_within_minutes(
    citizen, citizen_person, child, venue, login
):
    client = login(citizen)
    for text in (venue.code_display.lower(), f"http://testserver/v/{venue.code}/"):
        response = client.post(
            "/api/v1/declarations/checkins",
            {"venue_code": text, "people": [str(citizen_person.uuid), str(child.uuid)]},
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
    assert CheckIn.objects.count() == 2
    assert [c["created"] for c in response.json()] == [False, False]
    later = timezone.now() + datetime.timedelta(minutes=30)
    results = checkin_record(actor=citizen, venue=venue, people=[child], now=later)
    assert results[0][1] is True
    assert CheckIn.objects.count() == 3


def test_other_systems_codes_and_personal_codes_are_refused_at_venue_check_in(
    citizen, citizen_person, venue, login, caplog
):
    client = login(citizen)
    token, _info = tokens.personal_token_issue(person_id=citizen_person.pk)
    expectations = {
        "https://tokhaiyte.vn/checkin?id=7": "venue_code_invalid",
        "https://evil.example/v/ABCDEFGH/": "venue_code_invalid",
        "ZZZZZZZZZ": "venue_code_invalid",
        "ABCD-EFGH": "venue_unknown",
        token: "venue_code_is_personal",
    }
    with caplog.at_level(logging.WARNING, logger="covidhub.declarations"):
        for text, code in expectations.items():
            response = client.post(
                "/api/v1/declarations/checkins",
                {"venue_code": text, "people": [str(citizen_person.uuid)]},
                content_type="application/json",
            )
            assert response.status_code in (404, 422), text
            assert response.json()["code"] == code, text
    assert "venue code refused" in caplog.text
    page = client.post(
        "/declarations/checkin/", {"venue_code": token, "people": [str(citizen_person.uuid)]}
    )
    assert page.status_code == 200 and 'id="id_venue_code_errors"' in page.content.decode()
    assert not CheckIn.objects.exists()


def test_check_out_and_the_checkin_pages(citizen, citizen_person, venue, login):
    client = login(citizen)
    response = client.get(f"/v/{venue.code}/")
    assert response.status_code == 200 and venue.name in response.content.decode()
    response = client.post(
        f"/v/{venue.code}/", {"venue_code": venue.code, "people": [str(citizen_person.uuid)]}
    )
    assert response.status_code == 302
    checkin = CheckIn.objects.get()
    assert client.post(f"/declarations/checkins/{checkin.uuid}/checkout/").status_code == 302
    checkin.refresh_from_db()
    assert checkin.checked_out_at is not None
    api = client.post(f"/api/v1/declarations/checkins/{checkin.uuid}/checkout")
    assert api.status_code == 200 and api.json()["checked_out_at"]
    assert client.get("/declarations/checkins/").status_code == 200
    assert client.get("/declarations/").status_code == 200
    assert client.get(f"/declarations/{citizen_person.uuid}/qr/").status_code == 200
    assert client.post(f"/declarations/{citizen_person.uuid}/card/").status_code == 200


def test_anonymous_visitors_of_a_venue_link_are_asked_to_sign_in(client, venue):
    response = client.get(f"/v/{venue.code}/")
    assert response.status_code == 302 and "/signin/" in response["Location"]


def test_the_qr_page_refreshes_before_its_code_expires_and_can_be_paused(
    citizen, citizen_person, login
):
    """No meta refresh (nobody could stop it: WCAG 2.2.1): a countdown that the page's
    script runs, with a pause button, ending before the code shown expires."""
    import re

    from covidhub.people.personal_qr import APP_TTL_SECONDS, ROTATE_SECONDS

    html = login(citizen).get(f"/declarations/{citizen_person.uuid}/qr/").content.decode()
    assert 'http-equiv="refresh"' not in html
    seconds = int(re.search(r'data-auto-refresh="(\d+)"', html)[1])
    # Reloaded after the next code is out and before this one expires.
    assert seconds + 1 >= APP_TTL_SECONDS - ROTATE_SECONDS - 120
    assert seconds <= APP_TTL_SECONDS - 120
    assert "data-auto-refresh-toggle" in html and "Tạm dừng tự động tải lại" in html
    # Without script the page still says how to get a fresh code.
    assert f"/declarations/{citizen_person.uuid}/qr/" in html.split("data-auto-refresh")[0]
