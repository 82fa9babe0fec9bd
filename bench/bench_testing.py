"""Testing figures: result lookup (signed-in citizen; code + date of birth), sample
collection (scan a person into a tube), and the import of 20,000 pooled tubes covering
200,000 people (validated, stored, released to every person, notifications queued), each
beside the bare Django views of the same run.

    .venv/bin/python bench/bench_testing.py [--people 220000] [--tubes 20000] [--duration 10]
"""

# ruff: noqa: S608 - bench SQL built from integers this script made
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Bench

POOL = 10


def build_received_tubes(bench: Bench, tubes: int) -> dict[str, object]:
    """`tubes` pooled tubes of 10 people each, shipped to the demo lab and received —
    set-based SQL, as if a province-wide round had just been sampled."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from covidhub.testing.codes import appointment_code_new
    from covidhub.testing.models import (
        Appointment,
        Lab,
        SamplingSession,
        Shipment,
        Site,
        TestingRound,
    )

    user_model = get_user_model()
    sampler = user_model.objects.get(username="laymau")
    site = Site.objects.order_by("id").first()
    lab = Lab.objects.get(code="CDCHD")
    assert site is not None
    session = SamplingSession.objects.create(site=site, opened_by=sampler, pool_size=POOL)
    shipment = Shipment.objects.create(session=session, site=site, lab=lab, sent_by=sampler)
    bench.sql(
        f"""
        INSERT INTO testing_tube (uuid, barcode, session_id, site_id, test_type, capacity,
            member_count, status, shipment_id, lab_id, collected_at, closed_at, shipped_at,
            received_at)
        SELECT gen_random_uuid(), 'BT' || lpad(g::text, 7, '0'), {session.pk}, {site.pk},
               'pcr', {POOL}, {POOL}, 'received', {shipment.pk}, {lab.pk},
               now() - interval '6 hours', now() - interval '6 hours',
               now() - interval '5 hours', now() - interval '1 hour'
          FROM generate_series(1, {tubes}) g
        """
    )
    bench.sql(
        f"""
        INSERT INTO testing_sample (uuid, tube_id, person_id, status, collected_by_id,
            collected_at, removed_reason)
        SELECT gen_random_uuid(), t.id, p.id, 'active', {sampler.pk},
               now() - interval '6 hours', ''
          FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM people_person
                ORDER BY id LIMIT {tubes * POOL}) p
          JOIN (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM testing_tube
                 WHERE session_id = {session.pk}) t
            ON t.rn = (p.rn - 1) / {POOL} + 1
        """
    )
    # Appointments (codes for the lookup) for the people of the first 5,000 tubes.
    testing_round = TestingRound.objects.create(
        name="Bench round",
        area=site.commune,
        area_path=site.commune_path,
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate(),
        created_by=sampler,
        pool_size=POOL,
    )
    person_ids = [
        int(x)
        for x in bench.sql(
            f"""SELECT s.person_id FROM testing_sample s JOIN testing_tube t ON t.id = s.tube_id
                 WHERE t.session_id = {session.pk} ORDER BY s.id
                 LIMIT {min(tubes, 5000) * POOL}"""
        ).split()
    ]
    codes: set[str] = set()
    while len(codes) < len(person_ids):
        codes.add(appointment_code_new())
    Appointment.objects.bulk_create(
        [
            Appointment(
                code=code,
                person_id=pid,
                kind="round",
                testing_round=testing_round,
                status="collected",
            )
            for pid, code in zip(person_ids, sorted(codes), strict=True)
        ],
        batch_size=5000,
    )
    bench.sql(
        f"""UPDATE testing_sample s SET appointment_id = a.id FROM testing_appointment a
            WHERE a.person_id = s.person_id AND a.testing_round_id = {testing_round.pk}
              AND s.tube_id IN (SELECT id FROM testing_tube WHERE session_id = {session.pk})"""
    )
    bench.sql("ANALYZE")
    return {"lab": lab, "site": site, "sampler": sampler}


def run_import(bench: Bench, *, tubes: int, lab: Any) -> dict[str, float]:
    from django.contrib.auth import get_user_model

    from covidhub.testing import imports

    technician = get_user_model().objects.get(username="xetnghiem")
    rows = ["barcode,result,ct"]
    for n in range(1, tubes + 1):
        positive = n % 50 == 0  # 2% of pools positive
        rows.append(
            f"BT{n:07d},{'positive' if positive else 'negative'},{'24.5' if positive else ''}"
        )
    content = ("\n".join(rows) + "\n").encode()
    started = time.perf_counter()
    batch = imports.import_validate(
        actor=technician, lab=lab, file_name="bench.csv", content=content
    )
    validated = time.perf_counter()
    committed = imports.import_commit(actor=technician, batch=batch, import_good_rows=True)
    job = imports.import_job_of(committed)
    if job is not None:
        # A large file is stored by the worker's task, chunk by chunk; run it here.
        imports.lab_import_run(job_uuid=job.uuid)
        committed.refresh_from_db()
    done = time.perf_counter()
    assert committed.imported_count == tubes, committed.imported_count
    again_start = time.perf_counter()
    again = imports.import_validate(
        actor=technician, lab=lab, file_name="bench.csv", content=content
    )
    again_seconds = time.perf_counter() - again_start
    assert not again.good_rows
    return {
        "validate": validated - started,
        "commit": done - validated,
        "total": done - started,
        "reimport_check": again_seconds,
    }


def notify_rate(sample_chunks: int = 6) -> float:
    from django.db import close_old_connections

    close_old_connections()
    """Results notified per second by one notify task (messages queued in the outbox)."""
    from covidhub.testing.notify import results_notify_pending

    started = time.perf_counter()
    done = sum(results_notify_pending(limit=500) for _ in range(sample_chunks))
    return done / (time.perf_counter() - started)


def lookup_fixtures(bench: Bench) -> tuple[Path, Path]:
    from covidhub.accounts.models import User
    from covidhub.accounts.services import api_token_issue
    from covidhub.testing.models import Appointment, Result

    lines = []
    for code, birth_date, birth_year in Appointment.objects.filter(
        samples__result__isnull=False
    ).values_list("code", "person__birth_date", "person__birth_year")[:20000]:
        birth = birth_date.strftime("%d/%m/%Y") if birth_date else str(birth_year)
        lines.append(f"{code} {birth}")
    lookup_file = bench.var_dir / "lookup.txt"
    lookup_file.write_text("\n".join(lines) + "\n")
    accounts = (
        Result.objects.filter(person__managed_by__isnull=False)
        .values_list("person__managed_by", flat=True)
        .distinct()[:300]
    )
    tokens = [
        api_token_issue(user=u, label="bench").token
        for u in User.objects.filter(pk__in=list(accounts))
    ]
    tokens_file = bench.var_dir / "tokens.txt"
    tokens_file.write_text("\n".join(tokens) + "\n")
    return lookup_file, tokens_file


def scan_fixture(bench: Bench, *, site: Any, sampler: Any, sessions: int = 64) -> Path:
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.base import SessionBase
    from django.middleware.csrf import _get_new_csrf_string
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from covidhub.people.personal_qr import personal_token_issue
    from covidhub.testing.collection import session_open

    store: SessionBase = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(sampler.pk)  # type: ignore[attr-defined]
    store[BACKEND_SESSION_KEY] = "covidhub.accounts.backends.CachedModelBackend"
    store[HASH_SESSION_KEY] = sampler.get_session_auth_hash()  # type: ignore[attr-defined]
    device = TOTPDevice.objects.filter(user=sampler, confirmed=True).first()
    assert device is not None
    store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store.create()
    csrf = _get_new_csrf_string()
    lines = [f"{store.session_key} {csrf}"]
    for _ in range(sessions):
        session = session_open(actor=sampler, site=site, pool_size=POOL)
        lines.append(f"S {session.uuid}")
    # The personal QR each person shows on their phone: a signed app token (valid for at
    # least five minutes, longer than the bench takes to reach the scan run). People who
    # are in no tube yet (the last ids), each scanned once.
    people = bench.sql(
        "SELECT p.id FROM people_person p WHERE NOT EXISTS "
        "(SELECT 1 FROM testing_sample s WHERE s.person_id = p.id) ORDER BY p.id DESC LIMIT 20000"
    ).split()
    lines += [f"P {personal_token_issue(person_id=int(p))[0]}" for p in people]
    path = bench.var_dir / "scan.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=220_000)
    parser.add_argument("--tubes", type=int, default=20_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    with Bench("testing") as bench:
        bench.seed(args.people)
        bench.django_setup()
        bench.signing_key_production()
        fixture = build_received_tubes(bench, args.tubes)
        timings = run_import(bench, tubes=args.tubes, lab=fixture["lab"])
        results_count = int(bench.sql("SELECT count(*) FROM testing_result"))
        retests = int(bench.sql("SELECT count(*) FROM testing_appointment WHERE kind='retest'"))
        audit = int(
            bench.sql(
                "SELECT count(*) FROM audit_auditevent WHERE action='testing.result.released'"
            )
        )
        # The notices would keep the worker busy for many minutes (see the fan-out rate,
        # measured after the HTTP runs); they are marked done so that the HTTP figures are
        # not measured beside that backlog.
        bench.sql("UPDATE testing_result SET notified_version = version")
        # Likewise their certificates (a test certificate per negative person, ~200,000:
        # minutes of the worker; issuing is the certificates bench's figure).
        bench.sql(
            "DELETE FROM django_tasks_database_dbtaskresult "
            "WHERE task_path LIKE 'covidhub.certificates.tasks.%' AND status = 'READY'"
        )
        lookup_file, tokens_file = lookup_fixtures(bench)
        for key, value in (
            ("BENCH_TESTING_LOOKUP_FILE", lookup_file),
            ("BENCH_TESTING_TOKENS_FILE", tokens_file),
        ):
            os.environ[key] = str(value)
        threads = 2
        os.environ["BENCH_TESTING_THREADS"] = str(threads)
        common = {"connections": args.connections, "duration": args.duration, "threads": threads}
        results = [
            bench.wrk(name="baseline: bare Django view (GET)", path="/_bench/noop", **common),
            bench.wrk(
                name="baseline: bare view, one indexed select", path="/_bench/select", **common
            ),
            bench.wrk(
                name="results of my household (GET /testing/results, bearer)",
                path="/api/v1/testing/results",
                lua="bench/lua/testing_results.lua",
                **common,
            ),
            bench.wrk(
                name="lookup by code + date of birth (POST /testing/lookup)",
                path="/api/v1/testing/lookup",
                lua="bench/lua/testing_lookup.lua",
                **common,
            ),
            bench.wrk(
                name="baseline: bare view inserting a row (POST)",
                path="/_bench/insert",
                method="POST",
                **common,
            ),
        ]
        # Made just before its run: the personal QR tokens of phones last minutes.
        scan_file = scan_fixture(bench, site=fixture["site"], sampler=fixture["sampler"])
        os.environ["BENCH_TESTING_SCAN_FILE"] = str(scan_file)
        samples_before = int(bench.sql("SELECT count(*) FROM testing_sample"))
        results += [
            bench.wrk(
                name="sample collection: scan person/tube (POST /sessions/{id}/scan)",
                path="/api/v1/testing/sessions/x/scan",
                lua="bench/lua/testing_scan.lua",
                **common,
            ),
        ]
        samples = int(bench.sql("SELECT count(*) FROM testing_sample")) - samples_before
        bench.stop()
        bench.sql(
            "UPDATE testing_result SET notified_version = 0 WHERE id IN "
            "(SELECT id FROM testing_result ORDER BY id LIMIT 3000)"
        )
        rate = notify_rate()
        messages = int(bench.sql("SELECT count(*) FROM notifications_message"))
        bench.report(
            results,
            notes={
                "import": f"{args.tubes:,} pooled tubes → {results_count:,} people: validate "
                f"{timings['validate']:.2f} s + commit (store, release, audit, retests, case "
                f"reports, notify jobs) {timings['commit']:.2f} s = {timings['total']:.2f} s; "
                f"re-checking the same file {timings['reimport_check']:.2f} s (0 good rows)",
                "import side effects": f"{retests:,} retest appointments, {audit:,} audit events",
                "notification fan-out (one task, in-process)": f"{rate:,.0f} people/s "
                f"({messages:,} outbox messages after the sample)",
                "samples taken by the scan run (warm-up included)": f"{samples:,}",
            },
        )


if __name__ == "__main__":
    main()
