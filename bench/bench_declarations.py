"""Declarations figures, beside bare Django views in the same run:

- declaration submit and venue check-in over HTTP (targets: ≥ 600 req/s, p99 ≤ 250 ms, and
  ≥ half the throughput of `/_bench/insert`, a bare view that inserts one row);
- exposure tracing for one confirmed case over 10 million check-ins (target ≤ 1 s),
  measured in-process after the check-ins are loaded with COPY.

The HTTP scenarios take citizens in turn (300 by default): each bearer token is used many
times, as in the foundation's "who am I" figure, so that the token's first-use bookkeeping
(two UPDATEs per token every 5 minutes, in accounts) is not what is measured.

    .venv/bin/python bench/bench_declarations.py [--checkins 10000000] [--citizens 2000]
        [--venues 5000] [--duration 10] [--connections 32] [--skip-tracing]
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Bench

TRACE_INDEXES = {
    "checkin_venue_time": "(venue_id, checked_in_at)",
    "checkin_person_time": "(person_id, checked_in_at)",
    "checkin_day": "(day)",
}


def build_citizens(bench: Bench, *, citizens: int, venues: int) -> dict[str, Any]:
    """Citizens with a bearer token and a person each; venues across the province."""
    bench.django_setup()
    from covidhub.accounts.models import User
    from covidhub.accounts.services import api_token_issue
    from covidhub.areas.models import Area
    from covidhub.core.text import fold_ascii, icao_transliterate
    from covidhub.declarations.models import Venue, venue_code_new
    from covidhub.people.models import Person

    communes = list(Area.objects.filter(level=Area.Level.COMMUNE).order_by("path"))
    home = Area.objects.get(level=Area.Level.COMMUNE, code="10507")
    users = User.objects.bulk_create(
        [
            User(username=f"bench-{i}", phone=f"+8491{i:07d}", kind=User.Kind.CITIZEN)
            for i in range(citizens)
        ],
        batch_size=2000,
    )
    name = "Nguyễn Văn Bench"
    people = Person.objects.bulk_create(
        [
            Person(
                full_name=name,
                search_name=fold_ascii(name),
                icao_name=icao_transliterate(name),
                birth_year=1980 + i % 30,
                sex="M" if i % 2 else "F",
                commune=home,
                commune_path=home.path,
                managed_by=user,
                relationship=Person.Relationship.SELF,
            )
            for i, user in enumerate(users)
        ],
        batch_size=2000,
    )
    owner = users[0]
    codes: set[str] = set()
    rows = []
    for i in range(venues):
        commune = communes[i % len(communes)]
        code = venue_code_new()
        while code in codes:
            code = venue_code_new()
        codes.add(code)
        rows.append(
            Venue(
                code=code,
                name=f"Địa điểm {i}",
                kind=Venue.Kind.SHOP,
                address_line="Phố Bench",
                commune=commune,
                commune_path=commune.path,
                contact_name="Bench",
                contact_phone="+84912000001",
                owner=owner,
                created_by=owner,
            )
        )
    created_venues = Venue.objects.bulk_create(rows, batch_size=2000)
    lines = []
    venue_codes = [v.code for v in created_venues]
    for i, (user, person) in enumerate(zip(users, people, strict=True)):
        token = api_token_issue(user=user, label="bench").token
        lines.append(f"{token} {person.uuid} {venue_codes[i % len(venue_codes)]}")
    data_file = bench.var_dir / "declarations-rows.txt"
    data_file.write_text("\n".join(lines) + "\n")
    os.environ["BENCH_DECLARATIONS_FILE"] = str(data_file)
    return {"people": people, "venues": created_venues}


def load_checkins(bench: Bench, *, total: int, days: int = 30) -> float:
    """`total` check-ins over the last `days` days by COPY, indexes rebuilt afterwards."""
    from django.db import connection
    from django.utils import timezone

    from covidhub.core.partitions import partitions_cover
    from covidhub.declarations.models import CheckIn, Venue
    from covidhub.people.models import Person

    started = time.perf_counter()
    person_ids = list(Person.objects.values_list("pk", flat=True))
    venue_ids = list(Venue.objects.values_list("pk", flat=True))
    hot = venue_ids[: max(1, len(venue_ids) // 100)]  # markets: 1 % of venues, 20 % of visits
    now = timezone.now()
    start = now - datetime.timedelta(days=days)
    span = int((now - start).total_seconds())
    table = CheckIn._meta.db_table
    # PostgreSQL: one partition a day (covidhub.core.partitions), as a deployment that has
    # run for `days` days has them; without them the rows would all sit in DEFAULT.
    partitions_cover(table, since=timezone.localdate(start), until=timezone.localdate(now))
    rng = random.Random(2021)
    with connection.cursor() as cursor:
        for index in TRACE_INDEXES:
            cursor.execute(f'DROP INDEX IF EXISTS "{index}"')
        cursor.execute("SET session_replication_role = replica")  # no FK triggers while loading
    raw = connection.connection
    assert raw is not None
    chunk = 200_000
    with raw.cursor() as cursor:
        written = 0
        while written < total:
            n = min(chunk, total - written)
            buffer = io.StringIO()
            for i in range(written, written + n):
                at = start + datetime.timedelta(seconds=rng.randrange(span))
                local_day = timezone.localdate(at)
                venue = rng.choice(hot) if rng.random() < 0.2 else rng.choice(venue_ids)
                buffer.write(
                    f"00000000-0000-4000-8000-{i:012x}\t{venue}\t{rng.choice(person_ids)}\t"
                    f"{at.isoformat()}\t\\N\tself\t\\N\t{local_day.isoformat()}\n"
                )
            with cursor.copy(
                f'COPY "{table}" (uuid, venue_id, person_id, checked_in_at, checked_out_at, '
                "method, recorded_by_id, day) FROM STDIN"
            ) as copy:
                copy.write(buffer.getvalue())
            written += n
        raw.commit()
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = DEFAULT")
        for index, columns in TRACE_INDEXES.items():
            cursor.execute(f'CREATE INDEX "{index}" ON "{table}" {columns}')
        cursor.execute(f'ANALYZE "{table}"')
    return time.perf_counter() - started


def time_tracing(*, runs: int = 7) -> dict[str, Any]:
    """A case who visited 12 venues (3 of them hot) in the infectious period."""
    from django.utils import timezone

    from covidhub.declarations.models import Case, CheckIn, Venue
    from covidhub.declarations.services import checkin_record, exposure_overlaps_find
    from covidhub.people.models import Person

    # A person of their own (a family member of the first citizen): the synthetic
    # check-ins are spread over the bench's few hundred citizens (thousands of visits
    # each), which no real case has; this one has exactly the 12 visits below.
    head = Person.objects.filter(relationship="self").order_by("pk").first()
    assert head is not None and head.managed_by is not None
    person = Person.objects.create(
        full_name="Nguyễn Thị Ca Bệnh",
        search_name="nguyen thi ca benh",
        icao_name="NGUYEN THI CA BENH",
        birth_year=1985,
        sex="F",
        commune=head.commune,
        commune_path=head.commune_path,
        managed_by=head.managed_by,
        relationship=Person.Relationship.SPOUSE,
    )
    venues = list(Venue.objects.order_by("pk")[:3]) + list(Venue.objects.order_by("-pk")[:9])
    now = timezone.now()
    for i, venue in enumerate(venues):
        checkin_record(
            actor=person.managed_by,
            venue=venue,
            people=[person],
            now=now - datetime.timedelta(hours=7 * i + 1),
        )
    case = Case.objects.create(
        person=person,
        commune_path=person.commune_path,
        onset_date=timezone.localdate() - datetime.timedelta(days=1),
        window_minutes=60,
        source=Case.Source.OFFICER,
    )
    times = []
    found = 0
    for _ in range(runs):
        started = time.perf_counter()
        found = len(exposure_overlaps_find(case=case))
        times.append(time.perf_counter() - started)
    return {
        "median_ms": statistics.median(times) * 1000,
        "max_ms": max(times) * 1000,
        "candidates": found,
        "visits": len(venues),
        "checkins": CheckIn.objects.count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkins", type=int, default=10_000_000)
    parser.add_argument("--citizens", type=int, default=300)
    parser.add_argument("--venues", type=int, default=5000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--skip-tracing", action="store_true")
    args = parser.parse_args()
    with Bench("declarations") as bench:
        build_citizens(bench, citizens=args.citizens, venues=args.venues)
        common = {"connections": args.connections, "duration": args.duration, "threads": 2}
        results = [
            bench.wrk(
                name="baseline: bare view that inserts one row",
                path="/_bench/insert",
                method="POST",
                **common,
            ),
            bench.wrk(
                name="declaration submit (API, bearer token)",
                path="/api/v1/declarations/declarations",
                lua="bench/lua/declarations_submit.lua",
                **common,
            ),
            bench.wrk(
                name="check-in by venue code (API, bearer token)",
                path="/api/v1/declarations/checkins",
                lua="bench/lua/declarations_checkin.lua",
                **common,
            ),
        ]
        notes: dict[str, Any] = {}
        baseline = results[0].requests_per_second
        for result in results[1:]:
            notes[f"{result.name}: share of the insert baseline"] = (
                f"{result.requests_per_second / baseline:.0%}" if baseline else "n/a"
            )
        if not args.skip_tracing:
            bench.stop()  # the load is over: give the machine to the loader
            seconds = load_checkins(bench, total=args.checkins)
            tracing = time_tracing()
            notes.update(
                {
                    "check-ins loaded (COPY, indexes rebuilt)": f"{tracing['checkins']:,} in {seconds:.0f} s",
                    "exposure tracing, one case (12 visits, 60-min window), median of 7": f"{tracing['median_ms']:.0f} ms (max {tracing['max_ms']:.0f} ms), {tracing['candidates']:,} candidates",
                }
            )
        bench.report(results, notes=notes)


if __name__ == "__main__":
    main()
