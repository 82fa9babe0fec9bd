"""Screenshots of the real pages for the guides, from a running server.

    manage.py portal_screenshots --base-url http://127.0.0.1:8000

Drives Debian's Chromium through Playwright at a phone's size, signed in as the first demo
citizen (a session made directly in the database this command shares with the server),
and writes small PNGs (palette, 300 px wide) into static/portal/guides/<language>/.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import NoReverseMatch, reverse

OUT = Path(__file__).resolve().parents[2] / "static" / "portal" / "guides"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def _session_cookie(phone: str) -> str:
    from importlib import import_module

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from covidhub.accounts.models import User

    user = User.objects.filter(phone=phone, kind="citizen").first()
    if user is None:
        raise CommandError(f"no citizen with phone {phone}: run seed_demo first")
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "covidhub.accounts.backends.CachedModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return str(session.session_key)


def _targets() -> dict[str, str]:
    from covidhub.core.tasks_catalog import CITIZEN_TASKS, entry_url_name

    targets = {"install": reverse("core:home")}
    for task in CITIZEN_TASKS:
        name = entry_url_name(task.key)
        try:
            targets[task.key] = (
                reverse(name) if name else reverse("core:task_pending", args=[task.key])
            )
        except NoReverseMatch:
            targets[task.key] = reverse("core:task_pending", args=[task.key])
    return targets


def _shrink(png: bytes) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        width = 300
        height = round(image.height * width / image.width)
        small = image.convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
        small = small.quantize(colors=48, method=Image.Quantize.MEDIANCUT)
        out = io.BytesIO()
        small.save(out, "PNG", optimize=True)
        return out.getvalue()


class Command(BaseCommand):
    help = "Capture the guide screenshots from a running server."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default=settings.SITE_URL)
        parser.add_argument("--phone", default="+84912000001")

    def handle(self, *args: Any, **options: Any) -> None:
        from playwright.sync_api import sync_playwright

        base = options["base_url"].rstrip("/")
        session_key = _session_cookie(options["phone"])
        host = base.split("://", 1)[1].split("/", 1)[0].split(":")[0]
        total = 0
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            try:
                for language in ("vi", "en"):
                    context = browser.new_context(
                        base_url=base,
                        viewport={"width": 360, "height": 640},
                        device_scale_factor=1,
                        locale="vi-VN" if language == "vi" else "en-GB",
                    )
                    context.add_cookies(
                        [
                            {
                                "name": settings.SESSION_COOKIE_NAME,
                                "value": session_key,
                                "domain": host,
                                "path": "/",
                            },
                            {
                                "name": settings.LANGUAGE_COOKIE_NAME,
                                "value": language,
                                "domain": host,
                                "path": "/",
                            },
                        ]
                    )
                    page = context.new_page()
                    (OUT / language).mkdir(parents=True, exist_ok=True)
                    for key, path in _targets().items():
                        page.goto(path)
                        data = _shrink(page.screenshot(full_page=False))
                        (OUT / language / f"{key}.png").write_bytes(data)
                        total += len(data)
                        self.stdout.write(
                            f"{language}/{key}.png  {len(data) // 1024} KiB  ({path})"
                        )
                    context.close()
            finally:
                browser.close()
        self.stdout.write(f"total {total // 1024} KiB")
