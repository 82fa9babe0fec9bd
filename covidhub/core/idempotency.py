"""Idempotency keys: a retried POST (the phone lost signal) creates nothing twice.

Clients send an `Idempotency-Key` header (the API); page forms carry a signed
`form_token` instead (`covidhub.core.formtokens`, same table). The first request with a key inserts a placeholder row before the work is
done; a concurrent or later repeat finds it and gets the stored response. The same key
with a different body is refused with 422.

An answer that carries a secret (a bearer token) is never stored: its endpoint is marked
with `@carries_secret`, the row keeps only that the request was done, and a replay gets
409 `idempotency_secret_not_replayed`. Re-issuing instead would hand a fresh token to anyone
who replays the key and body within the retention time; the client starts over (a new
sign-in code), which is what a lost answer to a one-time exchange has to mean.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.request import RawPostDataException
from django.utils import timezone
from django.utils.translation import gettext as _

from covidhub.core import formtokens, request_context
from covidhub.core.models import IdempotencyRecord

HEADER = "HTTP_IDEMPOTENCY_KEY"
_VALID_KEY = re.compile(r"[A-Za-z0-9_\-:.]{8,100}")
WAIT_SECONDS = 10.0
# Stored in place of the content type of an answer that was not kept because it held a secret.
SECRET_NOT_STORED = "secret-not-stored"  # noqa: S105 - a marker, not a password
_CARRIES_SECRET = "_covidhub_carries_secret"  # noqa: S105 - an attribute name


def answer_carries_secret(request: HttpRequest) -> None:
    """Say, from any view, that this request's answer holds a secret: it is not stored."""
    setattr(request, _CARRIES_SECRET, True)


def carries_secret[View: Callable[..., Any]](endpoint: View) -> View:
    """Mark an API endpoint whose answer holds a secret (below `@router.post`): it is never
    stored for replay. Every POST endpoint that returns a token, secret or key must carry
    the mark (covidhub/core/tests/test_idempotency_secrets.py).

    The endpoint itself is not wrapped, since ninja reads its signature and annotations;
    the operation that runs it marks the request first.
    """
    from ninja.decorators import decorate_view

    def mark_request(run: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(run)
        def marked(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            answer_carries_secret(request)
            return run(request, *args, **kwargs)

        return marked

    setattr(endpoint, _CARRIES_SECRET, True)
    return decorate_view(mark_request)(endpoint)


def is_marked_secret(view: Callable[..., Any]) -> bool:
    return bool(getattr(view, _CARRIES_SECRET, False))


_owner_resolvers: list[Callable[[HttpRequest], str | None]] = []


def register_owner_resolver(resolver: Callable[[HttpRequest], str | None]) -> None:
    """An app that authenticates requests its own way (machine clients) names their owner;
    the first resolver that answers wins."""
    if resolver not in _owner_resolvers:
        _owner_resolvers.append(resolver)


def _owner(request: HttpRequest) -> str:
    for resolver in _owner_resolvers:
        owner = resolver(request)
        if owner:
            return owner
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    authorization = request.META.get("HTTP_AUTHORIZATION", "")
    if authorization:
        return "token:" + hashlib.sha256(authorization.encode()).hexdigest()[:40]
    context = request_context.current()
    return f"addr:{context.client_address if context else '-'}"


def _body_hash(request: HttpRequest) -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    try:
        digest.update(request.body)
    except RawPostDataException:
        # A multipart form was already parsed: hash its fields (the token changes per page).
        fields = sorted(
            (k, v) for k, v in request.POST.lists() if k not in ("csrfmiddlewaretoken",)
        )
        digest.update(json.dumps(fields).encode())
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                digest.update(name.encode() + str(upload.size).encode())
    return digest.hexdigest()


def _error(status: int, code: str, message: str) -> HttpResponse:
    return JsonResponse({"code": code, "message": message, "details": {}}, status=status)


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return self.get_response(request)
        key = request.META.get(HEADER, "")
        if not key and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            token = request.POST.get(formtokens.FIELD, "")
            if token:
                # A page form: its own rules (signed per rendering, replay = redirect).
                return formtokens.form_token_handle(request, token, self.get_response)
        if not key:
            return self.get_response(request)
        if not _VALID_KEY.fullmatch(key):
            return _error(
                422,
                "idempotency_key_invalid",
                _("The Idempotency-Key must be 8 to 100 letters, digits or - _ : ."),
            )
        owner = _owner(request)
        body_hash = _body_hash(request)
        method_path = f"{request.method} {request.path}"[:300]
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    key=key, owner=owner, method_path=method_path, body_hash=body_hash
                )
        except IntegrityError:
            return self._replay(key=key, owner=owner, method_path=method_path, body_hash=body_hash)
        try:
            response = self.get_response(request)
        except BaseException:
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            raise
        done = response.status_code < 500 and not getattr(response, "streaming", False)
        if not done:
            # Nothing was done (or the transaction rolled back): let a retry do the work.
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            return response
        if getattr(request, _CARRIES_SECRET, False):
            # Done, but the answer is not kept: see the module's docstring.
            IdempotencyRecord.objects.filter(pk=record.pk).update(
                status_code=response.status_code, response_body=b"", content_type=SECRET_NOT_STORED
            )
            return response
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            status_code=response.status_code,
            response_body=bytes(response.content),
            content_type=response.get("Content-Type", ""),
        )
        self._store_headers(record.pk, response)
        return response

    def _store_headers(self, pk: int, response: HttpResponse) -> None:
        location = response.get("Location")
        if location:
            IdempotencyRecord.objects.filter(pk=pk).update(content_type=f"redirect:{location}")

    def _replay(self, *, key: str, owner: str, method_path: str, body_hash: str) -> HttpResponse:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            record = IdempotencyRecord.objects.filter(key=key, owner=owner).first()
            if record is None:
                return _error(
                    409, "idempotency_retry", _("The first request failed; please try again.")
                )
            if record.method_path != method_path or record.body_hash != body_hash:
                return _error(
                    422,
                    "idempotency_key_reused",
                    _("This Idempotency-Key was already used for a different request."),
                )
            if record.status_code is not None:
                break
            if time.monotonic() > deadline:
                return _error(
                    409, "idempotency_in_progress", _("The same request is still being processed.")
                )
            time.sleep(0.05)
        if record.content_type == SECRET_NOT_STORED:
            return _error(
                409,
                "idempotency_secret_not_replayed",
                _(
                    "This request was already completed. Its answer contained a secret, which "
                    "is never kept, so it cannot be sent again: please start over."
                ),
            )
        if record.content_type.startswith("redirect:"):
            response = HttpResponse(status=record.status_code)
            response["Location"] = record.content_type.removeprefix("redirect:")
        else:
            response = HttpResponse(
                bytes(record.response_body or b""),
                status=record.status_code,
                content_type=record.content_type or None,
            )
        response["Idempotent-Replayed"] = "true"
        return response


def idempotency_prune() -> int:
    cutoff = timezone.now() - datetime.timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
    deleted, _counts = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
