"""The records of the synthetic people, made by PostgreSQL (set-based INSERT … SELECT) for
bench_scale: doses and the per-person vaccination summary, pooled test results with their
appointments, tubes and samples, health declarations, venues and venue check-ins.

Each person's records are a function of the person's id (hashes, no random state), so the
records of people (lo, hi] are made once, by id range, and a database grows by adding the
next range: the progress is the Setting `bench.scale.records_through` (the last person id
done). The rows are those the services write (same columns, codes of the same alphabets,
local days, partitions of the day), so that the hot paths' plans are the real ones. The
non-unique indexes of the tables are dropped for the load and built once at the end, as
the people's are (covidhub.demo.province).

Shares per person (of the ids in range):
- doses: 30 % dose 1, 25 % dose 2 (60 days later), 5 % a booster (200 days later), 2021;
- tests: 5 % a pooled PCR result (tubes of 10) released in the last 60 days, with the
  round's appointment (its code looks up the result) and the sample;
- declarations: 5 % one in the last 14 days; check-ins: 25 % one in the last 14 days, at
  one of the venues (one venue for every 500 people).
"""

# ruff: noqa: S608 - SQL built from integers and table names of this module
from __future__ import annotations

import contextlib
import datetime
import time
from typing import Any

PROGRESS_KEY = "bench.scale.records_through"
VENUE_EVERY = 500  # people per venue
POOL = 10
RECORD_TABLES = (
    "vaccination_dose",
    "vaccination_personvaccination",
    "testing_appointment",
    "testing_tube",
    "testing_sample",
    "testing_tuberesult",
    "testing_result",
    "declarations_declaration",
    "declarations_checkin",
    "declarations_venue",
)
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # covidhub.testing.codes / declarations.models
CODE_SPACE = 31**8


def _h(expr: str, salt: int) -> str:
    """A non-negative 63-bit hash of an integer expression: the draw number `salt`."""
    return f"(hashint8extended({expr}, {salt}) & 9223372036854775807)"


def _code(expr: str, multiplier: int) -> str:
    """An 8-character code of the appointment/venue alphabet, one-to-one with the integer
    (an affine map modulo 31^8 with a multiplier prime to 31, then base 31)."""
    x = f"(({expr})::bigint * {multiplier} + 12345) % {CODE_SPACE}"
    return " || ".join(
        f"substr('{ALPHABET}', 1 + (({x}) / {31**k} % 31)::int, 1)" for k in range(8)
    )


def _uuid(prefix: str, expr: str) -> str:
    return (
        f"overlay(overlay(md5('{prefix}-' || ({expr})) PLACING '4' FROM 13) "
        "PLACING '8' FROM 17)::uuid"
    )


def records_generate(*, log: Any = print) -> dict[str, float]:
    """Records for every person past the progress mark; returns rows made and seconds."""
    from django.db import connection, transaction

    from covidhub.core.models import Setting

    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM people_person")
        top = int(cursor.fetchone()[0])
    progress, _ = Setting.objects.get_or_create(key=PROGRESS_KEY, defaults={"value": {"id": 0}})
    done = int(progress.value.get("id", 0))
    if top <= done:
        return {"rows": 0, "seconds": 0.0}
    started = time.perf_counter()
    counts: dict[str, int] = {}
    with transaction.atomic():
        # People whose doses the demo's seeders recorded keep theirs (and no more).
        _run(
            "CREATE TEMPORARY TABLE scale_vaccinated ON COMMIT DROP AS "
            "SELECT DISTINCT person_id AS id FROM vaccination_dose "
            "UNION SELECT person_id FROM vaccination_personvaccination"
        )
        _run("ANALYZE scale_vaccinated")
        # NOT EXISTS is a hash anti-join; NOT IN over a set larger than work_mem would be
        # a nested scan of it for every person.
        _run("SET LOCAL work_mem = '256MB'")
        _generate(done=done, top=top, counts=counts, started=started, log=log)
    with connection.cursor() as cursor:
        for table in RECORD_TABLES:
            cursor.execute(f"ANALYZE {table}")
    seconds = time.perf_counter() - started
    return {"rows": float(sum(counts.values())), "seconds": seconds, **counts}


