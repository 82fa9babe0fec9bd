"""The drill's load fixture, written into a database that `seed_demo` has filled: citizens
with a bearer token (declarations, check-ins, bookings), a session with room for every
booking, and people checked in and screened at the demo vaccination site today with a lot
to vaccinate them from (doses, recorded by the demo vaccinator through a staff session).

    DATABASE_URL=... python deploy/drill/fixture.py OUT.json [--citizens 400] [--doses 400]

Writes what the load generator needs as JSON (tokens, UUIDs, the vaccinator's session).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import secrets
import sys
from importlib import import_module
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def build(citizens: int, doses: int) -> dict[str, object]:
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.db import connection, transaction
    from django.middleware.csrf import _get_new_csrf_string
    from django.utils import timezone
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from bench.harness import Bench
    from covidhub.accounts.models import ApiToken, User
    from covidhub.areas.models import Area
    from covidhub.core.text import fold_ascii, icao_transliterate
    from covidhub.declarations.models import Venue
    from covidhub.people.models import Person
    from covidhub.vaccination.models import (
        Campaign,
        LotAllocation,
        Registration,
        Screening,
        Session,
        VaccinationSite,
        Vaccine,
        VaccineLot,
    )

    # A production signing key, as an operator makes one: the worker then issues the
    # certificates of the doses recorded under load.
    Bench.signing_key_production(cast(Any, None))
    now = timezone.now()
    today = timezone.localdate()
    home = Area.objects.filter(level=Area.Level.COMMUNE).order_by("path").first()
    assert home is not None, "seed_demo first"
    total = citizens + doses
    with transaction.atomic():
        users = User.objects.bulk_create(
            [
                User(username=f"drill-{i}", phone=f"+8459{i:07d}", kind=User.Kind.CITIZEN)
                for i in range(total)
            ]
        )
        name = "Nguyễn Văn Diễn Tập"
        people = Person.objects.bulk_create(
            [
                Person(
                    full_name=name,
                    search_name=fold_ascii(name),
                    icao_name=icao_transliterate(name),
                    birth_year=today.year - 30 - i % 25,
                    sex="M" if i % 2 else "F",
                    phone=user.phone or "",
                    commune=home,
                    commune_path=home.path,
                    managed_by=user,
                    relationship=Person.Relationship.SELF,
                )
                for i, user in enumerate(users)
            ]
        )
        tokens = []
        for user in users[:citizens]:
            token = secrets.token_urlsafe(24)
            tokens.append(token)
            ApiToken.objects.create(
                user=user,
                key_hash=hashlib.sha256(token.encode()).hexdigest(),
                prefix=token[:8],
                label="drill",
                expires_at=now + datetime.timedelta(days=1),
                last_used_at=now,
            )
        campaign = Campaign.objects.order_by("id").first()
        site = VaccinationSite.objects.get(name="Trạm Y tế Phường Cẩm Thượng")
        assert campaign is not None
        group = (campaign.priority_groups or ["g05"])[0]
        Registration.objects.bulk_create(
            [
                Registration(
                    person=person,
                    priority_group=group,
                    priority_rank=5,
                    commune_path=person.commune_path,
                    source="commune",
                    source_name="drill",
                )
                for person in people[:citizens]
            ]
        )
        booking_session = Session.objects.create(
            campaign=campaign,
            site=site,
            date=today + datetime.timedelta(days=1),
            starts_at=datetime.time(7, 0),
            ends_at=datetime.time(17, 0),
            capacity=citizens * 2,
        )
        # Doses: people checked in and screened today, as the vaccination day has them.
        province = Area.objects.get(level=Area.Level.PROVINCE)
        lot = VaccineLot.objects.create(
            vaccine=Vaccine.objects.get(code="pfizer"),
            number="DRILL-PF-1",
            expiry_date=today + datetime.timedelta(days=200),
            doses_received=doses * 2,
            doses_allocated=doses * 2,
            store_area=province,
            store_path=province.path,
            received_on=today,
        )
        LotAllocation.objects.create(lot=lot, site=site, doses_allocated=doses * 2)
        dose_session = Session.objects.create(
            campaign=campaign,
            site=site,
            date=today,
            starts_at=datetime.time(0, 0),
            ends_at=datetime.time(23, 59),
            capacity=doses,
            booked_count=doses,
        )
        with connection.cursor() as cursor:
            cursor.execute(
                """INSERT INTO vaccination_booking (uuid, code, session_id, person_id,
                        dose_number, status, invited_at, confirmed_at, checked_in_at,
                        created_at, updated_at)
                    SELECT gen_random_uuid(), upper(substr(md5(random()::text || p.id), 1, 10)),
                           %s, p.id, 1, 'checked_in', NULL, now(), now(), now(), now()
                      FROM people_person p WHERE p.id = ANY(%s)""",
                [dose_session.pk, [p.pk for p in people[citizens:]]],
            )
        vaccinator = User.objects.get(username="tiemchung")
        Screening.objects.bulk_create(
            [
                Screening(booking=b, answers={}, outcome="vaccinate", screened_by=vaccinator)
                for b in dose_session.bookings.all()
            ]
        )
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(vaccinator.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = vaccinator.get_session_auth_hash()
    device = TOTPDevice.objects.filter(user=vaccinator, confirmed=True).first()
    assert device is not None
    store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store.create()
    venues = list(Venue.objects.values_list("code", flat=True)[:50])
    return {
        "citizens": [
            {"token": t, "person": str(p.uuid)}
            for t, p in zip(tokens, people[:citizens], strict=True)
        ],
        "venues": venues,
        "booking_session": str(booking_session.uuid),
        "dose_bookings": [str(u) for u in dose_session.bookings.values_list("uuid", flat=True)],
        "lot": str(lot.uuid),
        "staff_cookie": f"{settings.SESSION_COOKIE_NAME}={store.session_key}",
        "csrf": _get_new_csrf_string(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--citizens", type=int, default=400)
    parser.add_argument("--doses", type=int, default=400)
    options = parser.parse_args()
    data = build(options.citizens, options.doses)
    Path(options.out).write_text(json.dumps(data))


if __name__ == "__main__":
    main()
