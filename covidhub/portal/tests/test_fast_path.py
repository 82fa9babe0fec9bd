"""The WSGI fast path replays exactly what Django answered (per-request headers, CSRF token
and cookie made anew), only for anonymous GETs of shareable portal responses, and never
beyond the life of the cache entry they were made from."""

from __future__ import annotations

import datetime
import gzip
import io
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from django.utils import timezone

from covidhub.portal import cache as portal_cache
from covidhub.portal.rollup import stats_rollup
from covidhub.portal.wsgi import CSRF_PLACEHOLDER, PortalFastPath

pytestmark = pytest.mark.django_db
TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([A-Za-z0-9]{64})"')
PER_REQUEST = ("X-Request-ID", "Set-Cookie")


@dataclass
class Answer:
    status: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def shared_headers(self) -> list[tuple[str, str]]:
        return [(k, v) for k, v in self.headers if k not in PER_REQUEST]

    def page_without_token(self) -> bytes:
        return TOKEN.sub(b"TOKEN", self.body)


class App:
    """The fast path around Django's handler, counting the requests Django answered."""

    def __init__(self) -> None:
        self.django_calls = 0
        handler = WSGIHandler()

        def django(environ: dict[str, Any], start_response: Any) -> Any:
            self.django_calls += 1
            return handler(environ, start_response)

        self.fast = PortalFastPath(django)

    def get(self, path: str, *, method: str = "GET", query: str = "", **headers: str) -> Answer:
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SCRIPT_NAME": "",
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "testserver",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            **{"HTTP_" + name.upper(): value for name, value in headers.items()},
        }
        started: list[tuple[str, list[tuple[str, str]]]] = []
        result = self.fast(environ, lambda status, hs, *exc: started.append((status, hs)))
        body = b"".join(result)
        if hasattr(result, "close"):
            result.close()
        return Answer(started[0][0], list(started[0][1]), body)

    def twice(self, path: str, **kwargs: Any) -> tuple[Answer, Answer, int]:
        """The answer through Django, the next one, and how many of both Django gave."""
        before = self.django_calls
        first = self.get(path, **kwargs)
        second = self.get(path, **kwargs)
        return first, second, self.django_calls - before


@pytest.fixture
def app() -> Iterator[App]:
    # As Django's test client does: the connection is the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield App()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def figures(records: Any, people: dict[str, list[Any]]) -> datetime.date:
    today = timezone.localdate()
    for n in range(10):
        for person in people["commune"]:
            records.add(today - datetime.timedelta(days=n), person, "tests", 110)
    stats_rollup()
    return today


FILES = [
    ("/portal/data/daily/30.csv", {}),
    ("/portal/data/daily/30.csv", {"accept_encoding": "gzip, deflate"}),
    ("/portal/data/daily/30.json", {"accept_encoding": "gzip"}),
    ("/portal/data/daily/30/recent.csv", {}),
    ("/portal/data/daily/288/recent.json", {}),
    ("/portal/data/summary.json", {}),
    ("/portal/charts/1/30/tests.vi.svg", {}),
    ("/portal/embed/", {}),
]


@pytest.mark.parametrize(("path", "headers"), FILES)
def test_a_file_is_replayed_byte_for_byte(
    app, figures, django_assert_num_queries, path, headers, settings
):
    # The entry outlives the first answer however slow the machine is (a chart took over
    # the default 5 s on a loaded machine, and the replay was then rightly refused).
    settings.PORTAL_LOCAL_CACHE_SECONDS = 300
    first, second, through_django = app.twice(path, **headers)
    assert through_django == 1
    assert first.status == second.status == "200 OK"
    assert second.body == first.body
    assert second.headers == [
        *first.shared_headers(),
        ("X-Request-ID", second.header("X-Request-ID")),
    ]
    assert second.header("X-Request-ID") != first.header("X-Request-ID")
    assert len(second.header("X-Request-ID") or "") == 32
    with django_assert_num_queries(0):
        third = app.get(path, **headers)
    assert third.body == first.body and app.django_calls == 1