def _generate(*, done: int, top: int, counts: dict[str, int], started: float, log: Any) -> None:
    from covidhub.core.models import Setting
    from covidhub.demo.province import _foreign_key_triggers_off, _secondary_indexes_deferred

    with _secondary_indexes_deferred(list(RECORD_TABLES), unique=True):
        _foreign_key_triggers_off()
        context = _context()
        step = 2_000_000
        for lo in range(done, top, step):
            hi = min(lo + step, top)
            for name, count in _range(lo=lo, hi=hi, context=context).items():
                counts[name] = counts.get(name, 0) + count
            Setting.objects.filter(key=PROGRESS_KEY).update(value={"id": hi})
            log(
                f"  records through person {hi:,}: {sum(counts.values()):,} rows, "
                f"{time.perf_counter() - started:,.0f} s"
            )
        log("  building the deferred indexes …")


def _context() -> dict[str, Any]:
    """The demo's staff, site, lab, vaccines and the partitions the records need."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from covidhub.core.partitions import partitions_cover
    from covidhub.testing.models import Lab, Site
    from covidhub.vaccination.models import Vaccine

    users = get_user_model().objects
    today = timezone.localdate()
    for table in ("declarations_declaration", "declarations_checkin"):
        partitions_cover(table, since=today - datetime.timedelta(days=15), until=today)
    site = Site.objects.order_by("id").first()
    assert site is not None, "seed the demo first (seed_demo)"
    vaccines = dict(Vaccine.objects.values_list("code", "pk"))
    return {
        "sampler": users.get(username="laymau").pk,
        "technician": users.get(username="xetnghiem").pk,
        "site": site,
        "lab": Lab.objects.get(code="CDCHD").pk,
        "vaccines": [vaccines[c] for c in ("astrazeneca", "pfizer", "moderna", "sinopharm")],
        "pfizer": vaccines["pfizer"],
        "today": today,
    }


def _run(sql: str, params: dict[str, Any] | None = None, *, analyze: str = "") -> int:
    """Run a statement; `analyze`: a table to ANALYZE afterwards, because a later statement
    of the load reads it (with its statistics from before the insert, the planner takes
    the new id range for empty and picks a nested loop over a sequential scan)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        count = int(cursor.rowcount)
        if analyze:
            cursor.execute(f"ANALYZE {analyze}")
        return count


