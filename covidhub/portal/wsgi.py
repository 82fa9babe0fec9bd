"""The portal's fast path: public pages and open-data files replayed at the WSGI level.

The home page and the open-data files are read by many anonymous visitors and built once
per generation (`covidhub.portal.cache`). Even served from process memory, each request
still paid for Django's whole request cycle (the middleware stack, URL resolution, the
response object), several times the cost of sending the bytes. This wrapper keeps, for
each request variant, the exact status, headers and body that Django answered with, and
answers the next identical request itself:

- only for what a view marked shareable (`mark_shared`): a response made from a value the
  portal cache keeps in process memory; and only while that cache entry is current, so a
  replay is never older than what the view itself would serve;
- only for an anonymous GET without a query string under /portal/: a session or messages
  cookie, an Authorization header or another method always go to Django;
- keyed by everything that the view and the middleware read from such a request: the path,
  the language the locale middleware would choose, whether gzip is accepted,
  If-None-Match, and the host, scheme and proxy headers (so a disallowed host, the HTTPS
  redirect or a not-modified answer come from Django first and only then, if shareable,
  are replayed);
- what is per request stays per request: a new request id (X-Request-ID, as the request
  context middleware makes it) and, for pages, the visitor's CSRF token and cookie, made by
  Django's CSRF middleware and `get_token` exactly as for a page rendered by Django.

The first request of each variant in each process, and the first after the cache entry
expires (`PORTAL_LOCAL_CACHE_SECONDS`) or the figures change, goes through Django.

config/wsgi.py wraps the application: `application = portal_fast_path(get_wsgi_application())`.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.cookie import parse_cookie
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.utils import translation

from covidhub.core import request_context
from covidhub.portal import cache as portal_cache

# As long as a masked CSRF token (64 characters), so that a page's length does not change.
CSRF_PLACEHOLDER = "portalcsrfplaceholder" + "0" * 43
PREFIX = "/portal/"
MAX_VARIANTS = 1024
MESSAGES_COOKIE = "messages"  # django.contrib.messages' cookie storage
_SHARED_ATTRIBUTE = "portal_shared"
# Headers that are made anew for each request, never replayed.
_PER_REQUEST = frozenset({"x-request-id", "set-cookie"})

type Environ = dict[str, Any]
type StartResponse = Callable[..., Any]
type WSGIApplication = Callable[[Environ, StartResponse], Iterable[bytes]]


@dataclass(frozen=True, slots=True)
class Shared:
    """A view's word that its response depends only on the cache entry it was made from
    (and on the request variant); `template`: a page body with the CSRF placeholder."""

    cache_key: str
    entry: portal_cache.LocalEntry
    template: bytes | None = None


@dataclass(frozen=True, slots=True)
class Replay:
    cache_key: str
    entry: portal_cache.LocalEntry
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    template: bytes | None


def mark_shared(
    response: HttpResponse,
    *,
    cache_key: str,
    entry: portal_cache.LocalEntry | None,
    template: bytes | None = None,
) -> None:
    """Let the fast path replay `response` while `entry` is current (no-op without one)."""
    if entry is not None:
        setattr(response, _SHARED_ATTRIBUTE, Shared(cache_key, entry, template))


class _Headers(HttpRequest):
    """A request that holds only what the request id, language and CSRF functions read
    (META and COOKIES): HttpRequest's own __init__ builds query dicts never used here."""

    def __init__(self, meta: dict[str, Any], cookies: dict[str, str]) -> None:
        self.META = meta
        self.COOKIES = cookies


@functools.lru_cache(maxsize=512)
def _language(cookie: str | None, accept: str) -> str:
    """The language the locale middleware activates for these request headers."""
    cookies = {} if cookie is None else {settings.LANGUAGE_COOKIE_NAME: cookie}
    return translation.get_language_from_request(
        _Headers({"HTTP_ACCEPT_LANGUAGE": accept}, cookies), check_path=False
    )


def _made_from(template: bytes, body: bytes) -> bool:
    """Whether `body` is `template` with one token in place of the CSRF placeholder."""
    placeholder = CSRF_PLACEHOLDER.encode()
    at = template.find(placeholder)
    if at < 0:
        return body == template
    return body == template.replace(placeholder, body[at : at + len(placeholder)])


def _no_response(request: HttpRequest) -> HttpResponse:
    raise AssertionError("the CSRF middleware is only asked for its request/response hooks")


