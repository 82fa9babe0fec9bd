"""Headers by page class: a strict Content-Security-Policy everywhere (and no template
that would need it loosened), the camera only on scanning pages, and nothing that
answers a signed-in request, an API call or a POST kept by a browser or a proxy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from covidhub.accounts.services import api_token_issue
from covidhub.core.headers import CAMERA_VIEWS

ROOT = Path(settings.BASE_DIR) / "covidhub"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.I)


def _directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    parts = [part.strip().split(" ", 1) for part in policy.split(";") if part.strip()]
    return {name: value[0] if value else "" for name, *value in parts}


def test_no_template_has_inline_script_event_handlers_or_style_elements():
    offenders = []
    for template in ROOT.glob("**/templates/**/*.html"):
        text = template.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, EVENT_HANDLER, STYLE_ELEMENT):
            offenders += [
                f"{template.relative_to(ROOT)}: {m.group(0)}" for m in pattern.finditer(text)
            ]
    assert offenders == []


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/portal/", "/signin/", "/api/v1/areas"])
def test_every_answer_has_a_strict_content_security_policy(client, path, area_tree):
    directives = _directives(client.get(path))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no 'unsafe-inline', no nonce, no host
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"


@pytest.mark.django_db
def test_only_the_embed_page_may_be_framed(client, area_tree):
    directives = _directives(client.get("/portal/embed/"))
    assert directives["frame-ancestors"] == "*" and directives["script-src"] == "'self'"


def test_every_camera_page_exists():
    """A scanning page renamed without updating the list would lose its camera."""
    for name in CAMERA_VIEWS:
        assert reverse(name, kwargs=_kwargs(name))


def _kwargs(name: str) -> dict[str, str]:
    import uuid

    return {
        "declarations:venue_link": {"code": "ABC"},
        "declarations:venue_scan": {"venue_uuid": str(uuid.uuid4())},
        "testing:session": {"session_uuid": str(uuid.uuid4())},
        "vaccination:site_day": {"site_uuid": str(uuid.uuid4())},
    }.get(name, {})


@pytest.mark.django_db
def test_the_camera_is_allowed_on_scanning_pages_only(client, citizen, login, area_tree):
    assert "camera=()" in client.get("/")["Permissions-Policy"]
    assert "camera=()" in client.get("/portal/")["Permissions-Policy"]
    assert "microphone=()" in client.get("/")["Permissions-Policy"]
    signed_in = login(citizen)
    assert "camera=()" in signed_in.get("/me/household/")["Permissions-Policy"]
    checkin = signed_in.get("/declarations/checkin/")
    assert checkin.status_code == 200
    assert "camera=(self)" in checkin["Permissions-Policy"]
    assert "microphone=()" in checkin["Permissions-Policy"]


@pytest.mark.django_db
def test_personal_answers_are_never_stored(client, citizen, citizen_person, login):
    signed_in = login(citizen)
    for response in [
        signed_in.get("/me/household/"),
        signed_in.get("/"),
        signed_in.get("/portal/"),  # a public page, but it names the signed-in person
        client.get(
            "/api/v1/household", HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=citizen).token}"
        ),
        client.post(
            "/api/v1/testing/lookup",
            {"code": "ZZZZ-ZZZZ", "birth": "15/03/1985"},
            content_type="application/json",
        ),
        client.get("/api/v1/areas"),
    ]:
        assert response["Cache-Control"] == "no-store, private", response.wsgi_request.path


@pytest.mark.django_db
def test_an_anonymous_page_is_stored_only_if_it_says_so(client, area_tree):
    # Caching is declared by a page (the portal's `public`), never a default that a new
    # anonymous page carrying personal data would inherit.
    assert client.get("/signin/")["Cache-Control"] == "no-store, private"
    assert client.get("/testing/verify/not-a-token/")["Cache-Control"] == "no-store, private"


@pytest.mark.django_db
def test_public_portal_pages_keep_their_caching(client, area_tree):
    assert "no-store" not in client.get("/portal/").get("Cache-Control", "")
    data = client.get("/portal/data/daily/30.csv")
    if data.status_code == 200:
        assert "public" in data["Cache-Control"] and "no-store" not in data["Cache-Control"]
