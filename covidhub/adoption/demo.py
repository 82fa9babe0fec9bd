"""Demo agencies, agency-head logins and rosters matched to the demo province's people."""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

from django.db import transaction
from django.utils import timezone

from covidhub.accounts.models import Role, User
from covidhub.accounts.services import role_assign
from covidhub.adoption.models import AdoptionSnapshot, Agency
from covidhub.adoption.services import (
    adoption_snapshot_take,
    agency_create,
    roster_members_match,
    roster_upload_apply,
    roster_upload_create,
)
from covidhub.areas.models import Area
from covidhub.demo.staff import HOME_DISTRICT, demo_login_line, demo_staff_account
from covidhub.people.models import Person

# code, name, kind, area (level, code), parent code, head username, roster size
AGENCIES = [
    ("SYT", "Sở Y tế", Agency.Kind.DEPARTMENT, (1, "30"), None, None, 0),
    ("STTTT", "Sở Thông tin và Truyền thông", Agency.Kind.DEPARTMENT, (1, "30"), None, "sotttt", 40),
    ("DTN", "Tỉnh đoàn Hải Dương", Agency.Kind.MASS_ORGANISATION, (1, "30"), None, None, 25),
    ("UBND-288", "UBND thành phố Hải Dương", Agency.Kind.DISTRICT_COMMITTEE, (2, HOME_DISTRICT), None, "coquan", 60),
    ("UBND-10507", "UBND phường Cẩm Thượng", Agency.Kind.COMMUNE_COMMITTEE, (3, "10507"), "UBND-288", None, 18),
    ("UBND-10510", "UBND phường Bình Hàn", Agency.Kind.COMMUNE_COMMITTEE, (3, "10510"), "UBND-288", None, 14),
    ("TTYT-288", "Trung tâm Y tế thành phố Hải Dương", Agency.Kind.PUBLIC_SERVICE_UNIT, (2, HOME_DISTRICT), "UBND-288", None, 30),
]  # fmt: skip
POSITIONS = ["Chuyên viên", "Trưởng phòng", "Phó trưởng phòng", "Cán sự", "Nhân viên"]
UNITS = ["Văn phòng", "Phòng Tổ chức", "Phòng Kế hoạch", "Phòng Nghiệp vụ"]


def _head(username: str, agency: Agency) -> str:
    user = demo_staff_account(username, f"Lãnh đạo {agency.name}")
    role_assign(user=user, role=Role.AGENCY_HEAD, unit_kind="agency", unit_uuid=agency.uuid)
    return demo_login_line(username, Role.AGENCY_HEAD, agency.name)


def _roster_csv(people: list[Person], extra: int, offset: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["STT", "Họ và tên", "Ngày sinh", "Số CCCD", "Số điện thoại", "Chức vụ", "Đơn vị"]
    )
    for n, person in enumerate(people, start=1):
        writer.writerow(
            [
                n,
                person.full_name,
                person.birth.display(),
                person.id_number,
                person.phone,
                POSITIONS[n % len(POSITIONS)],
                UNITS[n % len(UNITS)],
            ]
        )
    for k in range(extra):
        # Staff who are not yet in the platform: identity numbers nobody has used.
        year = 1975 + (offset + k) % 25
        writer.writerow(
            [
                len(people) + k + 1,
                f"Cán bộ Mới {chr(65 + k % 26)}",
                f"0{1 + k % 9}/0{1 + k % 9}/{year}",
                f"0300{year % 100:02d}9{offset:02d}{k:03d}",
                f"0977{offset:03d}{k:03d}",
                POSITIONS[k % len(POSITIONS)],
                UNITS[k % len(UNITS)],
            ]
        )
    return out.getvalue().encode("utf-8")


@transaction.atomic
def adoption_seed(**context: Any) -> list[str]:
    lines: list[str] = []
    by_code: dict[str, Agency] = {}
    for code, name, kind, (level, area_code), parent_code, _head_name, _size in AGENCIES:
        agency = Agency.objects.filter(code=code).first()
        if agency is None:
            agency = agency_create(
                actor=None,
                name=name,
                kind=kind,
                area=Area.objects.get(level=level, code=area_code),
                parent=by_code.get(parent_code) if parent_code else None,
                code=code,
            )
        by_code[code] = agency
    candidates = list(
        Person.objects.filter(
            relationship=Person.Relationship.SELF, id_type="cccd", managed_by__isnull=False
        )
        .exclude(id_number="")
        .order_by("pk")[:400]
    )
    cursor = 0
    for offset, (code, _name, _kind, _area, _parent, head_name, size) in enumerate(AGENCIES):
        agency = by_code[code]
        head = None
        if head_name:
            lines.append(_head(head_name, agency))
            head = User.objects.get(username=head_name)
        if size == 0 or agency.members.exists():
            continue
        matched = candidates[cursor : cursor + size * 3 // 4]
        cursor += len(matched)
        actor = head or User.objects.filter(username="admin").first()
        if actor is None:
            continue
        upload = roster_upload_create(
            actor=actor,
            agency=agency,
            data=_roster_csv(matched, size - len(matched), offset),
            file_name=f"danh-sach-{code.lower()}.csv",
        )
        roster_upload_apply(actor=actor, upload=upload)
    # Some demo accounts used the platform this week, so that "active" is not empty.
    now = timezone.now()
    for i, person in enumerate(candidates[:cursor]):
        if i % 3 == 0:
            User.objects.filter(pk=person.managed_by_id or 0, last_seen_at__isnull=True).update(
                last_seen_at=now - datetime.timedelta(days=i % 6)
            )
    roster_members_match()
    today = timezone.localdate()
    adoption_snapshot_take(day=today)
    # A plausible past: last weeks' figures, growing towards today's.
    for snapshot in AdoptionSnapshot.objects.filter(day=today):
        for weeks in range(1, 5):
            share = 1 - 0.2 * weeks
            AdoptionSnapshot.objects.get_or_create(
                agency_id=snapshot.agency_id,
                day=today - datetime.timedelta(days=7 * weeks),
                defaults={
                    "staff": snapshot.staff,
                    "with_account": int(snapshot.with_account * share),
                    "active_7d": int(snapshot.active_7d * share),
                },
            )
    return lines
