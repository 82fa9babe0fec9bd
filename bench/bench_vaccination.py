"""Vaccination figures: confirmed bookings under contention (1 and 5 hot sessions, none
overbooked), dose recording, and the coverage report over 2 million people and 3 million
doses — each beside the bare Django views of the same run.

    .venv/bin/python bench/bench_vaccination.py [--people 2000000] [--duration 10]
"""

# ruff: noqa: S608 - bench SQL built from integers and uuids this script made
from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import random
import secrets
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Bench

THREADS = 2


def _session_cookie(user: object) -> tuple[str, str]:
    """A TOTP-verified session for a staff member, as the browser would hold it."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.middleware.csrf import _get_new_csrf_string
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)  # type: ignore[attr-defined]
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()  # type: ignore[attr-defined]
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    assert device is not None
    store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store.create()
    return store.session_key, _get_new_csrf_string()


def _hot_sessions(count: int, *, capacity: int) -> list[object]:
    from django.utils import timezone

    from covidhub.vaccination.models import Campaign, Session, VaccinationSite

    site = VaccinationSite.objects.order_by("id").first()
    campaign = Campaign.objects.order_by("id").first()
    assert site is not None and campaign is not None
    return [
        Session.objects.create(
            campaign=campaign,
            site=site,
            date=timezone.localdate() + datetime.timedelta(days=1),
            starts_at=datetime.time(7, 0),
            ends_at=datetime.time(17, 0),
            capacity=capacity,
        )
        for _ in range(count)
    ]


def booking_fixture(bench: Bench, *, citizens: int) -> Path:
    """`citizens` registered adults with their account's bearer token (used a moment ago)."""
    from django.utils import timezone

    from covidhub.accounts.models import ApiToken
    from covidhub.people.models import Person

    year = timezone.localdate().year
    rows = bench.sql(
        f"""SELECT p.uuid, p.managed_by_id FROM people_person p
             WHERE p.relationship = 'self' AND p.managed_by_id IS NOT NULL
               AND p.birth_year BETWEEN {year - 60} AND {year - 20}
               AND NOT EXISTS (SELECT 1 FROM vaccination_dose d WHERE d.person_id = p.id)
               -- a database measured before: its citizens have booked already (409)
               AND NOT EXISTS (SELECT 1 FROM vaccination_booking b WHERE b.person_id = p.id)
             ORDER BY p.id LIMIT {citizens}"""
    ).split("\n")
    pairs = [line.split("|") for line in rows if line]
    tokens = []
    now = timezone.now()
    records = []
    for person_uuid, user_id in pairs:
        token = secrets.token_urlsafe(24)
        tokens.append((token, person_uuid))
        records.append(
            ApiToken(
                user_id=int(user_id),
                key_hash=hashlib.sha256(token.encode()).hexdigest(),
                prefix=token[:8],
                label="bench",
                expires_at=now + datetime.timedelta(days=1),
                last_used_at=now,
            )
        )
    ApiToken.objects.bulk_create(records, batch_size=5000)
    from covidhub.vaccination.models import Registration

    Registration.objects.bulk_create(
        [
            Registration(
                person_id=person_id,
                priority_group="g05",
                priority_rank=5,
                commune_path=path,
                source="commune",
                source_name="bench",
            )
            for person_id, path in Person.objects.filter(
                uuid__in=[p for _t, p in tokens]
            ).values_list("id", "commune_path")
        ],
        batch_size=5000,
        ignore_conflicts=True,
    )
    random.Random(7).shuffle(tokens)
    path = bench.var_dir / "book-pairs.txt"
    path.write_text("\n".join(f"{t} {p}" for t, p in tokens) + "\n")
    return path


def write_book_file(pairs_file: Path, sessions: list[object], out: Path) -> Path:
    lines = pairs_file.read_text().splitlines()
    out.write_text(" ".join(str(s.uuid) for s in sessions) + "\n" + "\n".join(lines) + "\n")  # type: ignore[attr-defined]
    return out


def settle(sessions: list[object], *, timeout: float = 30.0) -> None:
    """Wait until the requests still queued in the server when wrk stopped are done (the
    session's count stops moving), so that they are counted and do not book after the
    clean-up (which made the next scenario's first citizens "already booked")."""
    from covidhub.vaccination.models import Booking

    pks = [s.pk for s in sessions]  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        count = Booking.objects.filter(session_id__in=pks).count()
        if count == last:
            return
        last = count
        time.sleep(1.0)


