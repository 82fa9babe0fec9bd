"""An answer that carries a secret is never stored by the idempotency layer, and a replay of
its key is refused (issue 16, finding 10)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from pydantic import BaseModel

from covidhub.accounts.models import ApiToken
from covidhub.core.idempotency import is_marked_secret
from covidhub.core.models import IdempotencyRecord

PHONE = "+84912345678"
SECRET_FIELD = re.compile(r"(^|_)(token|secret|password|private_key|api_key|code_hash)$")


def sign_in_code(phone: str = PHONE) -> str:
    from covidhub.notifications.models import Message
    from covidhub.notifications.sealing import message_text

    message = Message.objects.filter(channel="sms", to=phone).order_by("-id").first()
    assert message is not None
    found = re.search(r"\b(\d{6})\b", message_text(message))
    assert found is not None
    return found.group(1)


@pytest.mark.django_db
def test_a_token_answer_is_not_stored_and_its_replay_is_refused():
    client = Client()
    response = client.post("/api/v1/auth/code", {"phone": PHONE}, content_type="application/json")
    assert response.status_code == 202
    body = {"phone": PHONE, "code": sign_in_code()}
    key = {"HTTP_IDEMPOTENCY_KEY": "sign-in-attempt-0001", "HTTP_ACCEPT_LANGUAGE": "en"}
    first = client.post("/api/v1/auth/token", body, content_type="application/json", **key)
    assert first.status_code == 201
    token = first.json()["token"]
    record = IdempotencyRecord.objects.get(key="sign-in-attempt-0001")
    stored = bytes(record.response_body or b"") + record.content_type.encode()
    assert token.encode() not in stored and b"token" not in stored
    again = client.post("/api/v1/auth/token", body, content_type="application/json", **key)
    assert again.status_code == 409
    assert again.json()["code"] == "idempotency_secret_not_replayed"
    assert "never kept" in again.json()["message"] and token not in again.content.decode()
    assert ApiToken.objects.count() == 1  # and no second token was issued


def _operations() -> Iterator[tuple[str, Any]]:
    """Every operation the API serves (the bound copies, with their decorators applied)."""
    from covidhub.api.main import api

    for bound in api._get_bound_routers():
        for path, path_view in bound.path_operations.items():
            for operation in path_view.operations:
                yield bound.prefix + path, operation


def _field_names(model: Any, seen: set[Any]) -> Iterator[str]:
    if not (isinstance(model, type) and issubclass(model, BaseModel)) or model in seen:
        return
    seen.add(model)
    for name, field in model.model_fields.items():
        yield name
        annotation = field.annotation
        for inner in (annotation, *getattr(annotation, "__args__", ())):
            yield from _field_names(inner, seen)
            for deeper in getattr(inner, "__args__", ()):
                yield from _field_names(deeper, seen)


def test_every_endpoint_that_answers_with_a_secret_is_marked():
    """A new POST endpoint returning a token, secret or key must say so, or this fails."""
    carrying = []
    for path, operation in _operations():
        if "POST" not in operation.methods:
            continue  # only POST answers are stored for replay
        names: set[str] = set()
        for model in operation.response_models.values():
            names.update(_field_names(model, set()))
        if any(SECRET_FIELD.search(name) for name in names):
            carrying.append(path)
            assert is_marked_secret(operation.view_func), f"{path} returns a secret unmarked"
    assert "//auth/token" in carrying  # the walk does reach the endpoints (prefix "/")


@pytest.mark.django_db
def test_the_migration_empties_stored_token_answers():
    from importlib import import_module

    from django.apps import apps

    IdempotencyRecord.objects.create(
        key="old-sign-in-01",
        owner="addr:10.0.0.1",
        method_path="POST /api/v1/auth/token",
        body_hash="x" * 64,
        status_code=201,
        response_body=b'{"token": "Zm9vYmFyYmF6cXV4cXV1eA"}',
        content_type="application/json",
    )
    kept = IdempotencyRecord.objects.create(
        key="household-0001",
        owner="user:1",
        method_path="POST /api/v1/household",
        body_hash="y" * 64,
        status_code=201,
        response_body=b'{"uuid": "1"}',
        content_type="application/json",
    )
    migration = import_module("covidhub.core.migrations.0003_idempotency_forget_secrets")
    migration.forget(apps, None)
    old = IdempotencyRecord.objects.get(key="old-sign-in-01")
    assert bytes(old.response_body) == b"" and old.content_type == "secret-not-stored"
    kept.refresh_from_db()
    assert bytes(kept.response_body) == b'{"uuid": "1"}'
