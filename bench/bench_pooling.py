"""PgBouncer in front of PostgreSQL, measured against the direct connection in the same run.

The same server, worker and data are driven three times, restarted between them with
another DATABASE_URL:

- direct: granian → PostgreSQL, statements prepared after 5 runs (DB_PREPARE_THRESHOLD);
- PgBouncer, transaction mode (DB_POOL_MODE=transaction: nothing prepared, no server-side
  cursors), with fewer server connections than the application holds (--pool-size);
- PgBouncer, session mode (statements prepared as direct; one server connection per
  client connection, so no multiplexing).

Scenarios in each: the bare views (`/_bench/select`, `/_bench/insert`, the baseline of
the run) and two hot paths, a check-in by venue code and a declaration (API, bearer
tokens, as bench_declarations.py). Reported: req/s, p50, p99, errors, and the server
connections PostgreSQL held for the bench database right after each scenario.

    .venv/bin/python bench/bench_pooling.py [--duration 10] [--connections 32]
        [--pool-size 4] [--citizens 300]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_declarations import build_citizens
from bench.harness import PG_BASE_URL, Bench, Result
from covidhub.core.tests.pooler import pgbouncer


def server_connections(bench: Bench) -> int:
    # The bench database's own connections (psql's runs in the same database: excluded).
    return int(
        bench.sql(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    )


def scenarios(bench: Bench, label: str, common: dict[str, Any]) -> list[Result]:
    runs = [
        ("baseline: bare view, one SELECT", {"path": "/_bench/select"}),
        ("baseline: bare view, one INSERT", {"path": "/_bench/insert", "method": "POST"}),
        (
            "check-in by venue code (API)",
            {"path": "/api/v1/declarations/checkins", "lua": "bench/lua/declarations_checkin.lua"},
        ),
        (
            "declaration submit (API)",
            {
                "path": "/api/v1/declarations/declarations",
                "lua": "bench/lua/declarations_submit.lua",
            },
        ),
    ]
    results = []
    for name, request in runs:
        result = bench.wrk(name=f"{label}: {name}", **request, **common)
        result.extra["server_connections"] = server_connections(bench)
        results.append(result)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--pool-size", type=int, default=4)
    parser.add_argument("--citizens", type=int, default=300)
    args = parser.parse_args()
    host_port = PG_BASE_URL.rsplit("@", 1)[-1]
    host, _, port = host_port.partition(":")
    with Bench("pooling") as bench:
        build_citizens(bench, citizens=args.citizens, venues=2000)
        bench.env["BENCH_DECLARATIONS_FILE"] = os.environ["BENCH_DECLARATIONS_FILE"]
        common = {"connections": args.connections, "duration": args.duration, "threads": 2}
        direct_url = bench.env["DATABASE_URL"]
        results: list[Result] = []
        notes: dict[str, Any] = {}

        bench.start()
        results += scenarios(bench, "direct", common)
        bench.stop()

        with pgbouncer(
            host=host, port=int(port or 5432), pool_mode="transaction", pool_size=args.pool_size
        ) as bouncer:
            bench.env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{bouncer}/{bench.database}"
            bench.env["DB_POOL_MODE"] = "transaction"
            bench.start()
            results += scenarios(bench, f"PgBouncer transaction (pool {args.pool_size})", common)
            bench.stop()

        with pgbouncer(
            host=host, port=int(port or 5432), pool_mode="session", pool_size=40
        ) as bouncer:
            bench.env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{bouncer}/{bench.database}"
            bench.env["DB_POOL_MODE"] = "session"
            bench.start()
            results += scenarios(bench, "PgBouncer session", common)
            bench.stop()

        bench.env["DATABASE_URL"] = direct_url
        bench.env.pop("DB_POOL_MODE", None)
        per_mode = len(results) // 3
        for offset, result in enumerate(results):
            direct = results[offset % per_mode]
            notes[f"{result.name}: server connections after"] = result.extra["server_connections"]
            if offset >= per_mode and direct.requests_per_second:
                notes[f"{result.name}: throughput vs direct"] = (
                    f"{result.requests_per_second / direct.requests_per_second:.0%}"
                )
        bench.report(results, notes=notes)


if __name__ == "__main__":
    main()
