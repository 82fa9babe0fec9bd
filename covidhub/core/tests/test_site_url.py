"""Links that leave a page (result PDF verify links and QR, open data, feeds, SMS) use the
address the server was started on: `PORT=8080 scripts/run` must not print links to 8000."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import site_url_from_listen

ROOT = Path(__file__).resolve().parents[3]
PRINT = (
    "import django, json; django.setup(); from django.conf import settings; "
    "print(json.dumps([settings.SITE_URL, settings.ALLOWED_HOSTS]))"
)


def _settings(**env: str) -> tuple[str, list[str]]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SITE_URL", "HOST", "PORT", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    result = subprocess.run(
        [sys.executable, "-c", PRINT],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    site_url, allowed = json.loads(result.stdout.strip().splitlines()[-1])
    return site_url, allowed


def test_site_url_follows_port_and_host_unless_set():
    assert _settings()[0] == "http://127.0.0.1:8000"
    assert _settings(PORT="8080")[0] == "http://127.0.0.1:8080"
    site_url, allowed = _settings(HOST="192.168.1.20", PORT="9000")
    assert site_url == "http://192.168.1.20:9000"
    assert "192.168.1.20" in allowed  # the printed address is one the server answers
    assert _settings(PORT="8080", SITE_URL="https://covid.haiduong.gov.vn/")[0] == (
        "https://covid.haiduong.gov.vn"
    )


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("0.0.0.0", "8080", "http://127.0.0.1:8080"),  # noqa: S104 - a listen address
        ("", "", "http://127.0.0.1:8000"),
        ("::1", "8001", "http://[::1]:8001"),
        ("localhost", "80", "http://localhost:80"),
    ],
)
def test_listen_address_to_link_address(host, port, url):
    assert site_url_from_listen(host, port) == url


def test_a_port_that_is_not_a_number_fails_loudly():
    with pytest.raises(ImproperlyConfigured, match="PORT"):
        site_url_from_listen("127.0.0.1", "http")
