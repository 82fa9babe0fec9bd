"""Portal figures: the public home page and the open-data files served from cache, beside
a bare Django view in the same run; and the full statistics rollup at province scale.

    .venv/bin/python bench/bench_portal.py [--people 2000000] [--tests 5000000]
                                           [--doses 3000000] [--duration 10]

The testing and vaccination apps' tables may not exist yet, so the rollup runs over a
synthetic daily-count source registered for the bench: two bench-only tables filled in
PostgreSQL (5 million test results with a positive flag, 3 million doses with the stage
they complete), counted by day × commune in SQL exactly as a capability's selector would.
The population denominators are the synthetic province's people (seed_demo).

The cached scenarios are answered by the portal's WSGI fast path when config/wsgi.py wraps
the application with it (the report says whether it did).
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
import urllib.request
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Bench

DAYS = 365
# The synthetic year ends today, so that the pages show it as the latest figures.
TODAY = datetime.datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
FIRST_DAY = TODAY - datetime.timedelta(days=DAYS - 1)


def fill_events(bench: Bench, tests: int, doses: int) -> float:
    """Bench-only tables of test results and doses, spread over a year and the communes."""
    started = time.perf_counter()
    bench.sql(
        f"""
        DROP TABLE IF EXISTS bench_portal_tests, bench_portal_doses;
        CREATE UNLOGGED TABLE bench_portal_tests (day date, commune_id bigint, positive boolean);
        CREATE UNLOGGED TABLE bench_portal_doses (day date, commune_id bigint, stage smallint);
        WITH c AS (SELECT array_agg(id ORDER BY id) AS ids, count(*) AS n
                   FROM areas_area WHERE level = 3 AND dissolved_on IS NULL)
        INSERT INTO bench_portal_tests
        SELECT DATE '{FIRST_DAY}' + (g % {DAYS}),
               c.ids[1 + (hashint4(g) & 2147483647) % c.n],
               (hashint4(g + 7) & 1023) < 25
        FROM generate_series(1, {tests}) g, c;
        WITH c AS (SELECT array_agg(id ORDER BY id) AS ids, count(*) AS n
                   FROM areas_area WHERE level = 3 AND dissolved_on IS NULL)
        INSERT INTO bench_portal_doses
        SELECT DATE '{FIRST_DAY}' + (g % {DAYS}),
               c.ids[1 + (hashint4(g) & 2147483647) % c.n],
               (hashint4(g + 3) & 3)::smallint
        FROM generate_series(1, {doses}) g, c;
        ANALYZE bench_portal_tests; ANALYZE bench_portal_doses;
        """  # noqa: S608 - integers and a date of this script, no input
    )
    return time.perf_counter() - started


def register_bench_source() -> None:
    from django.db import connection

    from covidhub.core.metrics import DailyCount, register_daily_counts

    def tests_source(since, until):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT day, commune_id, count(*), count(*) FILTER (WHERE positive) "
                "FROM bench_portal_tests WHERE day BETWEEN %s AND %s GROUP BY 1, 2",
                [since, until],
            )
            for day, commune, total, positive in cursor.fetchall():
                yield DailyCount(day, commune, "tests", total)
                if positive:
                    yield DailyCount(day, commune, "positives", positive)

    def doses_source(since, until):
        # stage 0: a dose that completes nothing new; 1: first dose; 2: series; 3: booster
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT day, commune_id, count(*), count(*) FILTER (WHERE stage = 1), "
                "count(*) FILTER (WHERE stage = 2), count(*) FILTER (WHERE stage = 3) "
                "FROM bench_portal_doses WHERE day BETWEEN %s AND %s GROUP BY 1, 2",
                [since, until],
            )
            for day, commune, total, first, full, booster in cursor.fetchall():
                yield DailyCount(day, commune, "doses", total)
                for metric, value in (
                    ("doses_dose1", first),
                    ("doses_full", full),
                    ("doses_booster", booster),
                ):
                    if value:
                        yield DailyCount(day, commune, metric, value)

    register_daily_counts("bench.tests", tests_source)
    register_daily_counts("bench.doses", doses_source)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=2_000_000)
    parser.add_argument("--tests", type=int, default=5_000_000)
    parser.add_argument("--doses", type=int, default=3_000_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    # No task worker: its scheduled full rollup would recompute the figures from the real
    # (empty) sources in the middle of the run; the rollup is measured here in-process.
    with Bench("portal", worker=False) as bench:
        started = time.perf_counter()
        bench.seed(args.people)
        seed_seconds = time.perf_counter() - started
        fill_seconds = fill_events(bench, args.tests, args.doses)

        bench.django_setup()
        from covidhub.core import metrics
        from covidhub.portal.rollup import stats_rollup

        metrics._sources.clear()  # only the synthetic source (other apps' tables are empty)
        register_bench_source()
        until = FIRST_DAY + datetime.timedelta(days=DAYS - 1)  # today
        result = stats_rollup(since=datetime.date(2020, 1, 1), until=until)
        second = stats_rollup(since=datetime.date(2020, 1, 1), until=until)
        recent = stats_rollup(since=until - datetime.timedelta(days=2), until=until)
        from config import wsgi as served  # what granian serves (config.wsgi:application)
        from covidhub.portal.wsgi import PortalFastPath

        fast_path = isinstance(served.application, PortalFastPath)
        people = int(bench.sql("SELECT count(*) FROM people_person"))
        cells = int(bench.sql("SELECT count(*) FROM portal_statcell"))
        suppressed = int(bench.sql("SELECT count(*) FROM portal_statcell WHERE shown IS NULL"))

        load_before = Path("/proc/loadavg").read_text().split()[0]
        common = {"connections": args.connections, "duration": args.duration, "threads": 2}
        gzip_ok = {"Accept-Encoding": "gzip"}
        results = [
            bench.wrk(name="baseline: bare Django view (GET)", path="/_bench/noop", **common),
            bench.wrk(name="portal home page /portal/ (cached)", path="/portal/", **common),
            bench.wrk(
                name="open data: province, last 28 days CSV (cached)",
                path="/portal/data/daily/30/recent.csv",
                **common,
            ),
            bench.wrk(
                name="open data: province, last 28 days JSON (cached)",
                path="/portal/data/daily/30/recent.json",
                **common,
            ),
            bench.wrk(
                name="open data: key figures summary.json (cached)",
                path="/portal/data/summary.json",
                **common,
            ),
            bench.wrk(
                name="open data: province, every day CSV, gzip (cached)",
                path="/portal/data/daily/30.csv",
                headers=gzip_ok,
                **common,
            ),
            bench.wrk(
                name="open data: province, every day JSON, gzip (cached)",
                path="/portal/data/daily/30.json",
                headers=gzip_ok,
                **common,
            ),
            bench.wrk(
                name="open data: province, every day CSV, uncompressed (cached)",
                path="/portal/data/daily/30.csv",
                **common,
            ),
            bench.wrk(name="district page (cached)", path="/portal/districts/288/", **common),
            bench.wrk(name="chart SVG (cached)", path="/portal/charts/1/30/tests.vi.svg", **common),
        ]
        with urllib.request.urlopen(f"{bench.url}/portal/data/daily/30.csv") as response:
            csv_size = len(response.read())
        bench.report(
            results,
            notes={
                "full rollup (all days since 2020-01-01, first run)": f"{result.seconds:.1f} s, "
                f"{result.cells:,} cells",
                "full rollup (second run, replaces every cell)": f"{second.seconds:.1f} s",
                "hourly rollup (last 3 days)": f"{recent.seconds:.2f} s",
                "rollup input": f"{args.tests:,} test results and {args.doses:,} doses in bench-only "
                f"tables (filled in {fill_seconds:.0f} s), counted by a registered synthetic source; "
                f"population from {people:,} people (seed_demo took {seed_seconds:.0f} s)",
                "published cells": f"{cells:,}, of which {suppressed:,} suppressed",
                "province CSV size (every day)": f"{csv_size / 1024:.0f} KiB",
                "portal fast path (covidhub/portal/wsgi.py) in config/wsgi.py": "on"
                if fast_path
                else "off",
                "load average before the HTTP runs": load_before,
            },
        )


if __name__ == "__main__":
    main()