def test_gzip_and_not_modified_are_variants_of_their_own(app, figures):
    plain, plain_again, _ = app.twice("/portal/data/daily/30.csv")
    _zipped, zipped_again, through_django = app.twice(
        "/portal/data/daily/30.csv", accept_encoding="gzip"
    )
    assert through_django == 1
    assert zipped_again.header("Content-Encoding") == "gzip"
    assert gzip.decompress(zipped_again.body) == plain.body
    assert plain_again.header("Content-Encoding") is None
    etag = plain.header("ETag") or ""
    not_modified, again, through_django = app.twice("/portal/data/daily/30.csv", if_none_match=etag)
    assert through_django == 1
    assert not_modified.status == again.status == "304 Not Modified"
    assert again.body == b"" and again.shared_headers() == not_modified.shared_headers()
    _stale, stale_again, _ = app.twice("/portal/data/daily/30.csv", if_none_match='"old"')
    assert stale_again.status == "200 OK" and stale_again.body == plain.body


@pytest.mark.parametrize("path", ["/portal/", "/portal/districts/288/", "/portal/data/"])
def test_a_page_is_replayed_with_a_token_of_its_own(app, figures, path):
    first, second, through_django = app.twice(path)
    assert through_django == 1
    assert first.status == second.status == "200 OK"
    assert second.page_without_token() == first.page_without_token()
    assert CSRF_PLACEHOLDER.encode() not in second.body
    assert second.shared_headers() == first.shared_headers()
    assert TOKEN.search(second.body)[1] != TOKEN.search(first.body)[1]  # type: ignore[index]
    cookie = second.header("Set-Cookie") or ""
    assert cookie.startswith("csrftoken=") and "Max-Age=" in cookie and "SameSite=Lax" in cookie
    assert [k for k, _v in second.headers][-2:] == ["X-Request-ID", "Set-Cookie"]


def test_a_page_changed_after_the_view_is_left_to_django(app, figures):
    django = app.fast.application

    def changing(environ: dict[str, Any], start_response: Any) -> Any:
        response = django(environ, start_response)
        response.content += b"<!-- added after the view -->"
        return response

    app.fast.application = changing
    _first, second, through_django = app.twice("/portal/")
    assert through_django == 2
    assert second.body.endswith(b"<!-- added after the view -->")


def _secret(answer: Answer) -> str:
    return re.match(r"csrftoken=([A-Za-z0-9]+);", answer.header("Set-Cookie") or "")[1]  # type: ignore[index]


def test_the_replayed_token_works_for_the_language_form(app, figures):
    app.get("/portal/")
    for cookie in ({}, {"cookie": "csrftoken=" + "a" * 32}):
        page = app.get("/portal/", **cookie)
        assert app.django_calls == 1
        secret = _secret(page)
        if cookie:
            assert secret == "a" * 32  # the visitor's secret, renewed
        visitor = Client(enforce_csrf_checks=True)
        visitor.cookies["csrftoken"] = secret
        token = TOKEN.search(page.body)[1].decode()  # type: ignore[index]
        response = visitor.post(
            "/i18n/setlang/", {"language": "en", "next": "/portal/", "csrfmiddlewaretoken": token}
        )
        assert response.status_code == 302
        other_secret = "z" * 32 + "y" * 32  # unmasks to "9" * 32
        forged = visitor.post(
            "/i18n/setlang/", {"language": "en", "csrfmiddlewaretoken": other_secret}
        )
        assert forged.status_code == 403


def test_a_malformed_csrf_cookie_is_replaced_as_django_would(app, figures):
    through_django = app.get("/portal/data/summary.json", cookie="csrftoken=bad!")
    replayed = app.get("/portal/data/summary.json", cookie="csrftoken=bad!")
    assert app.django_calls == 1
    assert through_django.header("Set-Cookie") and replayed.header("Set-Cookie")
    assert _secret(replayed) != _secret(through_django)
    assert (
        app.get("/portal/data/summary.json", cookie="csrftoken=" + "c" * 32).header("Set-Cookie")
        is None
    )


