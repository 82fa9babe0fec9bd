"""The demo province's home care: the positive results of the testing history opened
orders (the signal, as in production); those whose days are over were released; Phạm Văn
Cường (0912 000 003) of P. Cẩm Thượng is on his sixth day of home care, with his checks,
a warning sign the station closed by a call, a medicine kit and a visit."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from covidhub.accounts.models import User
from covidhub.areas.models import Area
from covidhub.homecare.models import CareAlert, CareOrder
from covidhub.homecare.validation import SelfCheckInput
from covidhub.people.models import Person

DEMO_PHONE = "+84912000003"
DEMO_NAME = "Phạm Văn Cường"
DAYS_UNDER_CARE = 5


def _demo_person(commune: Area) -> Person:
    from covidhub.people.services import person_create
    from covidhub.people.validation import person_input_clean

    user = User.objects.filter(phone=DEMO_PHONE).first()
    if user is None:
        user = User(
            username=f"c-persona-{DEMO_PHONE[-4:]}", phone=DEMO_PHONE, kind=User.Kind.CITIZEN
        )
        user.set_unusable_password()
        user.save()
    person = Person.objects.filter(managed_by=user, relationship=Person.Relationship.SELF).first()
    if person is None:
        person = person_create(
            actor=None,
            data=person_input_clean(
                {
                    "full_name": DEMO_NAME,
                    "birth": "20/07/1978",
                    "sex": "M",
                    "commune": commune,
                    "id_type": "cccd",
                    "id_number": "030078000003",
                    "phone": DEMO_PHONE,
                    "address_line": "Số 5 Phạm Ngũ Lão",
                }
            ),
            managed_by=user,
            relationship=Person.Relationship.SELF,
        )
    return person


def _released_story(*, officer: User, commune: Area, today: datetime.date) -> None:
    """A release with its paper, whatever the testing history held: a person of the ward
    (not a demo account) finished home care two days ago."""
    from covidhub.homecare.protocol import protocol_active, province_code_of

    if CareOrder.objects.filter(status=CareOrder.Status.RELEASED).exists():
        return
    # Someone of the ward if the testing history left one without an order, else of the
    # province.
    people = Person.objects.exclude(managed_by__phone__startswith="+849120000").exclude(
        pk__in=CareOrder.objects.values("person_id")
    )
    person = people.filter(commune=commune).order_by("pk").first() or people.order_by("pk").first()
    if person is None:
        return
    start = today - datetime.timedelta(days=12)
    end = today - datetime.timedelta(days=2)
    CareOrder.objects.create(
        person=person,
        kind=CareOrder.Kind.HOME_CARE,
        status=CareOrder.Status.RELEASED,
        source=CareOrder.Source.OFFICER,
        protocol=protocol_active(province_code_of(person.commune_path)),
        commune_id=person.commune_id,
        commune_path=person.commune_path,
        start_date=start,
        onset_date=start,
        planned_end=end,
        opened_by=officer,
        released_at=timezone.make_aware(datetime.datetime.combine(end, datetime.time(9))),
        released_by=officer,
        release_reason=CareOrder.ReleaseReason.DAYS,
    )


@transaction.atomic
def homecare_seed(**context: Any) -> list[str]:
    from covidhub.homecare.services.checks import self_check_submit
    from covidhub.homecare.services.orders import order_open_case
    from covidhub.homecare.services.station import alert_close, kit_hand_out, visit_record

    officer = User.objects.filter(username="xa").first()
    commune = Area.objects.filter(level=Area.Level.COMMUNE, code="10507").first()
    if officer is None or commune is None:
        return []
    today = timezone.localdate()
    # The history's orders whose days are over were released at their planned end.
    for order in CareOrder.objects.filter(status=CareOrder.Status.OPEN, planned_end__lt=today):
        end = timezone.make_aware(datetime.datetime.combine(order.planned_end, datetime.time(9)))
        CareOrder.objects.filter(pk=order.pk).update(
            status=CareOrder.Status.RELEASED,
            released_at=end,
            release_reason=CareOrder.ReleaseReason.DAYS,
        )
    _released_story(officer=officer, commune=commune, today=today)
    person = _demo_person(commune)
    if CareOrder.objects.filter(person=person).exists():
        return []
    start = today - datetime.timedelta(days=DAYS_UNDER_CARE)
    order = order_open_case(
        actor=officer,
        person=person,
        start=start,
        onset=start - datetime.timedelta(days=1),
        caretaker_name="Phạm Thị Dung",
        caretaker_phone="0912 000 013",
    )
    kit_hand_out(actor=officer, order=order, kind="a", count=1)
    account = person.managed_by
    now = timezone.now()
    for day in range(DAYS_UNDER_CARE + 1):
        for hour in (7, 19):
            at = timezone.make_aware(
                datetime.datetime.combine(start + datetime.timedelta(days=day), datetime.time(hour))
            )
            if at > now:
                continue
            warning = day == 3 and hour == 19
            _check, _created = self_check_submit(
                actor=account,
                order=order,
                data=SelfCheckInput(
                    client_key=f"demo-{order.uuid.hex[:8]}-{day}-{hour}",
                    measured_at=at,
                    temperature=Decimal("38.4") if day < 3 else Decimal("37.1"),
                    spo2=94 if warning else 97,
                    pulse=92,
                    breathing_rate=22 if warning else 18,
                    symptoms=["cough", "fatigue"] if day < 4 else [],
                ),
            )
    for alert in CareAlert.objects.filter(order=order, status=CareAlert.Status.OPEN):
        alert_close(actor=officer, alert=alert, outcome="called", note="SpO2 đo lại 97 %")
    visit_record(actor=officer, order=order, kind="visit", note="Phát gói thuốc A")
    under = CareOrder.objects.filter(status=CareOrder.Status.OPEN).count()
    return [
        f"  homecare: {under} people under care; citizen 0912 000 003 ({DEMO_NAME}) "
        "sends his daily check at /homecare/"
    ]
