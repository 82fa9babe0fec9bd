"""Demo staff and personas: the same accounts on every run, with printed logins."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from covidhub.accounts.models import NATIONAL_ROLES, Role, User
from covidhub.accounts.services import role_assign
from covidhub.areas.models import Area
from covidhub.core.phones import phone_display
from covidhub.people.corrections import correction_request_create
from covidhub.people.models import CorrectionRequest, Person
from covidhub.people.services import person_create
from covidhub.people.validation import person_input_clean

DEMO_PASSWORD = "HaiDuong@2021"  # noqa: S105 - demo only; production refuses demo data
HOME_COMMUNE = "10507"  # Phường Cẩm Thượng, TP Hải Dương
NEIGHBOUR_COMMUNE = "10510"  # Phường Bình Hàn, TP Hải Dương
HOME_DISTRICT = "288"  # Thành phố Hải Dương


@dataclass(frozen=True)
class DemoStaff:
    username: str
    display_name: str
    role: str
    area_level: int | None
    area_code: str | None


STAFF = [
    DemoStaff("admin", "Quản trị hệ thống", Role.ADMINISTRATOR, 1, "30"),
    DemoStaff("tinh", "Chuyên viên Sở Y tế", Role.PROVINCE_OFFICER, 1, "30"),
    DemoStaff("huyen", "Cán bộ TTYT TP Hải Dương", Role.DISTRICT_OFFICER, 2, HOME_DISTRICT),
    DemoStaff("xa", "Trạm Y tế P. Cẩm Thượng", Role.COMMUNE_OFFICER, 3, HOME_COMMUNE),
    DemoStaff("xa2", "Trạm Y tế P. Bình Hàn", Role.COMMUNE_OFFICER, 3, NEIGHBOUR_COMMUNE),
    DemoStaff("bientap", "Biên tập cổng thông tin", Role.PORTAL_EDITOR, 1, "30"),
    # Every province the deployment serves (COVIDHUB_PROVINCES): no area of its own.
    DemoStaff("quocgia", "Chuyên viên Bộ Y tế", Role.NATIONAL_OFFICER, None, None),
]

CITIZENS = [
    # phone, name, birth, sex, cccd
    ("+84912000001", "Nguyễn Văn An", "15/03/1985", "M", "030085000001"),
    ("+84912000002", "Trần Thị Bình", "02/11/1990", "F", "030190000002"),
]


def demo_totp_key(username: str) -> str:
    """A fixed TOTP key per demo account, so that the printed secret stays valid."""
    return hashlib.sha256(f"covidhub-demo-totp:{username}".encode()).hexdigest()[:40]


def demo_totp_secret(username: str) -> str:
    return base64.b32encode(bytes.fromhex(demo_totp_key(username))).decode()


DEMO_DEVICE = "demo"


def demo_staff_account(username: str, display_name: str, *, administrator: bool = False) -> User:
    """The demo staff account `username` with the demo password and its fixed TOTP key.

    Every seeder makes its staff through here, so that every account the demo prints is one
    that `manage.py demo_totp` knows and the README lists."""
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, kind=User.Kind.STAFF, display_name=display_name)
        user.set_password(DEMO_PASSWORD)
        user.is_staff = administrator
        user.is_superuser = administrator
        user.save()
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        TOTPDevice.objects.create(
            user=user, name=DEMO_DEVICE, key=demo_totp_key(username), confirmed=True
        )
    return user


def demo_account_exists(username: str) -> bool:
    """Whether `username` is a seeded demo account still on its demo TOTP key (an account
    that enrolled its own authenticator is not: its code is no longer ours to print)."""
    devices = TOTPDevice.objects.filter(
        user__username=username, user__kind=User.Kind.STAFF, name=DEMO_DEVICE, confirmed=True
    )
    # Compared in Python: keys are sealed at rest (covidhub.accounts.totp_keys), each with
    # its own nonce, so the stored value never equals a sealed copy of the demo key.
    return any(device.key == demo_totp_key(username) for device in devices)


def demo_login_line(username: str, role: str, where: str = "") -> str:
    line = f"  staff  {username:<10} {role:<18} TOTP secret {demo_totp_secret(username)}"
    return f"{line}  ({where})" if where else line


@transaction.atomic
def staff_seed() -> list[str]:
    lines = []
    for spec in STAFF:
        user = demo_staff_account(
            spec.username, spec.display_name, administrator=spec.role == Role.ADMINISTRATOR
        )
        if spec.area_code is not None and spec.area_level is not None:
            area = Area.objects.get(level=spec.area_level, code=spec.area_code)
            role_assign(user=user, role=spec.role, area=area)
        elif spec.role in NATIONAL_ROLES:
            role_assign(user=user, role=spec.role)
        lines.append(demo_login_line(spec.username, spec.role))
    return lines


@transaction.atomic
def citizens_seed() -> list[str]:
    lines = []
    commune = Area.objects.get(level=Area.Level.COMMUNE, code=HOME_COMMUNE)
    for phone, name, birth, sex, cccd in CITIZENS:
        user = User.objects.filter(phone=phone).first()
        if user is None:
            user = User(username=f"c-persona-{phone[-4:]}", phone=phone, kind=User.Kind.CITIZEN)
            user.set_unusable_password()
            user.save()
        if not Person.objects.filter(
            managed_by=user, relationship=Person.Relationship.SELF
        ).exists():
            data = person_input_clean(
                {
                    "full_name": name,
                    "birth": birth,
                    "sex": sex,
                    "commune": commune,
                    "id_type": "cccd",
                    "id_number": cccd,
                    "phone": phone,
                    "address_line": "Số 12 Nguyễn Lương Bằng",
                }
            )
            person_create(
                actor=None, data=data, managed_by=user, relationship=Person.Relationship.SELF
            )
        lines.append(
            f"  citizen {phone_display(phone)}  ({name}; the code appears in /dev/outbox/)"
        )
    _birth_correction_requested(commune=commune)
    return lines


# Trần Thị Bình's birth date was typed with the day and month swapped: she asked her ward to
# correct it (her identity is locked once certified, so an officer decides).
CORRECTION = (
    "+84912000002",
    "11/02/1990",
    "Ngày và tháng sinh bị nhập ngược; CCCD ghi 11/02/1990.",
)


def _birth_correction_requested(*, commune: Area) -> None:
    phone, birth, reason = CORRECTION
    person = Person.objects.filter(
        managed_by__phone=phone, relationship=Person.Relationship.SELF
    ).first()
    if person is None or person.managed_by is None:
        return
    if CorrectionRequest.objects.filter(person=person).exists():
        return
    data = person_input_clean(
        {
            "full_name": person.full_name,
            "birth": birth,
            "sex": person.sex,
            "commune": commune,
            "id_type": person.id_type,
            "id_number": person.id_number,
            "phone": phone,
            "address_line": person.address_line,
        }
    )
    correction_request_create(actor=person.managed_by, person=person, data=data, reason=reason)
