"""Province figures as provinces are added: one deployment serving 1, then several
provinces, each with the same volume of synthetic test results and doses.

    .venv/bin/python bench/bench_provinces.py [--provinces 30,01,31,33] [--tests 400000]
                                              [--doses 300000] [--days 120] [--repeat 15]

The database holds the served provinces' real areas (vietnam-provinces, the official
codes). First only the first province has events; the rollup runs and the first
province's figures are read (its portal page as built uncached, its open-data file, its
districts' rows); then every other province gets the same volume of events, the rollup runs
again and the same figures are read again. The first province's reads must not grow with
the others' data: they are index-bound on the area (the plans are checked for a sequential
scan of the statistics table). The rollup itself is the whole deployment's job: its time
is reported in total and per province.

Baseline in the same run, timed the same way: one area row by primary key (an index
look-up through the ORM) and the CPU probe of the harness. The bench-only event tables are
those of bench_portal.py (counted by day × commune in SQL as a capability's selector does).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_portal import FIRST_DAY, TODAY, register_bench_source
from bench.harness import PG_BASE_URL, Bench, Result


def fill_province(bench: Bench, code: str, tests: int, doses: int, days: int) -> float:
    """Events of one province's communes (bench_portal's tables, created on first use)."""
    started = time.perf_counter()
    first = TODAY.toordinal() - days + 1
    first_day = FIRST_DAY.fromordinal(first)
    bench.sql(
        f"""
        CREATE UNLOGGED TABLE IF NOT EXISTS bench_portal_tests
            (day date, commune_id bigint, positive boolean);
        CREATE UNLOGGED TABLE IF NOT EXISTS bench_portal_doses
            (day date, commune_id bigint, stage smallint);
        WITH c AS (SELECT array_agg(id ORDER BY id) AS ids, count(*) AS n
                   FROM areas_area WHERE level = 3 AND dissolved_on IS NULL
                   AND path LIKE '{code}/%')
        INSERT INTO bench_portal_tests
        SELECT DATE '{first_day}' + (g % {days}),
               c.ids[1 + (hashint4(g) & 2147483647) % c.n],
               (hashint4(g + 7) & 1023) < 25
        FROM generate_series(1, {tests}) g, c;
        WITH c AS (SELECT array_agg(id ORDER BY id) AS ids, count(*) AS n
                   FROM areas_area WHERE level = 3 AND dissolved_on IS NULL
                   AND path LIKE '{code}/%')
        INSERT INTO bench_portal_doses
        SELECT DATE '{first_day}' + (g % {days}),
               c.ids[1 + (hashint4(g) & 2147483647) % c.n],
               (hashint4(g + 3) & 3)::smallint
        FROM generate_series(1, {doses}) g, c;
        ANALYZE bench_portal_tests; ANALYZE bench_portal_doses;
        """  # noqa: S608 - a two-digit code and integers of this script, no input
    )
    return time.perf_counter() - started


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Median and worst milliseconds of `repeat` calls (after one warm-up call)."""
    fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), max(samples)


def seq_scans_of_statcell(fn: Callable[[], Any]) -> int:
    """How many of the queries `fn` runs read the statistics table by a sequential scan."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn()
    found = 0
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            sql = query["sql"]
            if "portal_statcell" not in sql or not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            if "Seq Scan on portal_statcell" in plan:
                found += 1
    return found


def measure(label: str, code: str, repeat: int) -> tuple[list[Result], dict[str, Any]]:
    from covidhub.areas.models import Area
    from covidhub.portal import opendata, stats_pages
    from covidhub.portal.models import StatCell

    province = Area.objects.get(level=Area.Level.PROVINCE, code=code)
    areas = opendata.scope_areas(code)

    def page() -> None:
        stats_pages.stats_context(area=province, language="vi")

    def data_file() -> None:
        opendata.daily_json(areas, recent=True)

    def baseline() -> None:
        Area.objects.filter(pk=province.pk).first()

    rows = []
    for name, fn in (
        ("baseline: one area by primary key", baseline),
        (f"province {code}: portal page figures (uncached build)", page),
        (f"province {code}: open data, last 28 days (uncached build)", data_file),
    ):
        median, worst = timed(fn, repeat)
        rows.append(
            Result(
                f"{label} · {name}",
                1000 / median if median else 0.0,
                median,
                worst,
                repeat,
                0,
                0.0,
                1,
            )
        )
    notes = {
        f"{label}: statistics cells in the database": StatCell.objects.count(),
        f"{label}: cells of province {code}'s subtree": StatCell.objects.filter(
            area__path__startswith=province.path
        ).count(),
        f"{label}: sequential scans of the statistics table (page + data file)": (
            seq_scans_of_statcell(page) + seq_scans_of_statcell(data_file)
        ),
    }
    return rows, notes


def rollup(label: str, provinces: int) -> tuple[Result, dict[str, Any]]:
    from covidhub.portal.rollup import stats_rollup, stats_rollup_recent

    started = time.perf_counter()
    full = stats_rollup(since=FIRST_DAY.fromordinal(TODAY.toordinal() - 400), until=TODAY)
    full_seconds = time.perf_counter() - started
    started = time.perf_counter()
    stats_rollup_recent()
    recent_ms = (time.perf_counter() - started) * 1000
    result = Result(
        f"{label} · hourly rollup (last 3 days, whole deployment)",
        1000 / recent_ms,
        recent_ms,
        recent_ms,
        1,
        0,
        round(recent_ms / 1000, 2),
        1,
    )
    return result, {
        f"{label}: full rollup": f"{full.cells:,} cells in {full_seconds:.1f} s "
        f"({full_seconds / provinces:.1f} s per province)",
        f"{label}: hourly rollup per province": f"{recent_ms / provinces:.0f} ms",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--provinces", default="30,01,31,33")
    parser.add_argument("--tests", type=int, default=400_000, help="test results per province")
    parser.add_argument("--doses", type=int, default=300_000, help="doses per province")
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--database", default="", help="instead of covidhub_bench_provinces")
    args = parser.parse_args()
    codes = [c.strip() for c in args.provinces.split(",") if c.strip()]
    bench = Bench("provinces", worker=False)
    bench.env["COVIDHUB_PROVINCES"] = ",".join(codes)
    if args.database:
        bench.database = args.database
        bench.env["DATABASE_URL"] = f"{PG_BASE_URL}/{args.database}"
    with bench:
        bench.django_setup()
        register_bench_source()
        from covidhub.areas.models import Area

        results: list[Result] = []
        notes: dict[str, Any] = {
            "served provinces": ", ".join(codes),
            "communes loaded": Area.objects.filter(level=Area.Level.COMMUNE).count(),
            "events per province": f"{args.tests:,} test results, {args.doses:,} doses over "
            f"{args.days} days",
        }
        home = codes[0]
        seconds = fill_province(bench, home, args.tests, args.doses, args.days)
        notes["fill, one province"] = f"{seconds:.1f} s"
        label = "1 province of data"
        result, more = rollup(label, 1)
        notes.update(more)
        rows, more = measure(label, home, args.repeat)
        results += [rows[0], result, *rows[1:]]
        notes.update(more)
        for code in codes[1:]:
            fill_province(bench, code, args.tests, args.doses, args.days)
        label = f"{len(codes)} provinces of data"
        result, more = rollup(label, len(codes))
        notes.update(more)
        rows, more = measure(label, home, args.repeat)
        results += [rows[0], result, *rows[1:]]
        notes.update(more)
        for code in codes[1:]:
            rows, _more = measure(label, code, max(3, args.repeat // 3))
            results += rows[1:]
        bench.report(results, notes=notes)


if __name__ == "__main__":
    main()
