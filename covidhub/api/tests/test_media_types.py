"""JSON bodies are accepted as application/json only, on every endpoint (issue 16,
finding 14): another site cannot make its visitors' browsers send sign-in codes."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from covidhub.accounts.models import PhoneCode
from covidhub.notifications.models import Message

pytestmark = pytest.mark.django_db

BODY = json.dumps({"phone": "0912345678"})
SIMPLE_TYPES = ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded"]


@pytest.mark.parametrize("content_type", SIMPLE_TYPES)
def test_a_sign_in_code_cannot_be_sent_with_a_cross_site_body(content_type):
    response = Client().post(
        "/api/v1/auth/code", BODY, content_type=content_type, HTTP_ACCEPT_LANGUAGE="vi"
    )
    assert response.status_code == 415
    body = response.json()
    assert body["code"] == "unsupported_media_type"
    assert "application/json" in body["message"] and "JSON" in body["message"]
    assert body["message"] != "Send the request body as JSON, with Content-Type: application/json."
    assert not PhoneCode.objects.exists() and not Message.objects.exists()


def test_json_still_works():
    response = Client().post("/api/v1/auth/code", BODY, content_type="application/json")
    assert response.status_code == 202
    assert PhoneCode.objects.count() == 1


def test_the_rule_holds_for_every_endpoint_that_takes_a_json_body(citizen, auth_headers):
    """Checked on the operations themselves: a new endpoint with a JSON body is covered."""
    from covidhub.api.media import takes_json_body
    from covidhub.core.tests.test_idempotency_secrets import _operations

    unchecked = []
    json_endpoints = 0
    for path, operation in _operations():
        if not takes_json_body(operation):
            continue
        json_endpoints += 1
        if not getattr(operation.run, "json_media_type_checked", False):
            unchecked.append(path)
    assert json_endpoints > 10 and unchecked == []
    # And through HTTP, with a signed-in citizen's bearer token.
    response = Client().post(
        "/api/v1/household",
        json.dumps({"full_name": "Nguyễn Minh Khoa"}),
        content_type="text/plain",
        headers={**auth_headers(citizen), "Accept-Language": "en"},
    )
    assert response.status_code == 415
    assert response.json()["message"] == (
        "Send the request body as JSON, with Content-Type: application/json."
    )
