"""The configurable versions: the care protocol (the province's rules) and each station's
on-duty list. A change is a new row; the row in force is ended, never edited."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from covidhub.accounts.models import Role, RoleAssignment, User
from covidhub.accounts.scoping import actor_scope
from covidhub.areas.served import served_province_codes
from covidhub.audit.services import audit_record
from covidhub.core.errors import InvalidInput, NotFound
from covidhub.core.locks import transaction_lock
from covidhub.homecare.models import CareProtocol, StationDuty
from covidhub.homecare.protocol import protocol_active, protocol_rules_clean, rules_of
from covidhub.homecare.services.common import officer_required, role_of

# Who sets the rules of the province: its officers and administrators (a national officer
# holds the province officer's role in every served province).
PROTOCOL_ROLES = (Role.PROVINCE_OFFICER, Role.ADMINISTRATOR)


def protocol_provinces(actor: Any) -> list[str]:
    """The served provinces whose care protocol the actor sets: a province-level role
    whose areas hold the whole province (a national officer: every served one)."""
    if getattr(actor, "kind", "") != User.Kind.STAFF:
        return []
    scope = actor_scope(actor)
    if not scope.has_role(*PROTOCOL_ROLES):
        return []
    return [code for code in served_province_codes() if scope.covers_path(f"{code}/")]


def protocol_editor_required(actor: Any, province_code: str) -> None:
    """NotFound unless the actor sets the care protocol of this province."""
    if province_code not in protocol_provinces(actor):
        raise NotFound()


@transaction.atomic
def protocol_version_activate(
    *, actor: Any, province_code: str, rules: Mapping[str, Any], note: str = ""
) -> CareProtocol:
    """Put a new version of a province's care protocol in force: the rules are cleaned in
    one place (`protocol_rules_clean`), the version in force is retired and the new one is
    a new row. Orders keep the version they were opened under; other provinces' versions
    are not touched."""
    from covidhub.homecare.services.orders import _text

    protocol_editor_required(actor, province_code)
    cleaned = protocol_rules_clean(rules)
    note = _text(note, "note", 300)
    protocol_active(province_code)  # version 1 exists before the first change
    versions = CareProtocol.objects.filter(province_code=province_code)
    # The province's lock: two activations at once run in turn, and another province's do
    # not wait. (Its newest version was the lock before: a third activation could lock the
    # row the first had just added while the second still held the old one, and both took
    # the same number.)
    transaction_lock(f"homecare.protocol:{province_code}")
    current = versions.get(state=CareProtocol.State.ACTIVE)
    before = rules_of(current).as_dict()
    after = cleaned.as_dict()
    changed = sorted(name for name in after if after[name] != before.get(name))
    if not changed:
        raise InvalidInput(
            _("Nothing is changed: the new version would be the same as the one in force.")
        )
    now = timezone.now()
    version = (versions.aggregate(top=Max("version"))["top"] or 0) + 1
    CareProtocol.objects.filter(pk=current.pk).update(
        state=CareProtocol.State.RETIRED, updated_at=now
    )
    created = CareProtocol.objects.create(
        province_code=province_code,
        version=version,
        state=CareProtocol.State.ACTIVE,
        rules=after,
        note=note,
        created_by=actor,
        activated_at=now,
    )
    audit_record(
        actor=actor,
        actor_role=role_of(actor),
        action="homecare.protocol.activated",
        obj=created,
        details={
            "province": province_code,
            "version": version,
            "previous": current.version,
            "changed": changed,
        },
    )
    return created


def duty_candidates(commune: Any) -> list[User]:
    """The officers who may be on a station's duty list: the commune's health officers."""
    return [
        assignment.user
        for assignment in RoleAssignment.objects.filter(
            role=Role.COMMUNE_OFFICER, area_id=commune.pk, user__is_active=True
        )
        .select_related("user")
        .order_by("user__display_name", "user_id")
    ]


@transaction.atomic
def duty_set(
    *, actor: Any, commune: Any, user: Any, phone: str = "", active: bool = True
) -> StationDuty | None:
    """Put an officer of the commune on the station's on-duty list (or change their phone:
    a new row), or take them off it (their row is ended). Returns the row in force, None
    when the officer is off the list."""
    from covidhub.homecare.services.orders import _phone

    officer_required(actor, commune.path)
    candidates = {u.pk for u in duty_candidates(commune)}
    if active and getattr(user, "pk", None) not in candidates:
        raise InvalidInput(
            details={"fields": {"officer": [_("Choose a health officer of this commune.")]}}
        )
    phone = _phone(phone, "phone") if active else ""
    current = (
        StationDuty.objects.select_for_update()
        .filter(commune=commune, user=user, active=True)
        .first()
    )
    if current is None and not active:
        raise InvalidInput(_("This officer is not on the duty list."))
    if current is not None and active and current.phone == phone:
        return current  # nothing changes: no new version
    now = timezone.now()
    if current is not None:
        StationDuty.objects.filter(pk=current.pk).update(active=False, ended_at=now, ended_by=actor)
    created = None
    if active:
        created = StationDuty.objects.create(
            commune=commune,
            commune_path=commune.path,
            user=user,
            phone=phone,
            active=True,
            created_by=actor,
        )
    audit_record(
        actor=actor,
        actor_role=role_of(actor),
        action="homecare.duty.set" if active else "homecare.duty.ended",
        obj=created or current,
        details={"commune": commune.code, "officer": str(user.uuid), "active": active},
    )
    return created
