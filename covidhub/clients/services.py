"""Registering machine clients, changing their secret, revoking them.

Every change is made by a province administrator (the staff page checks the role; these
functions check the areas: an administrator grants nothing outside their own areas) and
written to the audit trail. The secret is returned once, to be shown once; only its hash
is kept (django-oauth-toolkit hashes it with the password hashers on save).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import AccessToken, Application

from covidhub.accounts.models import Role, User
from covidhub.accounts.scoping import actor_scope
from covidhub.accounts.services import role_assign
from covidhub.areas.models import Area
from covidhub.audit.services import audit_record
from covidhub.clients.errors import ClientNameTaken, ClientRevoked, SecretAlreadyChanged
from covidhub.clients.models import MachineClient
from covidhub.clients.scopes import CAPABILITIES, READ, READ_ONLY, WRITE, scope_name
from covidhub.clients.units import unit_source
from covidhub.core.errors import InvalidInput, NotFound

# The officer role an area of each level gives a client's account: it then reaches what an
# officer of that area reaches, through the same scoped selectors.
AREA_ROLE_BY_LEVEL = {
    Area.Level.PROVINCE: Role.PROVINCE_OFFICER,
    Area.Level.DISTRICT: Role.DISTRICT_OFFICER,
    Area.Level.COMMUNE: Role.COMMUNE_OFFICER,
}


@dataclass(frozen=True)
class Credentials:
    client: MachineClient
    client_id: str
    client_secret: str  # shown once, never stored


def scopes_from(access: dict[str, str]) -> list[str]:
    """{"testing": "write", "people": "read", "vaccination": ""} → the scope list (write
    includes read; a capability that is only read gets its read scope for either)."""
    scopes: list[str] = []
    for capability in CAPABILITIES:
        level = access.get(capability, "")
        if level in (READ, WRITE):
            scopes.append(scope_name(capability, READ))
        if level == WRITE and capability not in READ_ONLY:
            scopes.append(scope_name(capability, WRITE))
    return scopes


def _check_area(actor: Any, area: Area | None) -> None:
    if area is not None and not actor_scope(actor).covers_path(area.path):
        raise NotFound()


@transaction.atomic
def client_register(
    *,
    actor: User,
    name: str,
    kind: str,
    access: dict[str, str],
    area: Area | None,
    unit_kind: str = "",
    unit_uuid: uuid.UUID | None = None,
    rate_per_minute: int | None = None,
    quota_per_day: int | None = None,
) -> Credentials:
    """Register a client: its OAuth application, its service account and the roles that
    scope it; returns the secret, which is shown once."""
    name = name.strip()
    if not name:
        raise InvalidInput(details={"fields": {"name": [_("This field is required.")]}})
    if kind not in MachineClient.Kind.values:
        raise InvalidInput(details={"fields": {"kind": [_("Choose one of the allowed values.")]}})
    scopes = scopes_from(access)
    if not scopes:
        raise InvalidInput(_("Give the client at least one capability."))
    source = unit_source(unit_kind) if unit_kind else None
    if area is None and (source is None or unit_uuid is None):
        raise InvalidInput(_("Give the client an area, a laboratory, or both."))
    _check_area(actor, area)
    if source is not None and unit_uuid not in {u for u, _n in source.choices()}:
        raise InvalidInput(details={"fields": {"unit": [_("Choose one of the allowed values.")]}})
    if MachineClient.objects.filter(name__iexact=name).exists():
        raise ClientNameTaken()
    secret = generate_client_secret()
    application = Application(
        name=name[:255],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
        hash_client_secret=True,
        skip_authorization=True,
    )
    application.save()
    account = User(
        username=f"client-{secrets.token_hex(6)}",
        kind=User.Kind.STAFF,
        display_name=name[:150],
    )
    account.set_unusable_password()
    account.save()
    try:
        with transaction.atomic():
            client = MachineClient.objects.create(
                name=name,
                kind=kind,
                application=application,
                account=account,
                scopes=scopes,
                rate_per_minute=rate_per_minute or settings.CLIENT_RATE_PER_MINUTE,
                quota_per_day=quota_per_day or settings.CLIENT_QUOTA_PER_DAY,
                secret_set_at=timezone.now(),
                created_by=actor,
            )
    except IntegrityError as exc:
        raise ClientNameTaken() from exc
    if area is not None:
        role_assign(
            user=account,
            role=AREA_ROLE_BY_LEVEL[Area.Level(area.level)],
            area=area,
            granted_by=actor,
        )
    if source is not None and unit_uuid is not None:
        role_assign(
            user=account,
            role=source.role,
            unit_kind=source.kind,
            unit_uuid=unit_uuid,
            granted_by=actor,
        )
    audit_record(
        actor=actor,
        actor_role=Role.ADMINISTRATOR,
        action="clients.client.registered",
        obj=client,
        details={"scopes": scopes, "area": area.code if area else "", "unit_kind": unit_kind},
    )
    return Credentials(client=client, client_id=application.client_id, client_secret=secret)


def _tokens_revoke(client: MachineClient) -> int:
    deleted, _counts = AccessToken.objects.filter(application_id=client.application_id).delete()
    return int(deleted)


@transaction.atomic
def client_secret_rotate(*, actor: User, client: MachineClient, version: int) -> Credentials:
    """A new secret (shown once); the old one and every token issued with it stop working.

    `version` is the secret version the administrator saw: a second submission of the same
    form (or a colleague's rotation in between) changes nothing more.
    """
    locked = (
        MachineClient.objects.select_for_update().select_related("application").get(pk=client.pk)
    )
    if locked.revoked_at is not None:
        raise ClientRevoked()
    if locked.secret_version != version:
        raise SecretAlreadyChanged()
    secret = generate_client_secret()
    application = locked.application
    application.client_secret = secret
    application.save(update_fields=["client_secret", "updated"])
    locked.secret_version += 1
    locked.secret_set_at = timezone.now()
    locked.save(update_fields=["secret_version", "secret_set_at", "updated_at"])
    revoked = _tokens_revoke(locked)
    audit_record(
        actor=actor,
        actor_role=Role.ADMINISTRATOR,
        action="clients.secret.rotated",
        obj=locked,
        details={"tokens_revoked": revoked, "version": locked.secret_version},
    )
    return Credentials(client=locked, client_id=application.client_id, client_secret=secret)


@transaction.atomic
def client_revoke(*, actor: User, client: MachineClient) -> MachineClient:
    """Revoke a client for good: no token is issued any more, the ones it holds stop
    working at once, and its account is disabled. Doing it twice changes nothing."""
    locked = MachineClient.objects.select_for_update().get(pk=client.pk)
    if locked.revoked_at is not None:
        return locked
    locked.revoked_at, locked.revoked_by = timezone.now(), actor
    locked.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
    revoked = _tokens_revoke(locked)
    account = User.objects.get(pk=locked.account_id)
    account.is_active = False
    account.save(update_fields=["is_active", "updated_at"])
    audit_record(
        actor=actor,
        actor_role=Role.ADMINISTRATOR,
        action="clients.client.revoked",
        obj=locked,
        details={"tokens_revoked": revoked},
    )
    return locked
