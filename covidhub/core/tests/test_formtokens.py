"""Form tokens (covidhub.core.formtokens): a page form sent twice does its work once, a
replay lands on the first result, and a token is good only for the person who saw the page.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from covidhub.core.models import IdempotencyRecord
from covidhub.core.testing import form_tokens_in, http_request, race
from covidhub.people.models import Person

MEMBER = {
    "relationship": "child",
    "full_name": "Đinh Văn Đua",
    "birth": "2012",
    "sex": "M",
    "id_type": "",
    "id_number": "",
    "phone": "",
    "email": "",
    "commune": "10507",
    "address_line": "Thôn Đông",
}


def _members(name: str = "Đinh Văn Đua") -> int:
    return Person.objects.filter(full_name=name).count()


@pytest.mark.django_db
def test_each_rendering_gets_its_own_token_bound_to_the_viewer(citizen, make_citizen, login):
    client = login(citizen)
    first = form_tokens_in(client.get("/me/household/add/"))
    second = form_tokens_in(client.get("/me/household/add/"))
    assert len(first) == len(second) == 1 and first != second
    assert b'name="idempotency_key"' not in client.get("/me/household/add/").content


@pytest.mark.django_db
def test_a_replay_with_changed_answers_lands_on_the_first_result(citizen, login):
    """The back button, an edit, send again: the page already did its work."""
    client = login(citizen)
    [token] = form_tokens_in(client.get("/me/household/add/"))
    first = client.post("/me/household/add/", {**MEMBER, "form_token": token})
    assert first.status_code == 302
    edited = {**MEMBER, "full_name": "Đinh Văn Khác", "form_token": token}
    again = client.post("/me/household/add/", edited, HTTP_ACCEPT_LANGUAGE="en")
    assert again.status_code == 303 and again["Location"] == first["Location"]
    assert _members() == 1 and _members("Đinh Văn Khác") == 0
    page = client.get(again["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "This form was already sent" in page


@pytest.mark.django_db
def test_another_users_token_is_refused_and_changes_nothing(citizen, make_citizen, login):
    [token] = form_tokens_in(login(citizen).get("/me/household/add/"))
    stranger = login(make_citizen("+84912000999", full_name="Người Lạ"))
    response = stranger.post(
        "/me/household/add/", {**MEMBER, "form_token": token}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert "expired or was opened in another session" in response.content.decode()
    assert _members() == 0 and not IdempotencyRecord.objects.exists()


@pytest.mark.django_db
def test_a_made_up_or_expired_token_is_refused(citizen, login, settings):
    client = login(citizen)
    made_up = client.post("/me/household/add/", {**MEMBER, "form_token": "x" * 30})
    assert made_up.status_code == 400 and _members() == 0
    [token] = form_tokens_in(client.get("/me/household/add/"))
    settings.IDEMPOTENCY_TTL_HOURS = -1  # the record that remembers it would be pruned
    expired = client.post("/me/household/add/", {**MEMBER, "form_token": token})
    assert expired.status_code == 400 and _members() == 0


@pytest.mark.django_db
def test_an_anonymous_form_is_bound_to_its_browser(client, area_tree):
    [token] = form_tokens_in(client.get("/portal/contact/"))
    from django.test import Client

    other_browser = Client()
    other_browser.get("/portal/contact/")
    response = other_browser.post("/portal/contact/", {"form_token": token, "name": "x"})
    assert response.status_code == 400


# Every page form that changes something carries the token --------------------------

# Forms that change nothing, or that sign in (the session changes with the first POST;
# their repeats are bounded by the sign-in throttles instead).
NO_TOKEN = {
    "accounts/templates/accounts/citizen_code.html": "sign-in",
    "accounts/templates/accounts/citizen_login.html": "sign-in",
    "accounts/templates/accounts/staff_enrol.html": "sign-in",
    "accounts/templates/accounts/staff_login.html": "sign-in",
    "accounts/templates/accounts/staff_verify.html": "sign-in",
    "templates/base.html": "sign-out and language: no record is created",
    "people/templates/people/staff_people.html": "a search",
    "testing/templates/testing/lookup.html": "a result look-up",
    "certificates/templates/certificates/verify.html": "a verification",
    "certificates/templates/certificates/print_search.html": "a search",
}
_POST_FORM = re.compile(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", re.S | re.I)


def test_every_page_form_that_changes_something_carries_a_token():
    root = Path(settings.BASE_DIR) / "covidhub"
    missing = []
    for path in sorted(root.rglob("templates/**/*.html")):
        name = str(path.relative_to(root))
        if name in NO_TOKEN:
            continue
        for number, body in enumerate(_POST_FORM.findall(path.read_text())):
            if "{% form_token %}" not in body:
                missing.append(f"{name} (form {number + 1})")
    assert not missing, "POST forms without {% form_token %}: " + ", ".join(missing)


# Real parallel requests on PostgreSQL ------------------------------------------------


def _session_headers(client):
    from django.middleware.csrf import _get_new_csrf_string

    csrf = _get_new_csrf_string()
    return {
        "Cookie": f"sessionid={client.cookies['sessionid'].value}; csrftoken={csrf}",
        "X-CSRFToken": csrf,
        "Referer": "http://127.0.0.1/",
    }


def _double_submit(live_server, headers, body, n=8):
    url = f"{live_server.url}/me/household/add/"
    return race(
        [lambda: http_request("POST", url, form=body, headers=headers) for _ in range(n)],
        workers=n,
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_submissions_of_one_rendered_form_create_once(live_server, citizen, login):
    client = login(citizen)
    [token] = form_tokens_in(client.get("/me/household/add/"))
    results = _double_submit(live_server, _session_headers(client), {**MEMBER, "form_token": token})
    assert _members() == 1
    statuses = sorted(r.status for r in results)
    assert statuses.count(302) == 1 and set(statuses) == {302, 303}, statuses
    assert {r.headers["location"] for r in results} == {"/me/household/"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_control_the_same_race_without_a_token_creates_several(live_server, citizen, login):
    """Proves the race above is real: without the token the page creates each time."""
    client = login(citizen)
    results = _double_submit(live_server, _session_headers(client), MEMBER)
    assert all(r.status == 302 for r in results)
    assert _members() > 1
