"""Demo data: two sampling sites and a laboratory in the demo communes, their staff,
and slots for the coming days. Running it again changes nothing."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from covidhub.accounts.models import Role, User
from covidhub.accounts.services import role_assign
from covidhub.areas.models import Area
from covidhub.core.models import ImportJob
from covidhub.demo.staff import (
    HOME_COMMUNE,
    NEIGHBOUR_COMMUNE,
    demo_login_line,
    demo_staff_account,
)
from covidhub.people.models import Person
from covidhub.testing import collection, imports, registration, results
from covidhub.testing.models import (
    Appointment,
    ImportBatch,
    Lab,
    Result,
    Sample,
    SamplingSession,
    Shipment,
    Site,
    Slot,
    TestType,
    Tube,
    TubeResult,
)
from covidhub.testing.signals import positive_result_released

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
    users = {}
    for username, display, role, kind, index in STAFF:
        user = demo_staff_account(username, display)
        unit = sites[index] if kind == "site" else lab
        role_assign(user=user, role=role, unit_kind=kind, unit_uuid=unit.uuid)
        lines.append(demo_login_line(username, role, unit.name))
        users[username] = user
    if not Result.objects.exists():
        samplers = [users["laymau"], users["laymau2"]]
        count = _history(sites=sites, samplers=samplers, lab=lab, technician=users["xetnghiem"])
        lines.append(f"  testing: {count} results over the last {HISTORY_DAYS} days")
    appointment = _symptomatic_citizen_booked(site=sites[0])
    if appointment is not None:
        lines.append(
            f"  testing: {DECLARANT_PHONE} booked a PCR test tomorrow (code {appointment.code})"
        )
    return lines


# Trần Thị Bình declared a cough and fever today (covidhub/declarations/demo.py): she booked
# a PCR test at her ward's station for tomorrow morning.
DECLARANT_PHONE = "+84912000002"


def _symptomatic_citizen_booked(*, site: Site) -> Appointment | None:
    person = Person.objects.filter(
        managed_by__phone=DECLARANT_PHONE, relationship=Person.Relationship.SELF
    ).first()
    if person is None or person.managed_by is None:
        return None
    if Appointment.objects.filter(person=person).exists():
        return None
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    slot = Slot.objects.filter(site=site, starts_at__date=tomorrow).order_by("starts_at").first()
    if slot is None:
        return None
    return registration.appointment_book(actor=person.managed_by, person=person, slot=slot)


HISTORY_DAYS = 60
# Nguyễn Văn An's negative PCR of yesterday (his test certificate comes from it).
CITIZEN_TESTED = "+84912000001"


def _history(*, sites: list[Site], samplers: list[User], lab: Lab, technician: User) -> int:
    """A few PCR tests a day over the last 60 days, through the same services as the
    sampling team and the laboratory (session, tube, shipment, reception, result), then
    dated back to their day, so that the board, the positive cases, the statistics and
    the people's own results agree. Their people were told at the time: no SMS now."""
    import random

    rng = random.Random(2021)  # the same story on every machine
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    citizen = Person.objects.filter(
        managed_by__phone=CITIZEN_TESTED, relationship=Person.Relationship.SELF
    ).first()
    people = iter(
        Person.objects.filter(commune__parent_id=sites[0].commune.parent_id)
        .exclude(managed_by__phone__startswith="+8491200000")
        .order_by("id")[:400]
    )
    count = 0
    for ago in range(HISTORY_DAYS, 0, -1):
        index = ago % len(sites)
        site, sampler = sites[index], samplers[index]
        session = collection.session_open(actor=sampler, site=site, test_type=TestType.PCR)
        tested = [p for p in (next(people, None) for _ in range(rng.randint(1, 4))) if p]
        if ago == 1 and citizen is not None:
            tested.append(citizen)
        barcodes = []
        for number, person in enumerate(tested):
            barcode = f"HD{ago:02d}{number:03d}DEMO"
            collection.tube_open(actor=sampler, session=session, barcode=barcode)
            collection.person_to_tube(actor=sampler, session=session, person=person)
            barcodes.append(barcode)
        if not barcodes:
            continue
        shipment = collection.shipment_create(actor=sampler, session=session, lab=lab)
        results.shipment_receive(actor=technician, shipment=shipment, barcodes=barcodes)
        values = [
            "positive" if rng.random() < 0.05 and person != citizen else "negative"
            for person in tested
        ]
        day = today - datetime.timedelta(days=ago)

        def at(hour: int, day: datetime.date = day) -> datetime.datetime:
            return datetime.datetime.combine(day, datetime.time(hour), tzinfo=tz)

        if ago == IMPORT_DAY_AGO:
            _instrument_file_import(
                actor=technician, lab=lab, barcodes=barcodes, values=values, at=at(17)
            )
        else:
            for barcode, value in zip(barcodes, values, strict=True):
                results.tube_result_record(actor=technician, lab=lab, barcode=barcode, value=value)
        collection.session_close(actor=sampler, session=session)

        tubes = Tube.objects.filter(session=session)
        SamplingSession.objects.filter(pk=session.pk).update(opened_at=at(7), closed_at=at(11))
        tubes.update(
            collected_at=at(8),
            closed_at=at(10),
            shipped_at=at(11),
            received_at=at(13),
            resulted_at=at(17),
        )
        Shipment.objects.filter(pk=shipment.pk).update(sent_at=at(11), received_at=at(13))
        Sample.objects.filter(tube__in=tubes).update(collected_at=at(8))
        TubeResult.objects.filter(tube__in=tubes).update(recorded_at=at(17))
        Result.objects.filter(sample__tube__in=tubes).update(
            collected_at=at(8), released_at=at(17), notified_version=F("version")
        )
        # Their people were told then; the positives proposed their cases to the commune
        # (covidhub/declarations) as every released positive does.
        for result in Result.objects.filter(
            sample__tube__in=tubes, outcome=Result.Outcome.POSITIVE
        ).select_related("person"):
            positive_result_released.send(
                sender=Result, person=result.person, collected_at=result.collected_at
            )
        count += len(barcodes)
    return count


# On the first day of the history the laboratory uploaded its instrument's export rather
# than typing each result (the first day: the one sure to have tubes in a small demo).
IMPORT_DAY_AGO = HISTORY_DAYS


def _instrument_file_import(
    *, actor: User, lab: Lab, barcodes: list[str], values: list[str], at: datetime.datetime
) -> None:
    """The file checked, then committed as an import job that the worker applies (the way
    a large file goes; here applied at once), dated back to its day."""
    rows = ["barcode,result,ct"] + [
        f"{barcode},{value},{'21.4' if value == 'positive' else ''}"
        for barcode, value in zip(barcodes, values, strict=True)
    ]
    name = f"CDCHD-{at:%Y%m%d}-run1.csv"
    batch = imports.import_validate(
        actor=actor, lab=lab, file_name=name, content="\n".join(rows).encode()
    )
    imports._commit_as_job(actor=actor, batch=batch)
    job = imports.import_job_of(batch)
    if job is not None:
        imports.lab_import_run(job_uuid=job.uuid)
        ImportJob.objects.filter(pk=job.pk).update(created_at=at, finished_at=at)
    ImportBatch.objects.filter(pk=batch.pk).update(created_at=at, decided_at=at)