def test_each_language_is_a_variant(app, figures):
    _vi, vi_again, _ = app.twice("/portal/")
    _en, en_again, through_django = app.twice("/portal/", accept_language="en-GB,en;q=0.8")
    assert through_django == 1
    assert en_again.header("Content-Language") == "en" and b"New cases" in en_again.body
    assert vi_again.header("Content-Language") == "vi" and b"New cases" not in vi_again.body
    by_cookie = app.get("/portal/", cookie="django_language=en", accept_language="vi")
    assert by_cookie.header("Content-Language") == "en"
    assert app.django_calls == 2  # the same variant as the English header


@pytest.mark.parametrize(
    ("path", "kwargs"),
    [
        ("/portal/", {"cookie": "sessionid=abc"}),
        ("/portal/", {"cookie": "messages=abc"}),
        ("/portal/", {"query": "x=1"}),
        ("/portal/", {"method": "HEAD"}),
        ("/portal/data/summary.json", {"authorization": "Bearer abc"}),
        ("/portal/contact/", {}),
        ("/healthz", {}),
    ],
)
def test_what_is_never_replayed(app, figures, path, kwargs):
    _first, _second, through_django = app.twice(path, **kwargs)
    assert through_django == 2


def test_a_disallowed_host_is_refused_every_time(app, figures):
    app.get("/portal/data/summary.json")
    refused, again, through_django = app.twice("/portal/data/summary.json", host="evil.example")
    assert through_django == 2
    assert refused.status.startswith("400") and again.status.startswith("400")


def test_a_withdrawn_announcement_is_gone_at_once(app, figures, editor):
    from covidhub.portal.models import Category
    from covidhub.portal.services import (
        announcement_input_clean,
        announcement_publish,
        announcement_save,
        announcement_withdraw,
    )

    data = announcement_input_clean(
        {
            "title": "Tiêm chủng",
            "summary": "Tóm tắt",
            "body": "<p>Nội dung</p>",
            "language": "vi",
            "category": Category.objects.get(slug="tiem-chung"),
        }
    )
    item = announcement_publish(
        actor=editor, announcement=announcement_save(actor=editor, data=data)
    )
    shown, _again, through_django = app.twice(item.get_absolute_url())
    assert shown.status == "200 OK" and through_django == 2
    announcement_withdraw(actor=editor, announcement=item)
    assert app.get(item.get_absolute_url()).status.startswith("404")


def test_a_replay_ends_with_the_figures_it_was_made_from(app, figures, records, people):
    before = app.get("/portal/data/summary.json")
    assert app.get("/portal/data/summary.json").body == before.body
    assert app.django_calls == 1
    for person in people["commune"]:
        records.add(figures, person, "tests", 1)
    stats_rollup()
    portal_cache.bump()  # what the rollup does when it commits
    after = app.get("/portal/data/summary.json")
    assert app.django_calls == 2
    assert after.body != before.body
    assert app.get("/portal/data/summary.json").body == after.body
    assert app.django_calls == 2


def test_a_replay_ends_when_the_local_cache_entry_expires(app, figures, monkeypatch):
    app.twice("/portal/data/summary.json")
    assert app.django_calls == 1
    later = time.monotonic() + portal_cache.local_seconds() + 1
    monkeypatch.setattr(time, "monotonic", lambda: later)
    app.get("/portal/data/summary.json")
    assert app.django_calls == 2


def test_without_local_caching_nothing_is_replayed(app, figures, settings):
    settings.PORTAL_LOCAL_CACHE_SECONDS = 0
    _first, _second, through_django = app.twice("/portal/data/summary.json")
    assert through_django == 2
