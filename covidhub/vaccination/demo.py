"""Demo data: vaccination sites in the demo communes with their staff, a campaign with
sessions, lots allocated to the sites and a few doses. Idempotent."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from covidhub.accounts.models import Role
from covidhub.accounts.services import role_assign
from covidhub.areas.models import Area
from covidhub.people.models import Person
from covidhub.vaccination import rules
from covidhub.vaccination.models import (
    UNIT_KIND,
    Campaign,
    Dose,
    LotAllocation,
    PriorityGroup,
    Registration,
    Session,
    VaccinationSite,
    Vaccine,
    VaccineLot,
)

CAMPAIGN_NAME = "Chiến dịch tiêm chủng vắc xin COVID-19 — TP Hải Dương (demo)"
SITES = (
    ("10507", "Trạm Y tế Phường Cẩm Thượng", "Số 2 Nguyễn Lương Bằng"),
    ("10510", "Trạm Y tế Phường Bình Hàn", "Số 5 Bình Lộc"),
)
# username, display name, role, index of the site in SITES
DEMO_SITE_STAFF = (
    ("tiemchung", "Điều dưỡng tiêm chủng — TYT Cẩm Thượng", Role.VACCINATOR, 0),
    ("diemtiem", "Trưởng điểm tiêm — TYT Cẩm Thượng", Role.SITE_MANAGER, 0),
    ("tiemchung2", "Điều dưỡng tiêm chủng — TYT Bình Hàn", Role.VACCINATOR, 1),
)


@transaction.atomic
def vaccination_seed(**context: Any) -> list[str]:
    from covidhub.demo.staff import HOME_DISTRICT, demo_login_line, demo_staff_account

    lines: list[str] = []
    district = Area.objects.filter(level=Area.Level.DISTRICT, code=HOME_DISTRICT).first()
    if district is None:
        return lines
    sites = []
    for code, name, address in SITES:
        commune = Area.objects.get(level=Area.Level.COMMUNE, code=code)
        site = VaccinationSite.objects.filter(name=name).first()
        if site is None:
            site = VaccinationSite.objects.create(name=name, commune=commune, address=address)
        sites.append(site)
    for username, display_name, role, index in DEMO_SITE_STAFF:
        user = demo_staff_account(username, display_name)
        role_assign(user=user, role=role, unit_kind=UNIT_KIND, unit_uuid=sites[index].uuid)
        lines.append(demo_login_line(username, role, sites[index].name))
    if Campaign.objects.filter(name=CAMPAIGN_NAME).exists():
        return lines
    today = timezone.localdate()
    astrazeneca = Vaccine.objects.get(code="astrazeneca")
    pfizer = Vaccine.objects.get(code="pfizer")
    province = district.parent or district
    lots = []
    for vaccine, number, doses in (
        (astrazeneca, "DEMO-AZ-2101", 2000),
        (pfizer, "DEMO-PF-2102", 1200),
    ):
        lot, _created = VaccineLot.objects.get_or_create(
            vaccine=vaccine,
            number=number,
            defaults={
                "expiry_date": today + datetime.timedelta(days=180),
                "doses_received": doses,
                "store_area": province,
                "store_path": province.path,
                "received_on": today - datetime.timedelta(days=60),
            },
        )
        lots.append(lot)
        for site in sites:
            allocation, _c = LotAllocation.objects.get_or_create(lot=lot, site=site)
            if allocation.doses_allocated == 0:
                allocation.doses_allocated = doses // 4
                allocation.save()
                lot.doses_allocated += doses // 4
        lot.save()
    campaign = Campaign.objects.create(
        name=CAMPAIGN_NAME,
        area=district,
        area_path=district.path,
        vaccine=astrazeneca,
        priority_groups=[],
        starts_on=today - datetime.timedelta(days=60),
        ends_on=today + datetime.timedelta(days=60),
    )
    campaign.sites.set(sites)
    for site in sites:
        for offset in range(0, 7):
            Session.objects.create(
                campaign=campaign,
                site=site,
                date=today + datetime.timedelta(days=offset),
                starts_at=datetime.time(7, 30),
                ends_at=datetime.time(11, 30),
                capacity=100,
            )
    doses = _history(sites=sites, lots=lots, today=today, district=district)
    lines.append(
        f"  vaccination: campaign with {2 * 7} sessions, 2 lots, {doses} doses over 60 days"
    )
    _agency_list_imported()
    booked = _today_booked(site=sites[0], today=today)
    lines.append(f"  vaccination: {booked} people booked today at {sites[0].name}, one checked in")
    return lines


def _today_booked(*, site: VaccinationSite, today: datetime.date) -> int:
    """Today's session at the home ward's station: the district booked the people of the
    agency's list (imported below), and the first has just been checked in (the vaccinator
    screens and vaccinates them at /staff/vaccination/sites/)."""
    from covidhub.accounts.models import User
    from covidhub.vaccination.services.booking import booking_create
    from covidhub.vaccination.services.day import checkin_record

    officer = User.objects.filter(username="huyen").first()
    vaccinator = User.objects.filter(username="tiemchung").first()
    session = Session.objects.filter(site=site, date=today).first()
    if officer is None or vaccinator is None or session is None:
        return 0
    people = Person.objects.filter(
        vaccination_registration__source_name=AGENCY_NAME,
        vaccination_doses__isnull=True,
    ).order_by("id")
    bookings = [booking_create(actor=officer, person=p, session=session) for p in people]
    if bookings:
        checkin_record(actor=vaccinator, site=site, text=bookings[0].code)
    return len(bookings)


AGENCY_NAME = "Sở Thông tin và Truyền thông"
# The province officer imported the staff list of the Department of Information and
# Communications (priority group 4); its people were added and registered.
AGENCY_LIST = (
    "Họ và tên,Ngày sinh,Giới tính,Số CCCD,Mã xã,Địa chỉ,Nhóm ưu tiên,Nghề nghiệp\n"
    "Phạm Minh Tuấn,04/06/1986,Nam,030086900101,10507,Số 8 Quang Trung,4,Chuyên viên\n"
    "Đỗ Thị Hạnh,21/09/1991,Nữ,030191900102,10510,Số 3 Bình Lộc,4,Văn thư\n"
    "Vũ Quang Huy,13/01/1979,Nam,030079900103,10507,Số 15 Nguyễn Lương Bằng,4,Phó phòng\n"
)


def _agency_list_imported() -> None:
    from covidhub.accounts.models import User
    from covidhub.vaccination.services.registration import registration_import

    officer = User.objects.filter(username="tinh").first()
    if officer is None:
        return
    registration_import(
        actor=officer,
        filename="danh-sach-so-tttt.csv",
        content=AGENCY_LIST.encode(),
        source=Registration.Source.AGENCY,
        source_name=AGENCY_NAME,
    )


# The demo citizens' own story (days before today): Nguyễn Văn An had both Pfizer doses
# (fully vaccinated, booster not yet due); Trần Thị Bình had her first 18 days ago, so
# that her second (Pfizer: 21 days after) falls due in 3 days, inside the week of sessions
# seeded below: she can book it, and the reminder goes out (3 days before). Never a due
# date already past on the day the demo is seeded.
CITIZEN_DOSES = {"+84912000001": (50, 28), "+84912000002": (18,)}
HISTORY_DAYS = 60


def _history(
    *,
    sites: list[VaccinationSite],
    lots: list[VaccineLot],
    today: datetime.date,
    district: Area,
) -> int:
    """Doses of the last 60 days at the two sites, a few a day, second doses after the
    vaccine's interval, each recorded as the vaccination day records it (the dose, the
    person's summary, the lot's stock) and announced, so that the certificates app issues
    their certificates and every page tells the same story."""
    import random

    from covidhub.vaccination.services.day import _insert_dose, status_lock, status_refresh
    from covidhub.vaccination.services.stock import allocation_take
    from covidhub.vaccination.signals import dose_recorded

    rng = random.Random(2021)  # the same story on every machine
    plan: list[tuple[Person, VaccineLot, list[int]]] = []
    pfizer_lot = next(lot for lot in lots if lot.vaccine.code == "pfizer")
    for phone, days_ago in CITIZEN_DOSES.items():
        person = Person.objects.filter(
            managed_by__phone=phone, relationship=Person.Relationship.SELF
        ).first()
        if person is not None:
            plan.append((person, pfizer_lot, list(days_ago)))
    taken = {person.pk for person, _lot, _ago in plan}
    adults = [
        person
        for person in Person.objects.filter(
            commune_path__startswith=district.path, birth_year__lte=today.year - 18
        ).order_by("id")[:400]
        if person.pk not in taken
    ]
    rng.shuffle(adults)
    for index, person in enumerate(adults[:150]):
        lot = lots[index % len(lots)]
        first = rng.randint(1, HISTORY_DAYS)
        interval = lot.vaccine.min_interval_days + rng.randint(0, 7)
        ago = [first] if first - interval < 1 else [first, first - interval]
        plan.append((person, lot, ago))
    count = 0
    for person, lot, ago in plan:
        Registration.objects.get_or_create(
            person=person,
            defaults={
                "priority_group": PriorityGroup.CHRONIC_ELDERLY,
                "commune_path": person.commune_path,
                "source": Registration.Source.COMMUNE,
            },
        )
        site = next((s for s in sites if s.commune_id == person.commune_id), sites[0])
        allocation = LotAllocation.objects.get(lot=lot, site=site)
        status = status_lock(person)
        if status.doses:
            continue
        for number, days in enumerate(ago, start=1):
            at = timezone.make_aware(
                datetime.datetime.combine(
                    today - datetime.timedelta(days=days), datetime.time(8 + number, 15)
                )
            )
            allocation_take(allocation=allocation, day=at.date())
            dose = _insert_dose(
                actor=None,  # type: ignore[arg-type]
                person=person,
                vaccine=lot.vaccine,
                administered_at=at,
                nxt=rules.NextDose("primary", number, number, lot.vaccine, None, None),
                lot=lot,
                allocation=allocation,
                site=site,
            )
            # The certificates app queues the dose's certificate in this transaction.
            dose_recorded.send(sender=Dose, dose=dose, person=person)
            count += 1
        status_refresh(status, person)
    return count
