from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[3]


def test_citizen_home_is_vietnamese_by_default_with_the_seven_tasks(client):
    html = client.get("/").content.decode()
    assert '<html lang="vi">' in html
    for title in (
        "Khai báo y tế",
        "Đăng ký xét nghiệm",
        "Tra cứu kết quả xét nghiệm",
        "Nhận kết quả xét nghiệm",
        "Đăng ký tiêm chủng",
        "Theo dõi thông tin tiêm chủng",
        "Tra cứu chứng nhận tiêm chủng",
    ):
        assert title in html, title
    assert "02203.897.353" in html


def test_language_switch_to_english(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html and "Make a health declaration" in html


def test_staff_land_on_their_workspace(commune_officer, login):
    client = login(commune_officer)
    assert client.get("/")["Location"] == "/staff/"


def test_installable_app(client):
    manifest = client.get("/manifest.webmanifest")
    assert manifest["Content-Type"] == "application/manifest+json"
    data = manifest.json()
    assert data["display"] == "standalone" and data["start_url"].startswith("/")
    assert any(icon["sizes"] == "512x512" for icon in data["icons"])
    sw = client.get("/sw.js")
    assert sw["Content-Type"].startswith("text/javascript") and "/offline/" in sw.content.decode()
    assert client.get("/offline/").status_code == 200


def test_favicon_is_the_platform_icon_not_a_404(client):
    # A page that names no icon (an iframe's figure, a bookmark) makes the browser ask for
    # /favicon.ico; a 404 there is a console error on every such page.
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("covidhub/icon-192.png")


def test_404_page_is_translated_and_reveals_nothing(client):
    response = client.get("/staff/people/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 302  # not signed in
    response = client.get("/no-such-page/")
    assert response.status_code == 404


def test_health_check(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_dev_outbox_does_not_exist_with_a_gateway(client, settings):
    assert client.get("/dev/outbox/").status_code == 200
    settings.SMS_BACKEND = "http"
    assert client.get("/dev/outbox/").status_code == 404


@pytest.mark.django_db(transaction=False)
def test_check_deploy_is_clean_with_production_variables(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text(secrets.token_urlsafe(50))
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "EMAIL_HOST": "smtp.haiduong.gov.vn",
        "DJANGO_ENV": "production",
        "SECRET_KEY_FILE": str(secret),
        "ALLOWED_HOSTS": "covid.haiduong.gov.vn",
        "DATABASE_URL": f"sqlite:///{tmp_path}/prod.sqlite3",
        "COVIDHUB_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    env.pop("SECRET_KEY_FILE")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr
