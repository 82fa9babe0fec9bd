"""Machine clients' fixtures: a registered client and a way to get it a token over HTTP."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from covidhub.clients import services


@pytest.fixture
def register(province_admin: Any, area_tree: dict[str, Any]) -> Callable[..., Any]:
    counter = {"n": 0}

    def make(
        *, access: dict[str, str] | None = None, area: Any = "commune", **kwargs: Any
    ) -> services.Credentials:
        counter["n"] += 1
        return services.client_register(
            actor=province_admin,
            name=kwargs.pop("name", f"Hệ thống {counter['n']}"),
            kind=kwargs.pop("kind", "national"),
            access=access if access is not None else {"people": "read"},
            area=area_tree[area] if isinstance(area, str) else area,
            **kwargs,
        )

    return make


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@pytest.fixture
def token_for() -> Callable[..., Any]:
    def ask(credentials: Any, *, secret: str | None = None, scope: str | None = None) -> Any:
        data = {"grant_type": "client_credentials"}
        if scope is not None:
            data["scope"] = scope
        return Client().post(
            "/oauth/token/",
            data,
            HTTP_AUTHORIZATION=basic(credentials.client_id, secret or credentials.client_secret),
        )

    return ask


@pytest.fixture
def bearer(token_for: Callable[..., Any]) -> Callable[..., Client]:
    """A test client that calls the API with a fresh token of the client."""

    def make(credentials: Any) -> Client:
        answer = token_for(credentials)
        assert answer.status_code == 200, answer.content
        return Client(HTTP_AUTHORIZATION=f"Bearer {answer.json()['access_token']}")

    return make
