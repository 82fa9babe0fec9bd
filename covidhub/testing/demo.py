"""Demo data: two sampling sites and a laboratory in the demo communes, their staff,
and slots for the coming days. Running it again changes nothing."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from covidhub.accounts.models import Role
from covidhub.accounts.services import role_assign
from covidhub.areas.models import Area
from covidhub.demo.staff import (
    HOME_COMMUNE,
    NEIGHBOUR_COMMUNE,
    demo_login_line,
    demo_staff_account,
)
from covidhub.testing.models import Lab, Site, Slot

SITES = [
    ("Trạm Y tế P. Cẩm Thượng", "Số 2 Nguyễn Lương Bằng", HOME_COMMUNE),
    ("Điểm lấy mẫu Nhà văn hóa P. Bình Hàn", "Nhà văn hóa khu 3", NEIGHBOUR_COMMUNE),
]
LAB = ("Phòng xét nghiệm CDC Hải Dương", "CDCHD", HOME_COMMUNE)
STAFF = [
    ("laymau", "Tổ lấy mẫu Cẩm Thượng", Role.SAMPLER, "site", 0),
    ("laymau2", "Tổ lấy mẫu Bình Hàn", Role.SAMPLER, "site", 1),
    ("xetnghiem", "Kỹ thuật viên CDC", Role.LAB_TECHNICIAN, "lab", 0),
    ("xetnghiem2", "Kỹ thuật viên CDC 2", Role.LAB_TECHNICIAN, "lab", 0),
]


@transaction.atomic
def testing_seed(**context: Any) -> list[str]:
    sites = []
    for name, address, code in SITES:
        commune = Area.objects.get(level=Area.Level.COMMUNE, code=code)
        site = Site.objects.filter(name=name).first() or Site.objects.create(
            name=name, address=address, commune=commune
        )
        sites.append(site)
    lab_name, lab_code, lab_commune = LAB
    lab = Lab.objects.filter(code=lab_code).first() or Lab.objects.create(
        name=lab_name,
        code=lab_code,
        commune=Area.objects.get(level=Area.Level.COMMUNE, code=lab_commune),
    )
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    for site in sites:
        for offset in range(0, 5):
            day = today + datetime.timedelta(days=offset)
            for hour in (7, 9, 14):
                starts = datetime.datetime.combine(day, datetime.time(hour), tzinfo=tz)
                if not Slot.objects.filter(site=site, starts_at=starts).exists():
                    Slot.objects.create(
                        site=site,
                        starts_at=starts,
                        ends_at=starts + datetime.timedelta(hours=2),
                        capacity=50,
                    )
    lines = []
    for username, display, role, kind, index in STAFF:
        user = demo_staff_account(username, display)
        unit = sites[index] if kind == "site" else lab
        role_assign(user=user, role=role, unit_kind=kind, unit_uuid=unit.uuid)
        lines.append(demo_login_line(username, role, unit.name))
    return lines
