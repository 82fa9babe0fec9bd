"""The Django admin sits behind the staff sign-in (password, lockout, TOTP), admits only
administrators, never shows a device key, and speaks Vietnamese (issue 16, finding 1)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django_otp.plugins.otp_totp.models import TOTPDevice

from covidhub.accounts.tests.test_staff_auth import current_code

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


@pytest.fixture
def superadmin(province_admin: Any) -> Any:
    """The province administrator as the demo creates one: a Django superuser too."""
    province_admin.is_staff = True
    province_admin.is_superuser = True
    province_admin.save()
    return province_admin


def admin_urls() -> list[str]:
    """The list page of every model registered in the admin."""
    return [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
    ]


def test_the_admin_login_has_no_password_form_of_its_own(superadmin):
    client = Client()
    page = client.get("/admin/login/?next=/admin/accounts/user/")
    assert page.status_code == 302
    assert page["Location"] == "/staff/signin/?next=%2Fadmin%2Faccounts%2Fuser%2F"
    # Posting a good password straight to it signs nobody in.
    client.post("/admin/login/", {"username": "admin", "password": PASSWORD})
    assert client.get("/admin/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_a_password_only_session_reaches_no_admin_page(superadmin):
    client = Client()
    client.force_login(superadmin)  # the password step passed, the TOTP step not
    for url in ["/admin/", *admin_urls(), "/admin/accounts/user/add/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/"), url


def test_the_admin_is_reached_through_password_and_totp(superadmin):
    client = Client()
    response = client.get("/admin/accounts/user/", follow=True)
    assert response.redirect_chain[-1][0] == "/staff/signin/?next=%2Fadmin%2Faccounts%2Fuser%2F"
    response = client.post("/staff/signin/", {"username": "admin", "password": PASSWORD})
    assert response["Location"] == "/staff/signin/verify/"
    assert client.get("/admin/").status_code == 302  # not before the TOTP step
    device = TOTPDevice.objects.get(user=superadmin)
    response = client.post("/staff/signin/verify/", {"token": current_code(device)})
    assert response["Location"] == "/admin/accounts/user/"
    assert client.get("/admin/accounts/user/").status_code == 200


def test_wrong_passwords_lock_the_admin_as_they_lock_the_staff_sign_in(superadmin):
    client = Client()
    for _ in range(15):
        client.post("/admin/login/", {"username": "admin", "password": "wrong"}, follow=True)
        client.post("/staff/signin/?next=/admin/", {"username": "admin", "password": "wrong"})
    client.post("/admin/login/", {"username": "admin", "password": PASSWORD})
    assert client.get("/admin/").status_code == 302
    response = client.post(
        "/staff/signin/?next=/admin/",
        {"username": "admin", "password": PASSWORD},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "Too many failed attempts" in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_no_admin_page_shows_a_device_key(superadmin, commune_officer, login):
    client = login(superadmin)
    keys = []
    for device in TOTPDevice.objects.all():
        keys += [device.key, base64.b32encode(device.bin_key).decode()]
    pages = [*admin_urls()]
    for device in TOTPDevice.objects.all():
        pages += [
            f"/admin/accounts/authenticatordevice/{device.pk}/change/",
            f"/admin/accounts/user/{device.user_id}/change/",
        ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert not any(key in html for key in keys), url
        assert 'name="key"' not in html, url
    # django-otp's own pages (the key, its QR code) are not there at all.
    device = TOTPDevice.objects.get(user=commune_officer)
    for url in [
        "/admin/otp_totp/totpdevice/",
        f"/admin/otp_totp/totpdevice/{device.pk}/change/",
        f"/admin/otp_totp/totpdevice/{device.pk}/config/",
        f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/",
    ]:
        assert client.get(url).status_code == 404, url
    # An administrator takes a lost phone away; the owner enrols again at next sign-in.
    assert client.get("/admin/accounts/authenticatordevice/add/").status_code == 403
    response = client.post(
        f"/admin/accounts/authenticatordevice/{device.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()


def test_staff_who_are_not_administrators_get_404(commune_officer, login):
    # Even with Django's "staff status" set, a commune officer with a verified TOTP device is
    # not an administrator.
    commune_officer.is_staff = True
    commune_officer.save()
    client = login(commune_officer)
    for url in ["/admin/", "/admin/login/", "/admin/accounts/user/", *admin_urls()]:
        assert client.get(url).status_code == 404, url


def test_the_administrator_role_is_enough(province_admin, login):
    client = login(province_admin)  # the role, no superuser flag
    assert client.get("/admin/").status_code == 200


def test_the_admin_speaks_vietnamese(superadmin, login):
    html = login(superadmin).get("/admin/").content.decode()
    assert "Quản trị covidhub" in html
    assert "Người sử dụng" in html and "Ứng dụng xác thực" in html and "Buổi tiêm" in html
    assert "Tài khoản" in html  # the accounts app
    html = login(superadmin).get("/admin/accounts/user/").content.decode()
    assert "Chọn người dùng để thay đổi" in html


def test_every_admin_name_has_a_vietnamese_translation():
    untranslated = []
    for model in admin.site._registry:
        meta = model._meta
        names = [meta.verbose_name, meta.verbose_name_plural, meta.app_config.verbose_name]
        with translation.override("en"):
            english = {str(name).lower() for name in names}
        with translation.override("vi"):
            vietnamese = {str(name).lower() for name in names}
        # Another catalogue's translation of the same word in English counts as missing.
        untranslated += [f"{meta.label}: {name}" for name in sorted(vietnamese & english)]
    assert untranslated == []


def test_an_account_added_in_the_admin_is_a_staff_account(superadmin, login):
    client = login(superadmin)
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "newofficer",
            "display_name": "Nguyễn Văn Mới",
            "usable_password": "true",
            "password1": "a long enough passphrase",
            "password2": "a long enough passphrase",
            "role_assignments-TOTAL_FORMS": "0",
            "role_assignments-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    from covidhub.accounts.models import User

    assert User.objects.get(username="newofficer").kind == User.Kind.STAFF


def test_createsuperuser_makes_a_staff_account_that_signs_in_with_totp():
    from django.core.management import call_command

    from covidhub.accounts.models import User

    call_command("createsuperuser", username="root", email="", interactive=False)
    root = User.objects.get(username="root")
    assert root.kind == User.Kind.STAFF and root.is_superuser
    client = Client()
    client.force_login(root)
    assert client.get("/admin/").status_code == 302  # still needs the TOTP step


def test_a_role_given_in_the_admin_follows_the_role_rules(superadmin, commune_officer, login):
    from covidhub.accounts.models import RoleAssignment

    client = login(superadmin)
    existing = RoleAssignment.objects.get(user=commune_officer)
    response = client.post(
        f"/admin/accounts/user/{commune_officer.pk}/change/",
        {
            "username": "officer",
            "kind": "staff",
            "display_name": "Officer",
            "email": "",
            "language": "vi",
            "is_active": "on",
            "role_assignments-TOTAL_FORMS": "2",
            "role_assignments-INITIAL_FORMS": "1",
            "role_assignments-0-id": str(existing.pk),
            "role_assignments-0-user": str(commune_officer.pk),
            "role_assignments-0-role": existing.role,
            "role_assignments-0-area": str(existing.area_id),
            "role_assignments-1-user": str(commune_officer.pk),
            # A province officer's role for a commune: the wrong level.
            "role_assignments-1-role": "province_officer",
            "role_assignments-1-area": str(existing.area_id),
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200  # shown again with the error
    assert "This role must be given for an area of the right level." in response.content.decode()
    assert RoleAssignment.objects.filter(user=commune_officer).count() == 1


def test_a_device_deleted_in_the_admin_stops_its_sessions_at_once(
    superadmin, commune_officer, login, settings
):
    settings.AUTH_CACHE_SECONDS = 60  # as in production, with Redis
    officer = login(commune_officer)
    assert officer.get("/staff/").status_code == 200  # the device is now cached
    device = TOTPDevice.objects.get(user=commune_officer)
    response = login(superadmin).post(
        f"/admin/accounts/authenticatordevice/{device.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert officer.get("/staff/").status_code == 302  # back to the sign-in
