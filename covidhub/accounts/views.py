from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from covidhub.accounts import lockout
from covidhub.accounts.decorators import staff_required
from covidhub.accounts.forms import CodeForm, PhoneForm, StaffPasswordForm, TotpForm
from covidhub.accounts.middleware import LAST_ACTIVITY, STAFF_AUTH_AT
from covidhub.accounts.models import Role, User
from covidhub.accounts.scoping import actor_scope
from covidhub.accounts.services import phone_code_request, phone_code_verify, totp_device_create
from covidhub.accounts.stafftokens import staff_totp_verify
from covidhub.accounts.totp_keys import totp_key_readable
from covidhub.accounts.workspaces import workspace_links_for
from covidhub.core import request_context
from covidhub.core.errors import DomainError
from covidhub.core.monitoring import rate_limit_refused
from covidhub.core.phones import phone_masked
from covidhub.core.qr import qr_svg_inline

SIGNIN_PHONE = "covidhub_signin_phone"
SIGNIN_NEXT = "covidhub_signin_next"
PENDING_STAFF = "covidhub_pending_staff"
STAFF_NEXT = "covidhub_staff_next"
PENDING_TTL = 300


def _safe_next(request: HttpRequest, value: str | None) -> str | None:
    if value and url_has_allowed_host_and_scheme(
        value, {request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return None


@require_http_methods(["GET", "POST"])
def citizen_login(request: HttpRequest) -> HttpResponse:
    if next_url := _safe_next(request, request.GET.get("next")):
        request.session[SIGNIN_NEXT] = next_url
    form = PhoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        context = request_context.current()
        try:
            sent = phone_code_request(
                phone=form.cleaned_data["phone"],
                client_address=context.client_address if context else None,
                language=translation.get_language() or "vi",
            )
        except DomainError as exc:
            form.add_error("phone", str(exc.message))
        else:
            # The phone number stays in the session, never in the URL.
            request.session[SIGNIN_PHONE] = sent.phone
            return redirect("accounts:citizen_code")
    return render(request, "accounts/citizen_login.html", {"form": form})


@require_http_methods(["GET", "POST"])
def citizen_code(request: HttpRequest) -> HttpResponse:
    phone = request.session.get(SIGNIN_PHONE)
    if not phone:
        return redirect("accounts:citizen_login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = phone_code_verify(
                phone=phone,
                code=form.cleaned_data["code"],
                language=translation.get_language() or "vi",
            )
        except DomainError as exc:
            form.add_error("code", str(exc.message))
        else:
            next_url = request.session.pop(SIGNIN_NEXT, None)
            request.session.pop(SIGNIN_PHONE, None)
            login(request, user, backend="covidhub.accounts.backends.CachedModelBackend")
            if not user.people.filter(relationship="self").exists():  # type: ignore[attr-defined]
                return redirect("people:self_create")
            return redirect(next_url or "core:home")
    return render(
        request, "accounts/citizen_code.html", {"form": form, "phone_masked": phone_masked(phone)}
    )


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("core:home")


@require_http_methods(["GET", "POST"])
def staff_login(request: HttpRequest) -> HttpResponse:
    # Where to go once signed in (the admin sends its visitors here); kept in the session
    # through the TOTP step, and only ever a path of this site.
    if next_url := _safe_next(request, request.GET.get("next")):
        request.session[STAFF_NEXT] = next_url
    form = StaffPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        attempt = lockout.attempt_for(request, username)
        if lockout.is_locked(attempt):
            rate_limit_refused("staff_signin_locked")
            form.add_error(None, _("Too many failed attempts. Try again in 15 minutes."))
        else:
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            if user is None or getattr(user, "kind", "") != User.Kind.STAFF:
                lockout.failure_record(attempt)
                form.add_error(None, _("The username or password is wrong."))
            else:
                lockout.success_record(attempt)
                request.session[PENDING_STAFF] = {"id": user.pk, "at": time.time()}
                if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
                    return redirect("accounts:staff_verify")
                return redirect("accounts:staff_enrol")
    return render(request, "accounts/staff_login.html", {"form": form})


def _pending_user(request: HttpRequest) -> User | None:
    pending: dict[str, Any] | None = request.session.get(PENDING_STAFF)
    if not pending or time.time() - pending.get("at", 0) > PENDING_TTL:
        return None
    return User.objects.filter(pk=pending["id"], kind=User.Kind.STAFF, is_active=True).first()


def _complete_staff_login(request: HttpRequest, user: User, device: TOTPDevice) -> HttpResponse:
    request.session.pop(PENDING_STAFF, None)
    login(request, user, backend="covidhub.accounts.backends.CachedModelBackend")
    otp_login(request, device)
    now = time.time()
    request.session[STAFF_AUTH_AT] = now
    request.session[LAST_ACTIVITY] = now
    request.session.set_expiry(settings.STAFF_ABSOLUTE_SECONDS)
    response = redirect(request.session.pop(STAFF_NEXT, None) or "accounts:workspace")
    lockout.device_cookie_set(response, user.get_username())
    return response


@require_http_methods(["GET", "POST"])
def staff_verify(request: HttpRequest) -> HttpResponse:
    user = _pending_user(request)
    if user is None:
        return redirect("accounts:staff_login")
    form = TotpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = staff_totp_verify(user=user, token=form.cleaned_data["token"])
        if device is not None:
            return _complete_staff_login(request, user, device)
        form.add_error("token", _("The code is wrong. Enter the code your app shows now."))
    return render(request, "accounts/staff_verify.html", {"form": form})


@require_http_methods(["GET", "POST"])
def staff_enrol(request: HttpRequest) -> HttpResponse:
    user = _pending_user(request)
    if user is None:
        return redirect("accounts:staff_login")
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return redirect("accounts:staff_verify")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None or not totp_key_readable(device):
        device = totp_device_create(user=user)
    form = TotpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].replace(" ", "")):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            return _complete_staff_login(request, user, device)
        form.add_error("token", _("The code is wrong. Check the time on your phone and try again."))
    qr_svg = qr_svg_inline(device.config_url, title=_("Authenticator QR code"), scale=4)
    import base64

    secret = base64.b32encode(device.bin_key).decode()
    return render(
        request, "accounts/staff_enrol.html", {"form": form, "qr_svg": qr_svg, "secret": secret}
    )


@staff_required()
def workspace(request: HttpRequest) -> HttpResponse:
    scope = actor_scope(request.user)
    links = workspace_links_for(scope.roles)
    return render(
        request,
        "accounts/workspace.html",
        {"links": links, "roles": sorted(scope.roles), "area_paths": scope.area_paths},
    )


@staff_required(Role.ADMINISTRATOR)
@require_GET
def security_alerts(request: HttpRequest) -> HttpResponse:
    """Bursts of refused look-ups and bulk look-ups of people, for the province's
    administrators (the role is given at province level only)."""
    from covidhub.audit.alerts import security_alerts_list

    return render(request, "accounts/security_alerts.html", {"alerts": security_alerts_list()})


def login_redirect_for(user: User) -> str:
    return reverse("accounts:workspace") if user.kind == User.Kind.STAFF else reverse("core:home")
