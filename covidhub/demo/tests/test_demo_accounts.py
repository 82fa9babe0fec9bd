"""Every demo staff account gets to its daily work from the README alone: the README lists
it, `manage.py demo_totp` prints its code, and each page of its workspace answers."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from covidhub.accounts.models import RoleAssignment, User
from covidhub.accounts.workspaces import workspace_links_for
from covidhub.demo.staff import DEMO_PASSWORD

pytestmark = pytest.mark.django_db
README = Path(__file__).resolve().parents[3] / "README.md"


@pytest.fixture
def seeded():
    call_command("seed_demo", "--people", "300", "--quiet", stdout=StringIO())


def _code(username: str) -> str:
    out = StringIO()
    call_command("demo_totp", username, stdout=out)
    return out.getvalue().strip()


def test_every_demo_account_is_listed_has_a_code_and_reaches_its_work(seeded, login):
    readme = README.read_text(encoding="utf-8")
    # People's accounts; a machine client's service account signs in with its token only.
    staff = list(
        User.objects.filter(kind=User.Kind.STAFF, machine_client__isnull=True).order_by("username")
    )
    assert {"laymau", "xetnghiem", "tiemchung", "diemtiem", "sotttt", "coquan"} <= {
        user.username for user in staff
    }
    for user in staff:
        assert f"`{user.username}`" in readme, f"{user.username} is not in the README"
        code = _code(user.username)
        assert re.fullmatch(r"\d{6}", code)
        device = TOTPDevice.objects.get(user=user, confirmed=True)
        assert device.verify_token(code), user.username
        roles = frozenset(RoleAssignment.objects.filter(user=user).values_list("role", flat=True))
        links = workspace_links_for(roles)
        assert links, f"{user.username} has nothing to do"
        client = login(user)
        for link in links:
            response = client.get(reverse(link.url_name), follow=True)  # an index may redirect
            assert response.status_code == 200, (user.username, link.url_name)


def test_every_address_the_readme_names_exists():
    """A new user types what the README says: each address in it is a page of ours (it
    named `/testing/` and `/vaccination/`, which answered 404)."""
    from django.urls import Resolver404, resolve

    paths = set(re.findall(r"`(/[^`\s]*)`", README.read_text(encoding="utf-8")))
    assert {"/staff/testing/sampling/", "/testing/register/", "/vaccination/me/"} <= paths
    missing = []
    for path in sorted(paths):
        try:
            resolve(path)
        except Resolver404:
            missing.append(path)
    assert missing == []


def test_sampler_signs_in_with_the_readme_password_and_printed_code(seeded):
    client = Client()
    response = client.post(
        reverse("accounts:staff_login"), {"username": "laymau", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302
    response = client.post(reverse("accounts:staff_verify"), {"token": _code("laymau")})
    assert response.status_code == 302
    assert client.get(reverse("testing:sampling")).status_code == 200
    assert client.get(reverse("testing:lab_home")).status_code == 404  # not a lab technician


def test_demo_totp_refuses_an_account_that_is_not_a_demo_one(make_staff, area_tree):
    make_staff("realperson", "commune_officer", area_tree["commune"])
    with pytest.raises(CommandError, match="not a demo account"):
        call_command("demo_totp", "realperson", stdout=StringIO())
    with pytest.raises(CommandError, match="not a demo account"):
        call_command("demo_totp", "nobody", stdout=StringIO())
