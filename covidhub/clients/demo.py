"""The demo province's machine clients: one national system and the laboratory's own
system, so that the administrators' pages show something. Their secrets are thrown away:
change a secret on /staff/clients/ to try the API as one of them."""

from __future__ import annotations

from typing import Any

from covidhub.accounts.models import User
from covidhub.areas.models import Area
from covidhub.areas.served import home_province_code
from covidhub.clients import services
from covidhub.clients.models import MachineClient
from covidhub.clients.units import unit_source

NATIONAL = "Nền tảng tiêm chủng quốc gia (demo)"
LAB_SYSTEM = "Hệ thống xét nghiệm của CDC (demo)"


def clients_seed(**context: Any) -> list[str]:
    admin = User.objects.filter(username="admin").first()
    province = Area.objects.filter(level=Area.Level.PROVINCE, code=home_province_code()).first()
    if admin is None or province is None:
        return []
    lines: list[str] = []
    if not MachineClient.objects.filter(name=NATIONAL).exists():
        services.client_register(
            actor=admin,
            name=NATIONAL,
            kind=MachineClient.Kind.NATIONAL,
            access={"people": "read", "vaccination": "read", "testing": "read", "homecare": "read"},
            area=province,
        )
        lines.append(f"machine client: {NATIONAL} (change its secret at /staff/clients/)")
    source = unit_source("lab")
    labs = source.choices() if source is not None else []
    if labs and not MachineClient.objects.filter(name=LAB_SYSTEM).exists():
        services.client_register(
            actor=admin,
            name=LAB_SYSTEM,
            kind=MachineClient.Kind.PARTNER_LAB,
            access={"testing": "write"},
            area=None,
            unit_kind="lab",
            unit_uuid=labs[0][0],
        )
        lines.append(f"machine client: {LAB_SYSTEM}")
    return lines
