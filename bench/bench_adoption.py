"""Adoption figures: the compliance report over 50,000 staff in 500 agencies (target
≤ 1 s on PostgreSQL), measured in-process (the selector alone) and over HTTP (the report
page, the XLSX export, the API), beside bare Django views in the same run.

    .venv/bin/python bench/bench_adoption.py [--staff 50000] [--agencies 500] [--duration 10]
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Bench


def build(bench: Bench, *, staff: int, agencies: int) -> dict[str, Any]:
    """500 agencies (50 at the top, 9 units under each) and their rosters, matched to the
    synthetic province's people; a third of the staff have an account, a sixth used it
    this week; a snapshot a week ago for the change column."""
    bench.django_setup()
    from django.contrib.sessions.backends.base import SessionBase
    from django.utils import timezone
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from covidhub.accounts.models import Role, User
    from covidhub.accounts.services import role_assign
    from covidhub.adoption.models import Agency, RosterMember
    from covidhub.adoption.services import (
        adoption_snapshot_take,
        agency_create,
        roster_members_match,
    )
    from covidhub.areas.models import Area
    from covidhub.people.models import Person

    province = Area.objects.get(level=1)
    districts = list(Area.objects.filter(level=2).order_by("path"))
    tops = max(1, agencies // 10)
    created: list[Agency] = []
    for t in range(tops):
        top = agency_create(
            actor=None,
            name=f"Cơ quan {t + 1}",
            kind="department" if t % 2 else "district_committee",
            area=province if t % 2 else districts[t % len(districts)],
        )
        created.append(top)
        for c in range(agencies // tops - 1):
            created.append(
                agency_create(
                    actor=None,
                    name=f"Đơn vị {t + 1}.{c + 1}",
                    kind="public_service",
                    area=top.area,
                    parent=top,
                )
            )
    people = list(
        Person.objects.exclude(id_number="")
        .order_by("pk")
        .values_list("id_type", "id_number", "phone", "full_name", "birth_year")[:staff]
    )
    now = timezone.now()
    per_agency = staff // len(created)
    rows = []
    for index in range(staff):
        agency = created[min(index // per_agency, len(created) - 1)]
        if index < len(people):
            id_type, id_number, phone, name, year = people[index]
        else:
            id_type, id_number, phone, name, year = "cccd", f"0990{index:08d}", "", "Cán bộ", 1980
        rows.append(
            RosterMember(
                agency=agency,
                match_key=f"id:{id_number}",
                full_name=name,
                birth_year=year,
                id_type=id_type,
                id_number=id_number,
                phone=phone,
                joined_at=now,
            )
        )
    RosterMember.objects.bulk_create(rows, batch_size=5000)
    started = time.perf_counter()
    roster_members_match()
    match_seconds = time.perf_counter() - started
    accounts = list(
        RosterMember.objects.filter(account__isnull=False).values_list("account_id", flat=True)
    )
    User.objects.filter(pk__in=accounts[::2]).update(last_seen_at=now - datetime.timedelta(days=2))
    RosterMember.objects.filter(account_id__in=accounts[1::3]).update(account=None)
    adoption_snapshot_take(day=timezone.localdate() - datetime.timedelta(days=7))
    adoption_snapshot_take()

    admin = User.objects.create(username="bench-admin", kind="staff")
    device = TOTPDevice.objects.create(user=admin, name="bench", confirmed=True)
    role_assign(user=admin, role=Role.ADMINISTRATOR, area=province)
    from importlib import import_module

    from django.conf import settings

    store: SessionBase = import_module(settings.SESSION_ENGINE).SessionStore()
    store["_auth_user_id"] = str(admin.pk)
    store["_auth_user_backend"] = "covidhub.accounts.backends.CachedModelBackend"
    store["_auth_user_hash"] = admin.get_session_auth_hash()
    store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store.save()
    return {
        "admin": admin,
        "cookie": f"sessionid={store.session_key}",
        "match_seconds": match_seconds,
        "members": RosterMember.objects.count(),
        "agencies": Agency.objects.count(),
        "with_account": RosterMember.objects.filter(account__isnull=False).count(),
    }


def time_in_process(admin: Any, runs: int = 7) -> dict[str, float]:
    from covidhub.adoption.exports import adoption_export_xlsx
    from covidhub.adoption.selectors import adoption_report, adoption_report_by_area

    def median(fn: Any) -> float:
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
        return statistics.median(times) * 1000

    return {
        "report by agency (selector)": median(lambda: adoption_report(actor=admin)),
        "report by area (selector)": median(lambda: adoption_report_by_area(actor=admin)),
        "report + XLSX export": median(
            lambda: adoption_export_xlsx(
                rows=adoption_report(actor=admin), day=datetime.date(2021, 8, 17), title="bench"
            )
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--staff", type=int, default=50_000)
    parser.add_argument("--agencies", type=int, default=500)
    parser.add_argument("--people", type=int, default=60_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()
    with Bench("adoption") as bench:
        bench.seed(args.people)
        built = build(bench, staff=args.staff, agencies=args.agencies)
        bench.sql("VACUUM ANALYZE")  # what autovacuum does after a bulk load
        in_process = time_in_process(built["admin"])
        headers = {"Cookie": built["cookie"]}
        common = {"connections": args.connections, "duration": args.duration, "threads": 2}
        # One head reading the report: the latency the ≤ 1 s target is about.
        single = {"connections": 1, "duration": args.duration, "threads": 1}
        results = [
            bench.wrk(name="baseline: bare Django view (GET)", path="/_bench/noop", **common),
            bench.wrk(name="baseline: bare view with a SELECT", path="/_bench/select", **common),
            bench.wrk(
                name="baseline: bare Django view, 1 connection", path="/_bench/noop", **single
            ),
            bench.wrk(
                name=f"report API over {built['members']:,} staff / {built['agencies']} agencies, 1 connection",
                path="/api/v1/adoption/report?limit=100",
                headers=headers,
                **single,
            ),
            bench.wrk(
                name="report XLSX export, 1 connection",
                path="/staff/adoption/export.xlsx",
                headers=headers,
                **single,
            ),
            bench.wrk(
                name=f"report API, {args.connections} connections",
                path="/api/v1/adoption/report?limit=100",
                headers=headers,
                **common,
            ),
            bench.wrk(
                name="report page (HTML)", path="/staff/adoption/", headers=headers, **common
            ),
            bench.wrk(
                name="report export (XLSX)",
                path="/staff/adoption/export.xlsx",
                headers=headers,
                **common,
            ),
        ]
        bench.report(
            results,
            notes={
                **{f"in-process, median of 7: {k}": f"{v:.0f} ms" for k, v in in_process.items()},
                "roster members matched (set-based UPDATE)": f"{built['members']:,} in {built['match_seconds']:.2f} s",
                "members with an account": f"{built['with_account']:,}",
            },
        )


if __name__ == "__main__":
    main()
