"""Form tokens: a page form that is sent twice (a double tap, a reload, the back button)
does its work once.

Every rendering of a form that changes something carries a fresh token in a hidden field
(`{% form_token %}`, a template builtin). The token is signed for the actor who saw the
page (the signed-in account, or the anonymous browser's CSRF secret) and expires with the
idempotency records (`IDEMPOTENCY_TTL_HOURS`), so it can be neither made up, nor replayed
by someone else, nor outlive the row that remembers it.

The first POST that carries it claims the token by inserting an `IdempotencyRecord`
(the API's Idempotency-Key table, same unique (owner, key) rule) before the view runs; a
concurrent or later POST with the same token finds that row, waits for the first to
finish and is redirected to the first one's result (post/redirect/get) instead of doing
the work again. Only a redirect counts as done: a form shown again with its errors did
nothing, so its row is dropped and the corrected answers may use the token.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from typing import Final

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from covidhub.core.models import IdempotencyRecord

FIELD: Final = "form_token"
_SALT: Final = "covidhub.core.formtokens"
_KEY_PREFIX: Final = "form:"
WAIT_SECONDS: Final = 10.0


def form_owner(request: HttpRequest) -> str:
    """Whom a token belongs to: the account, or the anonymous browser (its CSRF secret)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    secret = request.META.get("CSRF_COOKIE") or ""
    if not secret:
        get_token(request)  # the page sets the cookie that the POST will bring back
        secret = request.META.get("CSRF_COOKIE") or ""
    return "anon:" + hashlib.sha256(secret.encode()).hexdigest()[:40]


def _signer(owner: str) -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=f"{_SALT}:{owner}")


def form_token_issue(request: HttpRequest) -> str:
    """A fresh token for one rendering of one form, bound to the viewer."""
    return _signer(form_owner(request)).sign(secrets.token_urlsafe(12))


def form_token_field(request: HttpRequest) -> SafeString:
    return format_html(
        '<input type="hidden" name="{}" value="{}">', FIELD, form_token_issue(request)
    )


def _nonce(token: str, owner: str) -> str | None:
    try:
        return _signer(owner).unsign(token, max_age=settings.IDEMPOTENCY_TTL_HOURS * 3600)
    except signing.BadSignature:  # includes SignatureExpired
        return None


def _problem(request: HttpRequest, status: int, message: str) -> HttpResponse:
    return render(request, "core/error.html", {"message": message}, status=status)


def _claim(nonce: str, owner: str, method_path: str) -> IdempotencyRecord | None:
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(
                key=_KEY_PREFIX + nonce, owner=owner, method_path=method_path, body_hash=""
            )
    except IntegrityError:
        return None


def _first_result(request: HttpRequest, nonce: str, owner: str) -> HttpResponse | None:
    """The redirect of the submission that claimed the token first; None if it did nothing
    (its row is gone) so that this one may claim the token."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        record = IdempotencyRecord.objects.filter(key=_KEY_PREFIX + nonce, owner=owner).first()
        if record is None:
            return None
        if record.status_code is not None:
            break
        if time.monotonic() > deadline:
            return _problem(
                request, 409, _("This form is still being sent. Wait a moment and reload the page.")
            )
        time.sleep(0.05)
    messages.info(request, _("This form was already sent; here is the result."))
    response = HttpResponse(status=303)
    response["Location"] = bytes(record.response_body or b"/").decode()
    response["Idempotent-Replayed"] = "true"
    return response


def form_token_handle(
    request: HttpRequest, token: str, get_response: Callable[[HttpRequest], HttpResponse]
) -> HttpResponse:
    """Run a form POST at most once per token (see the module's docstring)."""
    owner = form_owner(request)
    nonce = _nonce(token, owner)
    if nonce is None:
        return _problem(
            request,
            400,
            _(
                "This form has expired or was opened in another session. "
                "Go back, reload the page and send it again."
            ),
        )
    method_path = f"{request.method} {request.path}"[:300]
    for _attempt in range(3):
        record = _claim(nonce, owner, method_path)
        if record is not None:
            break
        replay = _first_result(request, nonce, owner)
        if replay is not None:
            return replay
    else:  # the token was claimed and released three times in a row
        return _problem(request, 409, _("This form is being sent from several places at once."))
    try:
        response = get_response(request)
    except BaseException:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        raise
    location = response.get("Location") if 300 <= response.status_code < 400 else None
    if not location:
        # Shown again with errors, refused, or failed: nothing was done; free the token.
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        return response
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        status_code=response.status_code, response_body=location.encode(), content_type="redirect"
    )
    return response