class PortalFastPath:
    def __init__(self, application: WSGIApplication) -> None:
        self.application = application
        self._variants: dict[tuple[Any, ...], Replay] = {}
        self._lock = threading.Lock()
        self._csrf = CsrfViewMiddleware(_no_response)
        proxy_header = settings.SECURE_PROXY_SSL_HEADER
        # Everything else in the environ that the middleware reads for an anonymous GET.
        self._varying = (
            "HTTP_HOST",
            "SERVER_NAME",
            "SERVER_PORT",
            "SCRIPT_NAME",
            "wsgi.url_scheme",
            "HTTP_X_FORWARDED_HOST",
            "HTTP_X_FORWARDED_PORT",
            "HTTP_IF_NONE_MATCH",
            *([proxy_header[0]] if proxy_header else []),
        )
        # A setting that makes Django answer by the user agent or keep the CSRF secret in
        # the session would need more than this path knows: leave everything to Django.
        self.enabled = not (settings.DISALLOWED_USER_AGENTS or settings.CSRF_USE_SESSIONS)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        variant = self._variant(environ)
        if variant is None:
            return self.application(environ, start_response)
        key, cookies = variant
        replay = self._variants.get(key)
        if replay is not None and portal_cache.is_current(replay.cache_key, replay.entry):
            return self._replay(replay, environ, cookies, start_response)
        return self._through_django(key, environ, start_response)

    def _variant(self, environ: Environ) -> tuple[tuple[Any, ...], dict[str, str]] | None:
        if (
            not self.enabled
            or environ.get("REQUEST_METHOD") != "GET"
            or environ.get("QUERY_STRING")
            or "HTTP_AUTHORIZATION" in environ
        ):
            return None
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX):
            return None
        raw_cookies = environ.get("HTTP_COOKIE")
        cookies = parse_cookie(raw_cookies) if raw_cookies else {}
        if settings.SESSION_COOKIE_NAME in cookies or MESSAGES_COOKIE in cookies:
            return None
        language = _language(
            cookies.get(settings.LANGUAGE_COOKIE_NAME), environ.get("HTTP_ACCEPT_LANGUAGE", "")
        )
        gzip = "gzip" in environ.get("HTTP_ACCEPT_ENCODING", "")
        key = (path, language, gzip, *[environ.get(name) for name in self._varying])
        return key, cookies

    def _replay(
        self,
        replay: Replay,
        environ: Environ,
        cookies: dict[str, str],
        start_response: StartResponse,
    ) -> list[bytes]:
        request = _Headers({"HTTP_X_REQUEST_ID": environ.get("HTTP_X_REQUEST_ID", "")}, cookies)
        headers = [*replay.headers, ("X-Request-ID", request_context.new_request_id(request))]
        body = replay.body
        if replay.template is not None or settings.CSRF_COOKIE_NAME in cookies:
            # What the CSRF middleware does for this visitor: a page gets a token masked
            # anew (and the cookie renewed); any response a malformed cookie replaced.
            self._csrf.process_request(request)
            if replay.template is not None:
                token = get_token(request).encode()
                body = replay.template.replace(CSRF_PLACEHOLDER.encode(), token)
            carrier = HttpResponse()
            self._csrf.process_response(request, carrier)
            headers += [("Set-Cookie", c.OutputString()) for c in carrier.cookies.values()]
        start_response(replay.status, headers)
        return [body]

    def _through_django(
        self, key: tuple[Any, ...], environ: Environ, start_response: StartResponse
    ) -> Iterable[bytes]:
        answered: list[tuple[str, list[tuple[str, str]]]] = []

        def capture(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            answered.append((status, headers))
            return start_response(status, headers, *exc_info)

        response = self.application(environ, capture)
        shared = getattr(response, _SHARED_ATTRIBUTE, None)
        if isinstance(shared, Shared) and isinstance(response, HttpResponse) and answered:
            self._keep(key, shared, response, *answered[-1])
        return response

    def _keep(
        self,
        key: tuple[Any, ...],
        shared: Shared,
        response: HttpResponse,
        status: str,
        headers: list[tuple[str, str]],
    ) -> None:
        if not status.startswith(("200 ", "304 ")):
            return
        csrf_cookie = f"{settings.CSRF_COOKIE_NAME}="
        kept = []
        for name, value in headers:
            lower = name.lower()
            if lower == "set-cookie" and not value.startswith(csrf_cookie):
                return  # a cookie this path would not set again
            if lower not in _PER_REQUEST:
                kept.append((name, value))
        body = response.content
        if shared.template is not None and not _made_from(shared.template, body):
            return  # the middleware changed the page: only Django can make it again
        replay = Replay(shared.cache_key, shared.entry, status, kept, body, shared.template)
        with self._lock:
            self._variants.pop(key, None)
            while len(self._variants) >= MAX_VARIANTS:
                self._variants.pop(next(iter(self._variants)))
            self._variants[key] = replay

    def forget(self) -> None:
        """Drop every kept variant (tests)."""
        with self._lock:
            self._variants.clear()


def portal_fast_path(application: WSGIApplication) -> PortalFastPath:
    return PortalFastPath(application)
