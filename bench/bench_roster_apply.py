"""Applying a staff roster (adoption): how long one upload of ROSTER_MAX_ROWS rows holds
SQLite's write lock, beside a bare transaction that inserts as many plain rows in the same
run (the floor for any one-transaction apply), and what a write made meanwhile sees.

Before issue 16 the whole apply was one transaction (20,000 rows: 66 s, 1.9x the baseline,
and the write failed with "database is locked"); now the decision is one short transaction
and the plan is applied in chunks (core.import_jobs).

SQLite only (PostgreSQL locks rows: a roster never blocks other agencies' writes there).
The database is a fresh file under a temporary directory, migrated by the script.

    .venv/bin/python bench/bench_roster_apply.py [--rows 20000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="bench-roster-")
    os.environ["COVIDHUB_VAR_DIR"] = workdir
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections, transaction

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)

    from covidhub.adoption.models import Agency
    from covidhub.adoption.services import agency_create, roster_upload_apply, roster_upload_create
    from covidhub.adoption.tests.conftest import roster_csv, staff_row
    from covidhub.areas.models import Area
    from covidhub.areas.services import UnitRow, area_tree_load
    from covidhub.core.models import ImportJob

    area_tree_load(rows=[UnitRow(1, "30", "Tỉnh Hải Dương", "tỉnh")])
    province = Area.objects.get(level=1)
    agency = agency_create(actor=None, name="Sở Y tế", kind="department", area=province)
    data = roster_csv([staff_row(n) for n in range(1, args.rows + 1)])
    from covidhub.accounts.models import User

    head = User.objects.create(username="head", kind=User.Kind.STAFF)
    upload = roster_upload_create(actor=head, agency=agency, data=data, file_name="r.csv")

    # Baseline: one transaction inserting as many bare rows (import jobs' table, no index work).
    started = time.perf_counter()
    with transaction.atomic():
        ImportJob.objects.bulk_create(
            [
                ImportJob(kind="bench", actor=head, scope="", rows_total=0, payload={})
                for _ in range(args.rows)
            ],
            batch_size=1000,
        )
    baseline = time.perf_counter() - started

    # A writer in another connection tries a small write once the apply has started.
    waited: list[float] = []
    errors: list[str] = []

    def writer() -> None:
        time.sleep(0.3)
        begun = time.perf_counter()
        try:
            with transaction.atomic():
                Agency.objects.filter(pk=agency.pk).update(name="Sở Y tế tỉnh")
        except Exception as exc:
            errors.append(str(exc))
        finally:
            waited.append(time.perf_counter() - begun)
            connections.close_all()

    from covidhub.adoption.services import roster_upload_run

    thread = threading.Thread(target=writer)
    started = time.perf_counter()
    thread.start()
    upload = roster_upload_apply(actor=head, upload=upload)
    decided = time.perf_counter() - started
    job = ImportJob.objects.filter(kind="adoption.roster").latest("pk")
    if upload.status != "applied":  # a long roster: the worker's task, run here
        roster_upload_run(job_uuid=job.uuid)
    applied = time.perf_counter() - started
    thread.join()
    print(f"SQLite ({connection.settings_dict['NAME']}), {args.rows} roster rows")
    print(f"  baseline: one transaction inserting {args.rows} bare rows   {baseline:6.2f} s")
    print(f"  roster_upload_apply: the decision's transaction            {decided:6.2f} s")
    print(f"  the whole apply (chunks of ROSTER_CHUNK_ROWS, then matching) {applied:6.2f} s")
    outcome = "errors: " + "; ".join(errors) if errors else "(succeeded)"
    print(
        f"  a small write started 0.3 s in waited                   {waited[0]:6.2f} s  {outcome}"
    )


if __name__ == "__main__":
    main()
