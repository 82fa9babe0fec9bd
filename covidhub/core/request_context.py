"""Per-request facts (request id, client address) that audit rows and log lines carry.

A context variable rather than a thread-local so that it also holds in async code.
"""

from __future__ import annotations

import contextvars
import ipaddress
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    client_address: str | None


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "covidhub_request_context", default=None
)


def current() -> RequestContext | None:
    return _current.get()


def bind(context: RequestContext | None) -> contextvars.Token[RequestContext | None]:
    return _current.set(context)


def reset(token: contextvars.Token[RequestContext | None]) -> None:
    _current.reset(token)


def client_address(request: HttpRequest) -> str | None:
    """The client's address; X-Forwarded-For only counts behind trusted proxies."""
    address = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [
            a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()
        ]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    if not address:
        return None
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def new_request_id(request: HttpRequest) -> str:
    incoming = str(request.META.get("HTTP_X_REQUEST_ID", ""))
    if 8 <= len(incoming) <= 64 and incoming.replace("-", "").isalnum():
        return incoming
    return uuid.uuid4().hex
