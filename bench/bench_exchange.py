"""The exchange outbox draining into the national-system double, beside its baseline in the
same run: the same Bundles POSTed bare (built beforehand, no outbox, no database).

- outbox: doses and results queued as `ExchangeRecord` rows; `exchange_drain` (what the
  worker task runs) claims, builds, sends and marks them, batch after batch, until none is
  due; records per second from the first claim to the last mark.
- baseline: every Bundle the drain sent, re-serialised, POSTed once more in order over one
  kept HTTP/1.1 connection (as the drain sends them), timed alone.

    .venv/bin/python bench/bench_exchange.py [--people 3000] [--batch 200]
"""

# ruff: noqa: S608 - bench SQL built from integers this script chose

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_fhir import _records_sql
from bench.harness import Bench, Result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    with Bench("exchange", worker=False) as bench:
        bench.seed(max(args.people, 2000))
        _records_sql(
            bench,
            "p.id IN (SELECT id FROM people_person WHERE id NOT IN "
            f"(SELECT person_id FROM vaccination_dose) ORDER BY id LIMIT {args.people})",
            doses=2,
            results=1,
            prefix="X",
        )
        bench.django_setup()
        from django.conf import settings

        from covidhub.exchange.models import ExchangeRecord
        from covidhub.exchange.push import bundle_build
        from covidhub.exchange.tasks import exchange_drain
        from covidhub.exchange.tests.double import NationalDouble

        # BENCH_DOUBLE_PORT: the double's port (a helper's own range on a shared machine).
        double = NationalDouble(port=int(os.environ.get("BENCH_DOUBLE_PORT") or 0)).start()
        try:
            settings.EXCHANGE_ENDPOINTS = [
                {"name": "bench", "url": double.url, "kinds": ["dose", "result"]}
            ]
            settings.EXCHANGE_BATCH = args.batch
            bench.sql(
                """INSERT INTO exchange_exchangerecord (uuid, endpoint, kind, source_pk,
                        record_uuid, version, commune_path, day, status, attempts,
                        next_attempt_at, last_error, reason, created_at, updated_at)
                   SELECT gen_random_uuid(), 'bench', 'dose', d.id, d.uuid, 1, d.commune_path,
                          d.day, 'pending', 0, now(), '', '', now(), now()
                     FROM vaccination_dose d
                   UNION ALL
                   SELECT gen_random_uuid(), 'bench', 'result', r.id, r.uuid, r.version,
                          r.commune_path, r.collected_at::date, 'pending', 0, now(), '', '',
                          now(), now()
                     FROM testing_result r"""
            )
            queued = ExchangeRecord.objects.count()
            started = time.perf_counter()
            totals = exchange_drain()
            drained = time.perf_counter() - started
            assert totals.get("accepted") == queued, totals
            assert set(double.creates.values()) == {1}
            outbox = Result(
                name=f"outbox: exchange_drain, batches of {args.batch}",
                requests_per_second=queued / drained,
                p50_ms=0.0,
                p99_ms=0.0,
                requests=queued,
                errors=0,
                seconds=round(drained, 2),
                connections=1,
                extra={"bundles": len(double.received)},
            )
            # Baseline: the same Bundles, built beforehand, POSTed bare.
            rows = list(ExchangeRecord.objects.order_by("id"))
            bodies = [
                json.dumps(bundle_build(rows[i : i + args.batch]).bundle).encode()
                for i in range(0, len(rows), args.batch)
            ]
            target = urllib.parse.urlsplit(double.url)
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            started = time.perf_counter()
            for body in bodies:
                connection.request(
                    "POST",
                    target.path,
                    body=body,
                    headers={"Content-Type": "application/fhir+json"},
                )
                response = connection.getresponse()
                response.read()
                assert response.status == 200, response.status
            bare = time.perf_counter() - started
            connection.close()
            baseline = Result(
                name="baseline: the same Bundles POSTed bare",
                requests_per_second=len(rows) / bare,
                p50_ms=0.0,
                p99_ms=0.0,
                requests=len(rows),
                errors=0,
                seconds=round(bare, 2),
                connections=1,
            )
        finally:
            double.stop()
        bench.report(
            [baseline, outbox],
            notes={
                "unit": "req/s column = records per second (a record: one dose or result)",
                "target": "outbox ≥ 500 records/s",
                "outbox / baseline": f"{outbox.requests_per_second / baseline.requests_per_second:.0%}",
            },
        )


if __name__ == "__main__":
    main()