def _range(*, lo: int, hi: int, context: dict[str, Any]) -> dict[str, int]:
    from covidhub.testing.models import SamplingSession, Shipment, TestingRound

    made: dict[str, int] = {}
    in_range = f"p.id > {lo} AND p.id <= {hi}"
    local = "AT TIME ZONE 'Asia/Ho_Chi_Minh'"
    vaccines = "ARRAY[" + ",".join(str(v) for v in context["vaccines"]) + "]::bigint[]"

    # -- doses and the per-person summary ---------------------------------------------
    made["doses"] = _run(
        f"""
        INSERT INTO vaccination_dose (uuid, person_id, vaccine_id, series, dose_number,
            sequence, completes_primary, status, administered_at, day, commune_id,
            commune_path, given_elsewhere, elsewhere_place, elsewhere_country, evidence,
            evidence_note, override_reason, void_reason, created_at, updated_at)
        SELECT {_uuid("dose", "p.id || '-' || s")}, p.id,
               CASE WHEN s = 3 THEN {context["pfizer"]}
                    ELSE ({vaccines})[1 + ({_h("p.id", 21)} % 4)::int] END,
               CASE WHEN s = 3 THEN 'booster' ELSE 'primary' END,
               CASE WHEN s = 3 THEN 1 ELSE s END, s, s = 2, 'valid', at, (at {local})::date,
               p.commune_id, p.commune_path, true, 'Trạm Y tế', 'VN', '', '', '', '', at, at
          FROM people_person p
         CROSS JOIN LATERAL (
               SELECT s, timestamptz '2021-07-01 09:00+07'
                         + ({_h("p.id", 22)} % 120) * interval '1 day'
                         + (CASE s WHEN 1 THEN 0 WHEN 2 THEN 60 ELSE 200 END) * interval '1 day'
                         + ({_h("p.id", 23)} % 600) * interval '1 minute' AS at
                 FROM generate_series(1, 3) s) d
         WHERE {in_range} AND p.birth_year <= 2009
           AND NOT EXISTS (SELECT 1 FROM scale_vaccinated v WHERE v.id = p.id)
           AND {_h("p.id", 20)} % 100 < (CASE s WHEN 1 THEN 30 WHEN 2 THEN 25 ELSE 5 END)
        """,
        analyze="vaccination_dose",
    )
    made["vaccination summaries"] = _run(
        f"""
        INSERT INTO vaccination_personvaccination (person_id, commune_id, birth_year,
            priority_group, doses, primary_vaccine_id, primary_doses, primary_complete,
            boosters, last_dose_on, next_earliest_on, next_due_on, reminded_for, updated_at)
        SELECT d.person_id, p.commune_id, p.birth_year, '', count(*),
               min(d.vaccine_id) FILTER (WHERE d.sequence = 1),
               count(*) FILTER (WHERE d.series = 'primary'), bool_or(d.completes_primary),
               count(*) FILTER (WHERE d.series = 'booster'), max(d.day), NULL, NULL, '', now()
          FROM vaccination_dose d JOIN people_person p ON p.id = d.person_id
         WHERE {in_range.replace("p.id", "d.person_id")} AND {in_range}
           AND NOT EXISTS (SELECT 1 FROM scale_vaccinated v WHERE v.id = d.person_id)
         GROUP BY d.person_id, p.commune_id, p.birth_year
        """
    )

    # -- pooled tests: appointments, tubes, samples, tube results, results ----------------
    site = context["site"]
    testing_round = TestingRound.objects.create(
        name=f"Scale round {lo}",
        area=site.commune,
        area_path=site.commune_path,
        starts_on=context["today"] - datetime.timedelta(days=60),
        ends_on=context["today"],
        created_by_id=context["sampler"],
        pool_size=POOL,
    )
    session = SamplingSession.objects.create(
        site=site, opened_by_id=context["sampler"], pool_size=POOL, status="closed"
    )
    shipment = Shipment.objects.create(
        session=session,
        site=site,
        lab_id=context["lab"],
        sent_by_id=context["sampler"],
        status="received",
    )
    tested = f"{in_range} AND {_h('p.id', 30)} % 100 < 5"
    _run(
        f"CREATE TEMPORARY TABLE scale_tested ON COMMIT DROP AS "
        f"SELECT p.id, p.commune_id, p.commune_path, "
        f"(row_number() OVER (ORDER BY p.id) - 1) / {POOL} AS tube "
        f"FROM people_person p WHERE {tested}",
        analyze="scale_tested",
    )
    made["appointments"] = _run(
        f"""
        INSERT INTO testing_appointment (uuid, code, person_id, kind, testing_round_id,
            status, created_at, updated_at)
        SELECT {_uuid("appointment", "t.id")}, {_code("t.id", 1_000_003)}, t.id, 'round',
               {testing_round.pk}, 'collected', now(), now()
          FROM scale_tested t
        ON CONFLICT DO NOTHING
        """,
        analyze="testing_appointment",
    )
    # A tube's day: within the last 60 days; results released 6 hours after sampling.
    tube_at = f"(now() - interval '6 hours' - ({_h(f'{lo}::bigint * 100000 + t.tube', 31)} % 60) * interval '1 day')"
    made["tubes"] = _run(
        f"""
        INSERT INTO testing_tube (uuid, barcode, session_id, site_id, test_type, capacity,
            member_count, status, shipment_id, lab_id, collected_at, closed_at, shipped_at,
            received_at, resulted_at)
        SELECT {_uuid("tube", f"{lo} || '-' || t.tube")}, 'SC' || {lo} || '-' || t.tube, {session.pk},
               {site.pk}, 'pcr', {POOL}, count(*), 'resulted', {shipment.pk}, {context["lab"]},
               {tube_at}, {tube_at}, {tube_at} + interval '1 hour',
               {tube_at} + interval '3 hours', {tube_at} + interval '6 hours'
          FROM scale_tested t
         GROUP BY t.tube
        """,
        analyze="testing_tube",
    )
    made["samples"] = _run(
        f"""
        INSERT INTO testing_sample (uuid, tube_id, person_id, appointment_id, status,
            collected_by_id, collected_at, removed_reason)
        SELECT {_uuid("sample", "t.id")}, tube.id, t.id, a.id, 'active', {context["sampler"]},
               tube.collected_at, ''
          FROM scale_tested t
          JOIN testing_tube tube ON tube.barcode = 'SC' || {lo} || '-' || t.tube
          LEFT JOIN testing_appointment a
            ON a.person_id = t.id AND a.testing_round_id = {testing_round.pk}
        """,
        analyze="testing_sample",
    )
    made["tube results"] = _run(
        f"""
        INSERT INTO testing_tuberesult (uuid, tube_id, lab_id, value, recorded_by_id,
            recorded_at, version)
        SELECT {_uuid("tuberesult", "tube.id")}, tube.id, {context["lab"]},
               CASE WHEN {_h("tube.id", 32)} % 100 < 2 THEN 'positive' ELSE 'negative' END,
               {context["technician"]}, tube.resulted_at, 1
          FROM testing_tube tube WHERE tube.shipment_id = {shipment.pk}
        """,
        analyze="testing_tuberesult",
    )
    made["results"] = _run(
        f"""
        INSERT INTO testing_result (uuid, sample_id, tube_result_id, person_id, outcome,
            test_type, pooled, site_id, collected_at, released_at, commune_id, commune_path,
            version, notified_version)
        SELECT {_uuid("result", "s.id")}, s.id, r.id, s.person_id,
               CASE r.value WHEN 'positive' THEN 'pool_positive' ELSE 'negative' END,
               'pcr', true, {site.pk}, s.collected_at, r.recorded_at, t.commune_id,
               t.commune_path, 1, 1
          FROM testing_sample s
          JOIN scale_tested t ON t.id = s.person_id
          JOIN testing_tuberesult r ON r.tube_id = s.tube_id
         WHERE s.tube_id IN (SELECT id FROM testing_tube WHERE shipment_id = {shipment.pk})
        """
    )
    _run("DROP TABLE scale_tested")

    # -- venues, declarations, check-ins --------------------------------------------------
    made["venues"] = _run(
        f"""
        INSERT INTO declarations_venue (uuid, code, name, kind, address_line, commune_id,
            commune_path, contact_name, contact_phone, owner_id, created_by_id, is_active,
            created_at, updated_at)
        SELECT {_uuid("venue", "p.id")}, {_code("p.id", 2_000_003)},
               'Cửa hàng ' || p.id, 'shop', p.address_line, p.commune_id, p.commune_path,
               p.full_name, u.phone, p.managed_by_id, p.managed_by_id, true, now(), now()
          FROM people_person p JOIN accounts_user u ON u.id = p.managed_by_id
         WHERE {in_range} AND p.relationship = 'self' AND {_h("p.id", 40)} % {VENUE_EVERY // 3} = 0
        ON CONFLICT DO NOTHING
        """,
        analyze="declarations_venue",
    )

    def when(salt: int) -> str:
        return f"(now() - ({_h('p.id', salt)} % (14 * 86400)) * interval '1 second')"

    made["declarations"] = _run(
        f"""
        INSERT INTO declarations_declaration (uuid, person_id, submitted_by_id, full_name,
            birth_year, phone, address_line, commune_id, commune_path, answers,
            has_symptoms, has_exposure, day, created_at)
        SELECT {_uuid("declaration", "p.id")}, p.id, p.managed_by_id, p.full_name,
               p.birth_year, u.phone, p.address_line, p.commune_id, p.commune_path,
               '{{"symptoms": [], "exposures": [], "vaccinated": false}}'::jsonb, false,
               false, ({when(41)} {local})::date, {when(41)}
          FROM people_person p JOIN accounts_user u ON u.id = p.managed_by_id
         WHERE {in_range} AND {_h("p.id", 42)} % 100 < 5
        """
    )
    made["check-ins"] = _run(
        f"""
        WITH v AS (SELECT array_agg(id ORDER BY id) AS ids FROM declarations_venue)
        INSERT INTO declarations_checkin (uuid, venue_id, person_id, checked_in_at,
            checked_out_at, method, recorded_by_id, day)
        SELECT {_uuid("checkin", "p.id")},
               v.ids[1 + ({_h("p.id", 43)} % cardinality(v.ids))::int], p.id,
               {when(44)}, NULL, 'self', NULL, ({when(44)} {local})::date
          FROM people_person p, v
         WHERE {in_range} AND {_h("p.id", 45)} % 100 < 25
        """
    )
    return made


@contextlib.contextmanager
def reniced_backend(level: int = 15) -> Any:
    """Lower the priority of this connection's PostgreSQL backend (a load on a shared
    machine), and put it back afterwards."""
    import os

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = int(cursor.fetchone()[0])
    before = os.getpriority(os.PRIO_PROCESS, pid)
    with contextlib.suppress(PermissionError, ProcessLookupError):
        os.setpriority(os.PRIO_PROCESS, pid, level)
    try:
        yield pid
    finally:
        with contextlib.suppress(PermissionError, ProcessLookupError):
            os.setpriority(os.PRIO_PROCESS, pid, before)
