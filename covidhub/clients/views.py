"""The province administrators' pages for machine clients: register, change the secret
(shown once, on the answer to the form that made it), revoke."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from covidhub.accounts.decorators import staff_required
from covidhub.accounts.models import Role, User
from covidhub.clients import selectors, services
from covidhub.clients.forms import ClientForm, RotateForm
from covidhub.clients.scopes import CAPABILITIES, READ, WRITE, scope_name
from covidhub.core.errors import DomainError

ADMIN = (Role.ADMINISTRATOR,)


def _actor(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _secret_page(request: HttpRequest, credentials: services.Credentials) -> HttpResponse:
    """The one time a secret is shown: the answer to the form that made it (never stored,
    so never shown again; the answer is no-store like every signed-in page)."""
    return render(
        request,
        "clients/secret.html",
        {
            "client": credentials.client,
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
            "token_url": request.build_absolute_uri(reverse("clients:token")),
        },
    )


@staff_required(*ADMIN)
@require_GET
def client_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "clients/list.html",
        {"clients": selectors.client_list_for_actor(actor=_actor(request))},
    )


@staff_required(*ADMIN)
@require_http_methods(["GET", "POST"])
def client_new(request: HttpRequest) -> HttpResponse:
    form = ClientForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        unit_kind, unit_uuid = form.unit_value()
        try:
            credentials = services.client_register(
                actor=_actor(request),
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                access=form.access(),
                area=form.cleaned_data["area"],
                unit_kind=unit_kind,
                unit_uuid=unit_uuid,
                rate_per_minute=form.cleaned_data["rate_per_minute"],
                quota_per_day=form.cleaned_data["quota_per_day"],
            )
        except DomainError as error:
            form.add_error(None, str(error.message))
        else:
            return _secret_page(request, credentials)
    return render(request, "clients/new.html", {"form": form})


def _access_rows(scopes: list[str]) -> list[tuple[str, str]]:
    rows = []
    for capability, label in CAPABILITIES.items():
        if scope_name(capability, WRITE) in scopes:
            rows.append((str(label), _("Read and write")))
        elif scope_name(capability, READ) in scopes:
            rows.append((str(label), _("Read")))
    return rows


@staff_required(*ADMIN)
@require_GET
def client_detail(request: HttpRequest, client_uuid: str) -> HttpResponse:
    client = selectors.client_get_for_actor(actor=_actor(request), client_uuid=client_uuid)
    return render(
        request,
        "clients/detail.html",
        {
            "client": client,
            "access": _access_rows(list(client.scopes)),
            "grants": selectors.client_grants(client),
            "rotate_form": RotateForm(initial={"version": client.secret_version}),
        },
    )


@staff_required(*ADMIN)
@require_POST
def client_rotate(request: HttpRequest, client_uuid: str) -> HttpResponse:
    client = selectors.client_get_for_actor(actor=_actor(request), client_uuid=client_uuid)
    form = RotateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The form was not valid. Please try again."))
        return redirect("clients:detail", client_uuid=client.uuid)
    try:
        credentials = services.client_secret_rotate(
            actor=_actor(request), client=client, version=form.cleaned_data["version"]
        )
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("clients:detail", client_uuid=client.uuid)
    return _secret_page(request, credentials)


@staff_required(*ADMIN)
@require_POST
def client_revoke(request: HttpRequest, client_uuid: str) -> HttpResponse:
    client = selectors.client_get_for_actor(actor=_actor(request), client_uuid=client_uuid)
    services.client_revoke(actor=_actor(request), client=client)
    messages.success(request, _("The client is revoked; its tokens no longer work."))
    return redirect("clients:detail", client_uuid=client.uuid)
