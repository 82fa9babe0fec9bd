"""Shared fixtures: a small area tree and the personas every scoping test uses —
a citizen, a commune officer, an officer of the neighbouring commune, a district officer
and a province administrator."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API in browser tests


@pytest.fixture(autouse=True)
def _test_settings(settings: Any, tmp_path: Any) -> None:
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SMS_BACKEND = "outbox"
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    settings.MEDIA_ROOT = str(tmp_path / "media")
    from django.core.cache import cache

    from covidhub.accounts.authcache import auth_cache_clear_here
    from covidhub.core.localcache import local_caches_clear

    cache.clear()
    local_caches_clear()
    auth_cache_clear_here()


@pytest.fixture(scope="session", autouse=True)
def _audit_purge_on_flush() -> Any:
    """The flush between transactional tests is the one thing allowed to empty the audit
    table (the database refuses everyone else: covidhub/audit/guard.py)."""
    from django.core.management.commands import flush

    from covidhub.audit.guard import audit_purge_allowed

    handle = flush.Command.handle

    def handle_allowed(self: Any, **options: Any) -> Any:
        with audit_purge_allowed(using=options.get("database") or "default"):
            return handle(self, **options)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(flush.Command, "handle", handle_allowed)
        yield


@pytest.fixture(scope="session", autouse=True)
def _live_server_one_request_at_a_time() -> Any:
    """On SQLite in memory the live server's request threads all share the test's one
    connection (Django's connections_override). A browser asks for a page, its charts and
    its styles at once, and two threads in one SQLite connection fail ("database table is
    locked", "bad parameter or other API misuse") and poison it for the rest of the run.
    There, each request holds one lock from the first byte of its answer to its last; on
    PostgreSQL each thread has its own connection and requests race as they do in
    production (the concurrency tests need that)."""
    import threading

    from django.core.servers.basehttp import ThreadedWSGIServer
    from django.test.testcases import LiveServerThread

    lock = threading.Lock()

    class _Closing:
        def __init__(self, result: Any) -> None:
            self.result = result

        def __iter__(self) -> Any:
            return iter(self.result)

        def close(self) -> None:
            try:
                if hasattr(self.result, "close"):
                    self.result.close()
            finally:
                lock.release()

    class OneAtATime(ThreadedWSGIServer):
        def set_app(self, application: Any) -> None:
            if not self.connections_override:
                return super().set_app(application)

            def serialised(environ: Any, start_response: Any) -> Any:
                if not lock.acquire(timeout=60):  # a request that calls this server back
                    raise RuntimeError("live server: another request held the lock for 60 s")
                try:
                    return _Closing(application(environ, start_response))
                except BaseException:
                    lock.release()
                    raise

            return super().set_app(serialised)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LiveServerThread, "server_class", OneAtATime)
        yield


@pytest.fixture
def area_tree(db: None) -> dict[str, Any]:
    """Hải Dương → TP Hải Dương (Cẩm Thượng, Bình Hàn) and Chí Linh (Sao Đỏ)."""
    return area_tree_build()


def area_tree_build() -> dict[str, Any]:
    """The `area_tree` fixture's areas, for a fixture of a wider scope."""
    from covidhub.areas.models import Area
    from covidhub.areas.services import UnitRow, area_tree_load

    area_tree_load(
        rows=[
            UnitRow(1, "30", "Tỉnh Hải Dương", "tỉnh"),
            UnitRow(2, "288", "Thành phố Hải Dương", "thành phố", "30"),
            UnitRow(2, "290", "Thành phố Chí Linh", "thành phố", "30"),
            UnitRow(3, "10507", "Phường Cẩm Thượng", "phường", "288"),
            UnitRow(3, "10510", "Phường Bình Hàn", "phường", "288"),
            UnitRow(3, "10546", "Phường Sao Đỏ", "phường", "290"),
        ]
    )
    return {
        "province": Area.objects.get(level=1, code="30"),
        "district": Area.objects.get(level=2, code="288"),
        "other_district": Area.objects.get(level=2, code="290"),
        "commune": Area.objects.get(level=3, code="10507"),
        "neighbour_commune": Area.objects.get(level=3, code="10510"),
        "far_commune": Area.objects.get(level=3, code="10546"),
    }


def second_province_build() -> dict[str, Any]:
    """A second province beside the `area_tree`, with official codes: Hà Nội → Quận Ba
    Đình → Phường Phúc Xá."""
    from covidhub.areas.models import Area
    from covidhub.areas.services import UnitRow, area_tree_load

    area_tree_load(
        rows=[
            UnitRow(1, "01", "Thành phố Hà Nội", "thành phố trung ương"),
            UnitRow(2, "001", "Quận Ba Đình", "quận", "01"),
            UnitRow(3, "00001", "Phường Phúc Xá", "phường", "001"),
        ]
    )
    return {
        "other_province": Area.objects.get(level=1, code="01"),
        "other_province_district": Area.objects.get(level=2, code="001"),
        "other_province_commune": Area.objects.get(level=3, code="00001"),
    }


@pytest.fixture
def two_provinces(area_tree: dict[str, Any], settings: Any) -> dict[str, Any]:
    """The `area_tree` and a second province, both served (COVIDHUB_PROVINCES=30,01)."""
    settings.PROVINCES = ["30", "01"]
    return {**area_tree, **second_province_build()}


@pytest.fixture
def make_person(area_tree: dict[str, Any]) -> Callable[..., Any]:
    from covidhub.people.services import person_create
    from covidhub.people.validation import person_input_clean

    counter = {"n": 0}

    def make(
        *, commune: Any = None, managed_by: Any = None, relationship: str = "", **fields: Any
    ) -> Any:
        counter["n"] += 1
        raw = {
            "full_name": fields.pop("full_name", "Nguyễn Văn Thử"),
            "birth": fields.pop("birth", "15/03/1985"),
            "sex": fields.pop("sex", "M"),
            "commune": commune or area_tree["commune"],
            **fields,
        }
        return person_create(
            actor=None,
            data=person_input_clean(raw),
            managed_by=managed_by,
            relationship=relationship,
        )

    return make


@pytest.fixture
def make_citizen(make_person: Callable[..., Any]) -> Callable[..., Any]:
    from covidhub.accounts.models import User

    def make(phone: str = "+84912345678", **person_fields: Any) -> Any:
        user = User(username=f"c-{phone[-8:]}", phone=phone, kind=User.Kind.CITIZEN)
        user.set_unusable_password()
        user.save()
        make_person(managed_by=user, relationship="self", **person_fields)
        return user

    return make


@pytest.fixture
def citizen(make_citizen: Callable[..., Any]) -> Any:
    return make_citizen()


@pytest.fixture
def citizen_person(citizen: Any) -> Any:
    return citizen.people.get(relationship="self")


@pytest.fixture
def make_staff(area_tree: dict[str, Any]) -> Callable[..., Any]:
    return staff_build


def staff_build(
    username: str, role: str, area: Any = None, *, unit_kind: str = "", unit_uuid: Any = None
) -> Any:
    """A staff account with a confirmed TOTP device and one role (`make_staff`)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from covidhub.accounts.models import User
    from covidhub.accounts.services import role_assign

    user = User(username=username, kind=User.Kind.STAFF, display_name=username.title())
    user.set_password("correct horse battery")
    user.save()
    TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    role_assign(user=user, role=role, area=area, unit_kind=unit_kind, unit_uuid=unit_uuid)
    return user


@pytest.fixture
def commune_officer(make_staff: Callable[..., Any], area_tree: dict[str, Any]) -> Any:
    return make_staff("officer", "commune_officer", area_tree["commune"])


@pytest.fixture
def neighbour_officer(make_staff: Callable[..., Any], area_tree: dict[str, Any]) -> Any:
    return make_staff("neighbour", "commune_officer", area_tree["neighbour_commune"])


@pytest.fixture
def district_officer(make_staff: Callable[..., Any], area_tree: dict[str, Any]) -> Any:
    return make_staff("district", "district_officer", area_tree["district"])


@pytest.fixture
def province_admin(make_staff: Callable[..., Any], area_tree: dict[str, Any]) -> Any:
    return make_staff("admin", "administrator", area_tree["province"])


def _verified_client(user: Any) -> Client:
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    session = client.session
    if device is not None:
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def login() -> Callable[[Any], Client]:
    """A client signed in as the user; staff also pass the TOTP step."""
    return _verified_client


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip)


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def server_code_loaded() -> None:
    """Import the URLconf (every app's views, the API's schemas) and load both languages'
    catalogues now, once, rather than in the live server's first request: on a busy machine
    that import took 16 s, longer than a page may take to load, and the first page of a
    browser test file timed out while later ones passed."""
    from django.urls import reverse
    from django.utils.translation import trans_real

    reverse("healthz")
    for language in ("vi", "en"):
        trans_real.translation(language)


@pytest.fixture(scope="session")
def chromium() -> Any:
    """Debian's Chromium driven by Playwright (which cannot download its own browser here)."""
    from playwright.sync_api import sync_playwright

    server_code_loaded()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any, live_server: Any) -> Any:
    context = chromium.new_context(
        base_url=live_server.url, locale="vi-VN", viewport={"width": 390, "height": 844}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical accessibility violations on the current page (axe-core)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]


@pytest.fixture
def auth_headers() -> Callable[[Any], dict[str, str]]:
    """Headers that authenticate real HTTP requests (for races against the live server):
    a bearer token for a citizen, a TOTP-verified session with CSRF for staff."""
    return auth_headers_build


def auth_headers_build(user: Any) -> dict[str, str]:
    """The `auth_headers` fixture's headers, for a fixture of a wider scope."""
    if user.kind == "citizen":
        from covidhub.accounts.services import api_token_issue

        return {"Authorization": f"Bearer {api_token_issue(user=user).token}"}
    from django.middleware.csrf import _get_new_csrf_string

    client = _verified_client(user)
    session_cookie = client.cookies["sessionid"].value
    csrf = _get_new_csrf_string()
    return {
        "Cookie": f"sessionid={session_cookie}; csrftoken={csrf}",
        "X-CSRFToken": csrf,
        "Referer": "http://127.0.0.1/",
    }
