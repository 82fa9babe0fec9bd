"""Home-care figures beside a bare Django view in the same run:

- self-check submission over HTTP (bearer token, a new client key each time) against
  `/_bench/insert`, a bare view that inserts one row (target: ≥ 50 % of its throughput);
- self-checks that all carry a warning sign: the alert and its SMS rows are written in the
  check's own transaction, so an alert is on the station's list when the response returns;
  its p99 is the time from submission to the alert and the SMS outbox row (target ≤ 1 s at
  the morning wave's rate: 100,000 people in an hour is ~28/s, paced here by a delay on
  each of 8 connections; also shown as fast as the server answers, 32 connections), and
  the bench checks that every warning check has its alert and SMS;
- the station's list (`/api/v1/homecare/station`, the API's first page) of a commune with
  20,000 people under care, read by the district officer (target p99 ≤ 500 ms) at the
  run's connections (32) and at a station's own few readers (4); and a page of 50, the
  staff page's, at 32.

    .venv/bin/python bench/bench_homecare.py [--households 300] [--under-care 20000]
        [--duration 10] [--connections 32]
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Bench

HOME = "10507"
# A page of the station's list as the staff page shows it (the API's own page is smaller).
STATION_PAGE = 50
# A station's own readers at once: its few officers on duty, their district's supervisor.
STATION_READERS = 4


def build(bench: Bench, *, households: int, under_care: int) -> dict[str, Any]:
    """Households with a bearer token and an open F0 order each, `under_care` more people
    under care in the home commune, an on-duty officer and a district officer's token."""
    bench.django_setup()
    from django.utils import timezone

    from covidhub.accounts.models import Role, RoleAssignment, User
    from covidhub.accounts.services import api_token_issue
    from covidhub.areas.models import Area
    from covidhub.core.text import fold_ascii, icao_transliterate
    from covidhub.homecare.models import CareOrder, StationDuty
    from covidhub.homecare.protocol import protocol_active
    from covidhub.people.models import Person

    home = Area.objects.get(level=Area.Level.COMMUNE, code=HOME)
    district = home.parent
    protocol = protocol_active()
    today = timezone.localdate()
    users = User.objects.bulk_create(
        [
            User(username=f"hc-bench-{i}", phone=f"+8492{i:07d}", kind=User.Kind.CITIZEN)
            for i in range(households)
        ],
        batch_size=2000,
    )
    name = "Nguyễn Văn Theo Dõi"

    def person(i: int, user: Any = None) -> Person:
        return Person(
            full_name=name,
            search_name=fold_ascii(name),
            icao_name=icao_transliterate(name),
            birth_year=1960 + i % 40,
            sex="M" if i % 2 else "F",
            commune=home,
            commune_path=home.path,
            phone=f"+8493{i:07d}",
            managed_by=user,
            relationship=Person.Relationship.SELF if user else "",
        )

    people = Person.objects.bulk_create(
        [person(i, user) for i, user in enumerate(users)]
        + [person(households + i) for i in range(under_care)],
        batch_size=2000,
    )

    def order(i: int, p: Person) -> CareOrder:
        start = today - datetime.timedelta(days=i % 9)
        return CareOrder(
            person=p,
            kind=CareOrder.Kind.HOME_CARE if i % 4 else CareOrder.Kind.QUARANTINE,
            source=CareOrder.Source.TESTING,
            protocol=protocol,
            commune=home,
            commune_path=home.path,
            start_date=start,
            onset_date=start,
            planned_end=start + datetime.timedelta(days=10),
            risk=1 + i % 3,
            last_check_at=timezone.now() - datetime.timedelta(hours=i % 30),
        )

    orders = CareOrder.objects.bulk_create(
        [order(i, p) for i, p in enumerate(people)], batch_size=2000
    )
    lines = [
        f"{api_token_issue(user=user, label='bench').token} {o.uuid}"
        for user, o in zip(users, orders[:households], strict=True)
    ]
    data_file = bench.var_dir / "homecare-rows.txt"
    data_file.write_text("\n".join(lines) + "\n")
    os.environ["BENCH_HOMECARE_FILE"] = str(data_file)
    duty = User.objects.create(username="hc-duty", kind=User.Kind.STAFF, phone="+84912000555")
    RoleAssignment.objects.create(user=duty, role=Role.COMMUNE_OFFICER, area=home)
    StationDuty.objects.create(commune=home, commune_path=home.path, user=duty)
    officer = User.objects.create(username="hc-district", kind=User.Kind.STAFF)
    RoleAssignment.objects.create(user=officer, role=Role.DISTRICT_OFFICER, area=district)
    return {
        "token": api_token_issue(user=officer, label="bench").token,
        "under_care": CareOrder.objects.filter(commune=home, status="open").count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=300)
    parser.add_argument("--under-care", type=int, default=20_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    with Bench("homecare") as bench:
        bench.seed(2000)
        built = build(bench, households=args.households, under_care=args.under_care)
        common = {"connections": args.connections, "duration": args.duration, "threads": 2}
        from django.conf import settings
        from django.utils import timezone

        from covidhub.homecare.models import CareAlert, SelfCheck
        from covidhub.notifications.models import Message

        # The demo province's own warning check and alert (seeded before the station's
        # on-duty list with a phone existed) are not the bench's: count from here.
        started = timezone.now()
        baseline = bench.wrk(
            name="baseline: bare view that inserts one row",
            path="/_bench/insert",
            method="POST",
            **common,
        )
        submit = bench.wrk(
            name="self-check submit (API, bearer token, new client key)",
            path="/api/v1/homecare/orders",
            lua="bench/lua/homecare_check.lua",
            **common,
        )
        os.environ["BENCH_HOMECARE_SPO2"] = "92"
        warnings = bench.wrk(
            name="self-check with a warning sign: alert + SMS outbox in its transaction",
            path="/api/v1/homecare/orders",
            lua="bench/lua/homecare_check.lua",
            **common,
        )
        # Each scenario on its own: the worker first delivers the SMS of the run before
        # (one task per alert), as it does between a morning wave's checks.
        settled = {"before the paced warning checks": bench.worker_settle()}
        os.environ["BENCH_HOMECARE_DELAY_MS"] = "250"
        paced = bench.wrk(
            name="warning checks at the morning wave's rate (8 connections, paced ~28/s)",
            path="/api/v1/homecare/orders",
            lua="bench/lua/homecare_check.lua",
            **{**common, "connections": 8},
        )
        del os.environ["BENCH_HOMECARE_DELAY_MS"]
        settled["before the station list"] = bench.worker_settle()
        station_path = f"/api/v1/homecare/station?commune={HOME}"
        station_auth = {"Authorization": f"Bearer {built['token']}"}
        station = bench.wrk(
            name=(
                f"station list, the API's page ({settings.NINJA_PAGINATION_PER_PAGE}) of "
                f"{built['under_care']:,} people under care (district officer)"
            ),
            path=station_path,
            headers=station_auth,
            **common,
        )
        station_few = bench.wrk(
            name=f"station list, the same page, {STATION_READERS} readers",
            path=station_path,
            headers=station_auth,
            **{**common, "connections": STATION_READERS},
        )
        station_web = bench.wrk(
            name=f"station list, a page of {STATION_PAGE} (as the staff page shows it)",
            path=f"{station_path}&limit={STATION_PAGE}",
            headers=station_auth,
            **common,
        )
        warned = SelfCheck.objects.filter(created_at__gte=started).exclude(warning_signs=[]).count()
        alerts = CareAlert.objects.filter(created_at__gte=started).count()
        sms = Message.objects.filter(
            channel="sms", dedupe_key__startswith="homecare:alert:", created_at__gte=started
        ).count()
        bench.report(
            [baseline, submit, warnings, paced, station, station_few, station_web],
            notes={
                "self-check / insert baseline (target ≥ 50 %)": (
                    f"{submit.requests_per_second / baseline.requests_per_second:.0%}"
                    if baseline.requests_per_second
                    else "n/a"
                ),
                "warning checks, alerts, SMS queued (must be equal)": f"{warned}, {alerts}, {sms}",
                "submission → alert and SMS outbox, p99 at ~28/s (target ≤ 1 s)": (
                    f"{paced.p99_ms:.0f} ms at {paced.requests_per_second:.0f}/s"
                ),
                "submission → alert and SMS outbox, p99 saturated (32 connections)": (
                    f"{warnings.p99_ms:.0f} ms"
                ),
                "seconds waited for the worker's SMS backlog": ", ".join(
                    f"{seconds} {when}" for when, seconds in settled.items()
                ),
                "station list p99 (target ≤ 500 ms)": (
                    f"{station.p99_ms:.0f} ms at {args.connections} connections, "
                    f"{station_few.p99_ms:.0f} ms at {STATION_READERS}; a page of "
                    f"{STATION_PAGE}: {station_web.p99_ms:.0f} ms at {args.connections}"
                ),
            },
        )


if __name__ == "__main__":
    main()
