"""Foundation figures: sign-in (code request, code → token), "who am I", and the speed
of the synthetic-province generator, each beside a bare Django view in the same run.

    .venv/bin/python bench/bench_foundation.py [--people 2000000] [--duration 10]
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Bench

CODE = "246810"
PER_THREAD = 60_000


def prepare_codes_and_tokens(bench: Bench, threads: int) -> Path:
    """Waiting codes for the verify run and tokens for "who am I", made in-process."""
    bench.django_setup()
    from django.utils import timezone

    from covidhub.accounts.models import PhoneCode, User
    from covidhub.accounts.services import _code_hash, api_token_issue

    expires = timezone.now() + datetime.timedelta(hours=2)
    rows = []
    for tid in range(threads):
        for offset in (0, 500_000):
            for n in range(1, PER_THREAD + 1):
                phone = f"+8496{tid * 1_000_000 + offset + n:07d}"
                rows.append(
                    PhoneCode(phone=phone, code_hash=_code_hash(phone, CODE), expires_at=expires)
                )
    PhoneCode.objects.bulk_create(rows, batch_size=5000)
    tokens = []
    for user in User.objects.filter(kind="citizen").order_by("id")[:200]:
        tokens.append(api_token_issue(user=user, label="bench").token)
    path = bench.var_dir / "tokens.txt"
    path.write_text("\n".join(tokens) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=2_000_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    threads = 2
    with Bench("foundation") as bench:
        started = time.perf_counter()
        seed_output = bench.seed(args.people)
        seed_seconds = time.perf_counter() - started
        people = int(bench.sql("SELECT count(*) FROM people_person"))
        tokens_file = prepare_codes_and_tokens(bench, threads)
        bench.env["BENCH_TOKENS_FILE"] = str(tokens_file)
        os.environ["BENCH_TOKENS_FILE"] = str(tokens_file)
        common = {"connections": args.connections, "duration": args.duration, "threads": threads}
        results = [
            bench.wrk(name="baseline: bare Django view (GET)", path="/_bench/noop", **common),
            bench.wrk(
                name="baseline: bare view inserting a row (POST)",
                path="/_bench/insert",
                method="POST",
                **common,
            ),
            bench.wrk(
                name="sign-in: request a code (POST /auth/code)",
                path="/api/v1/auth/code",
                lua="bench/lua/foundation_code_request.lua",
                ok_statuses=(202,),
                **common,
            ),
            bench.wrk(
                name="sign-in: code → token (POST /auth/token)",
                path="/api/v1/auth/token",
                lua="bench/lua/foundation_code_verify.lua",
                ok_statuses=(201,),
                **common,
            ),
            bench.wrk(
                name="who am I (GET /me, bearer token)",
                path="/api/v1/me",
                lua="bench/lua/foundation_whoami.lua",
                **common,
            ),
        ]
        outbox = bench.sql("SELECT count(*) FROM notifications_message")
        bench.report(
            results,
            notes={
                "synthetic province": f"{people:,} people in the database; seed_demo took {seed_seconds:.1f} s in all "
                f"({seed_output.strip().splitlines()[0] if seed_output.strip() else ''})",
                "sign-in codes queued in the outbox during the run": outbox,
            },
        )


if __name__ == "__main__":
    main()