def overbooking_check(sessions: list[object]) -> str:
    from django.db.models import Count, Q

    from covidhub.vaccination.models import Session

    rows = Session.objects.filter(pk__in=[s.pk for s in sessions]).annotate(  # type: ignore[attr-defined]
        held=Count("bookings", filter=Q(bookings__status="confirmed"))
    )
    bad = [s for s in rows if s.held != s.booked_count or s.booked_count > s.capacity]
    total = sum(s.held for s in rows)
    return f"{total:,} confirmed; {'OVERBOOKED ' + str(len(bad)) if bad else 'none overbooked'}"


def dose_fixture(bench: Bench, *, count: int) -> Path:
    """`count` people checked in and screened at the demo site today, and a big lot."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from covidhub.vaccination.models import (
        Campaign,
        LotAllocation,
        Session,
        VaccinationSite,
        Vaccine,
        VaccineLot,
    )

    vaccinator = get_user_model().objects.get(username="tiemchung")
    site = VaccinationSite.objects.get(name="Trạm Y tế Phường Cẩm Thượng")
    campaign = Campaign.objects.order_by("id").first()
    assert campaign is not None
    vaccine = Vaccine.objects.get(code="pfizer")
    today = timezone.localdate()
    from covidhub.areas.models import Area
    from covidhub.areas.served import home_province_code

    province = Area.objects.get(level=Area.Level.PROVINCE, code=home_province_code())
    lot = VaccineLot.objects.create(
        vaccine=vaccine,
        number="BENCH-PF-1",
        expiry_date=today + datetime.timedelta(days=200),
        doses_received=count * 2,
        doses_allocated=count * 2,
        store_area=province,
        store_path=province.path,
        received_on=today,
    )
    LotAllocation.objects.create(lot=lot, site=site, doses_allocated=count * 2)
    session = Session.objects.create(
        campaign=campaign,
        site=site,
        date=today,
        starts_at=datetime.time(0, 0),
        ends_at=datetime.time(23, 59),
        capacity=count,
        booked_count=count,
    )
    year = today.year
    bench.sql(
        f"""INSERT INTO vaccination_booking (uuid, code, session_id, person_id, dose_number,
                status, invited_at, confirmed_at, checked_in_at, created_at, updated_at)
            SELECT gen_random_uuid(), upper(substr(md5(random()::text || p.id), 1, 10)),
                   {session.pk}, p.id, 1, 'checked_in', NULL, now(), now(), now(), now()
              FROM people_person p
             WHERE p.birth_year BETWEEN {year - 60} AND {year - 20}
               AND NOT EXISTS (SELECT 1 FROM vaccination_booking b WHERE b.person_id = p.id)
               AND NOT EXISTS (SELECT 1 FROM vaccination_dose d WHERE d.person_id = p.id)
               AND NOT EXISTS (SELECT 1 FROM vaccination_registration r
                                WHERE r.person_id = p.id)
             ORDER BY p.id DESC LIMIT {count}"""
    )
    bench.sql(
        f"""INSERT INTO vaccination_screening (booking_id, answers, outcome, notes,
                screened_by_id, created_at)
            SELECT id, '{{}}', 'vaccinate', '', {vaccinator.pk}, now()
              FROM vaccination_booking WHERE session_id = {session.pk}"""
    )
    cookie, csrf = _session_cookie(vaccinator)
    bookings = bench.sql(
        f"SELECT uuid FROM vaccination_booking WHERE session_id = {session.pk} ORDER BY random()"
    ).split()
    path = bench.var_dir / "dose.txt"
    path.write_text(f"{cookie} {csrf} {lot.uuid}\n" + "\n".join(bookings) + "\n")
    return path


def doses_generate(bench: Bench, *, doses: int) -> dict[str, float]:
    """About `doses` doses for the province's people with COPY (dose 1 for 4 in 5 people,
    dose 2 for most of them, a booster for some), then the per-person summary in SQL."""
    from django.db import connection, transaction

    from covidhub.vaccination.models import Vaccine

    vaccines = {v.code: v.pk for v in Vaccine.objects.all()}
    people = bench.sql(
        "SELECT id || ',' || commune_id || ',' || commune_path FROM people_person "
        "WHERE id NOT IN (SELECT person_id FROM vaccination_dose) ORDER BY id"
    ).split()
    started = time.perf_counter()
    rng = random.Random(2021)
    base = datetime.datetime(2021, 7, 1, 9, 0, tzinfo=datetime.UTC)
    columns = (
        "uuid, person_id, vaccine_id, series, dose_number, sequence, completes_primary, status, "
        "administered_at, day, commune_id, commune_path, given_elsewhere, elsewhere_place, "
        "elsewhere_country, evidence, evidence_note, override_reason, void_reason, created_at, "
        "updated_at"
    )
    written = 0
    import uuid

    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY vaccination_dose ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for line in people:
                if written >= doses:
                    break
                person_id, commune_id, path = line.split(",", 2)
                if rng.random() > 0.8:
                    continue
                code = rng.choice(("astrazeneca", "pfizer", "moderna", "sinopharm"))
                first = base + datetime.timedelta(days=rng.randrange(0, 120))
                given = [(code, "primary", 1, 1, False, first)]
                if rng.random() < 0.85:
                    given.append((code, "primary", 2, 2, True, first + datetime.timedelta(days=60)))
                    if rng.random() < 0.25:
                        given.append(
                            ("pfizer", "booster", 1, 3, False, first + datetime.timedelta(days=200))
                        )
                for vaccine, series, number, sequence, completes, at in given:
                    copy.write_row(
                        (
                            uuid.uuid4(),
                            int(person_id),
                            vaccines[vaccine],
                            series,
                            number,
                            sequence,
                            completes,
                            "valid",
                            at,
                            at.date(),
                            int(commune_id),
                            path,
                            True,
                            "bench",
                            "VN",
                            "",
                            "bench",
                            "",
                            "",
                            at,
                            at,
                        )
                    )
                    written += 1
    copied = time.perf_counter()
    bench.sql(
        """INSERT INTO vaccination_personvaccination (person_id, commune_id, birth_year,
                priority_group, doses, primary_vaccine_id, primary_doses, primary_complete,
                boosters, last_dose_on, next_earliest_on, next_due_on, reminded_for, updated_at)
            SELECT d.person_id, p.commune_id, p.birth_year, '', count(*),
                   min(d.vaccine_id) FILTER (WHERE d.sequence = 1),
                   count(*) FILTER (WHERE d.series = 'primary'),
                   bool_or(d.completes_primary),
                   count(*) FILTER (WHERE d.series = 'booster'),
                   max(d.day), NULL, NULL, '', now()
              FROM vaccination_dose d JOIN people_person p ON p.id = d.person_id
             GROUP BY d.person_id, p.commune_id, p.birth_year
            ON CONFLICT (person_id) DO NOTHING"""
    )
    bench.sql("ANALYZE")
    done = time.perf_counter()
    return {
        "doses": written,
        "copy_seconds": copied - started,
        "per_second": written / (copied - started),
        "summary_seconds": done - copied,
    }


def coverage_timings(bench: Bench) -> dict[str, float]:
    from covidhub.areas.models import Area
    from covidhub.vaccination.selectors import coverage_counts

    province = Area.objects.get(level=1)
    timings = {}
    for by in ("commune", "age_band", "priority_group"):
        coverage_counts(by=by, area_path=province.path)  # warm the cache of the database
        started = time.perf_counter()
        rows = coverage_counts(by=by, area_path=province.path)
        timings[by] = time.perf_counter() - started
        assert rows
    # Over HTTP, as the province officer opens the report.
    from django.contrib.auth import get_user_model

    officer = get_user_model().objects.get(username="tinh")
    cookie, _csrf = _session_cookie(officer)
    request = urllib.request.Request(
        f"{bench.url}/api/v1/vaccination/staff/reports/coverage?by=commune",
        headers={"Cookie": f"sessionid={cookie}"},
    )
    bench.start()
    # A new server process loads the URLconf and the apps on its first request: warm each
    # up with the bare view first, then take the median of three reports.
    for _ in range(bench.web_workers * 4):
        with urllib.request.urlopen(f"{bench.url}/_bench/noop", timeout=60) as response:
            response.read()
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status == 200
            response.read()
        runs.append(time.perf_counter() - started)
    timings["http_commune"] = sorted(runs)[1]
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=2_000_000)
    parser.add_argument("--doses", type=int, default=3_000_000)
    parser.add_argument("--citizens", type=int, default=40_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    with Bench("vaccination") as bench:
        seeded = time.perf_counter()
        bench.seed(args.people)
        seed_seconds = time.perf_counter() - seeded
        bench.django_setup()
        # Each recorded dose gets its certificate from the worker, as in production.
        bench.signing_key_production()
        generated = doses_generate(bench, doses=args.doses)
        coverage = coverage_timings(bench)
        pairs = booking_fixture(bench, citizens=args.citizens)
        dose_file = dose_fixture(bench, count=20_000)
        os.environ["BENCH_VACCINATION_THREADS"] = str(THREADS)
        bench.env["BENCH_VACCINATION_THREADS"] = str(THREADS)
        common = {"connections": args.connections, "duration": args.duration, "threads": THREADS}
        results = [
            bench.wrk(name="baseline: bare Django view (GET)", path="/_bench/noop", **common),
            bench.wrk(
                name="baseline: bare view inserting a row (POST)",
                path="/_bench/insert",
                method="POST",
                **common,
            ),
        ]
        notes: dict[str, object] = {}
        for hot in (1, 5):
            sessions = _hot_sessions(hot, capacity=1_000_000)
            book_file = write_book_file(pairs, sessions, bench.var_dir / f"book-{hot}.txt")
            os.environ["BENCH_VACCINATION_BOOK_FILE"] = str(book_file)
            bench.env["BENCH_VACCINATION_BOOK_FILE"] = str(book_file)
            results.append(
                bench.wrk(
                    name=f"confirmed bookings, {hot} hot session(s) (POST /me/bookings)",
                    path="/api/v1/vaccination/me/bookings",
                    lua="bench/lua/vaccination_book.lua",
                    ok_statuses=(201,),
                    **common,
                )
            )
            settle(sessions)
            notes[f"after {hot} hot session(s)"] = overbooking_check(sessions)
            # The next scenario books other people: drop these bookings.
            bench.sql(
                "DELETE FROM vaccination_booking WHERE session_id IN ("
                + ",".join(str(s.pk) for s in sessions)  # type: ignore[attr-defined]
                + ")"
            )
        # A sold-out session: 64 connections racing for 500 places.
        sold_out = _hot_sessions(1, capacity=500)
        book_file = write_book_file(pairs, sold_out, bench.var_dir / "book-soldout.txt")
        os.environ["BENCH_VACCINATION_BOOK_FILE"] = str(book_file)
        bench.env["BENCH_VACCINATION_BOOK_FILE"] = str(book_file)
        results.append(
            bench.wrk(
                name="sold-out session of 500 places: 201 or 409 full",
                path="/api/v1/vaccination/me/bookings",
                lua="bench/lua/vaccination_book.lua",
                ok_statuses=(201, 409),
                warmup=0,
                **{**common, "duration": 5},
            )
        )
        settle(sold_out)
        notes["sold-out session"] = overbooking_check(sold_out)
        os.environ["BENCH_VACCINATION_DOSE_FILE"] = str(dose_file)
        bench.env["BENCH_VACCINATION_DOSE_FILE"] = str(dose_file)
        results.append(
            bench.wrk(
                name="dose recording (POST /staff/bookings/{id}/dose)",
                path="/api/v1/vaccination/staff/bookings/x/dose",
                lua="bench/lua/vaccination_dose.lua",
                ok_statuses=(201,),
                **common,
            )
        )
        people = bench.sql("SELECT count(*) FROM people_person")
        bench.report(
            results,
            notes={
                **notes,
                "seed": f"{int(people):,} people in {seed_seconds:.0f} s",
                "doses generated (COPY)": f"{int(generated['doses']):,} doses at "
                f"{generated['per_second']:,.0f}/s; per-person summary "
                f"{generated['summary_seconds']:.1f} s",
                "coverage report (selector, whole province)": ", ".join(
                    f"by {k}: {v:.2f} s" for k, v in coverage.items() if k != "http_commune"
                ),
                "coverage report over HTTP (by commune, median of 3)": f"{coverage['http_commune']:.2f} s",
            },
        )


if __name__ == "__main__":
    main()
