"""FHIR figures, each beside its baseline in the same run:

- `Patient/{id}/$everything` for people with 20 records each (4 doses, 16 test results),
  read by a commune officer's session at 32 connections (audited, look-up budget charged),
  beside the bare indexed-select view; then the same reads while each person's records
  keep changing (their kept text marked stale every 50 ms, as a write would): nearly every
  read rebuilds it from the records and keeps it again;
- Bulk Data export from one worker: kicked off over HTTP as the province officer, polled
  until done; resources per second from the job's own start and finish times, and the
  worker's peak memory after a small and after the large export (streamed: it should not
  grow with the size).

    .venv/bin/python bench/bench_fhir.py [--people 200000] [--duration 10]
        [--only everything|export]

`--only everything` skips the province's records and the exports (minutes at 200,000
people); `--only export` skips the $everything load.
"""

# ruff: noqa: S608 - bench SQL built from integers, codes and uuids this script made

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_vaccination import _session_cookie
from bench.harness import Bench

EVERYTHING_PEOPLE = 150  # under the officer's hourly budget of distinct people (200)


def everything_fixture(bench: Bench) -> tuple[Path, str]:
    """150 people of the demo commune with 4 doses and 16 results each, in SQL."""
    from django.contrib.auth import get_user_model

    commune_path = bench.sql("SELECT path FROM areas_area WHERE level = 3 AND code = '10507'")
    ids = bench.sql(
        f"SELECT id FROM people_person WHERE commune_path = '{commune_path}' "
        f"AND id NOT IN (SELECT person_id FROM vaccination_dose) ORDER BY id "
        f"LIMIT {EVERYTHING_PEOPLE}"
    ).split()
    id_list = ",".join(ids)
    _records_sql(bench, f"p.id IN ({id_list})", doses=4, results=16, prefix="E")
    uuids = bench.sql(f"SELECT uuid FROM people_person WHERE id IN ({id_list})").split()
    path = bench.var_dir / "fhir-people.txt"
    path.write_text("\n".join(uuids) + "\n")
    officer = get_user_model().objects.get(username="xa")
    cookie, _csrf = _session_cookie(officer)
    return path, cookie


def _records_sql(bench: Bench, where: str, *, doses: int, results: int, prefix: str) -> None:
    """Doses (with a lot, at a site) and released single-tube PCR results for the people
    `where` selects, written set-based: one statement per table."""
    site = bench.sql("SELECT id FROM vaccination_vaccinationsite ORDER BY id LIMIT 1")
    vaccine = bench.sql("SELECT id FROM vaccination_vaccine WHERE code = 'pfizer'")
    store = bench.sql("SELECT id FROM areas_area WHERE level = 1 LIMIT 1")
    bench.sql(
        f"""INSERT INTO vaccination_vaccinelot (uuid, vaccine_id, number, expiry_date,
                doses_received, doses_allocated, store_area_id, store_path, received_on,
                created_at, updated_at)
            SELECT gen_random_uuid(), {vaccine}, 'BENCH-{prefix}', '2027-01-31', 100000000, 0,
                   {store}, (SELECT path FROM areas_area WHERE id = {store}), '2021-06-01',
                   now(), now()
            ON CONFLICT DO NOTHING"""
    )
    lot = bench.sql(f"SELECT id FROM vaccination_vaccinelot WHERE number = 'BENCH-{prefix}'")
    bench.sql(
        f"""INSERT INTO vaccination_dose (uuid, person_id, vaccine_id, series, dose_number,
                sequence, completes_primary, status, administered_at, day, commune_id,
                commune_path, lot_id, site_id, given_elsewhere, elsewhere_place,
                elsewhere_country, evidence, evidence_note, override_reason, void_reason,
                created_at, updated_at)
            SELECT gen_random_uuid(), p.id, {vaccine},
                   CASE WHEN n <= 2 THEN 'primary' ELSE 'booster' END,
                   CASE WHEN n <= 2 THEN n ELSE n - 2 END, n, n = 2, 'valid',
                   timestamptz '2021-07-01 09:00+07' + (n * 60) * interval '1 day',
                   date '2021-07-01' + n * 60, p.commune_id, p.commune_path, {lot}, {site},
                   false, '', '', '', '', '', '', now(), now()
              FROM people_person p CROSS JOIN generate_series(1, {doses}) n
             WHERE {where}"""
    )
    tsite = bench.sql("SELECT id FROM testing_site ORDER BY id LIMIT 1")
    lab = bench.sql("SELECT id FROM testing_lab ORDER BY id LIMIT 1")
    staff = bench.sql("SELECT id FROM accounts_user WHERE username = 'laymau'")
    session = bench.sql(
        f"""INSERT INTO testing_samplingsession (uuid, site_id, test_type, pool_size,
                opened_by_id, status, opened_at)
            VALUES (gen_random_uuid(), {tsite}, 'pcr', 1, {staff}, 'closed', now())
            RETURNING id"""
    ).split()[0]
    at = "timestamptz '2021-08-01 08:00+07' + n * interval '1 day'"
    bench.sql(
        f"""INSERT INTO testing_tube (uuid, barcode, session_id, site_id, test_type, capacity,
                member_count, status, lab_id, collected_at, received_at, resulted_at)
            SELECT gen_random_uuid(), '{prefix}' || p.id || '-' || n, {session}, {tsite},
                   'pcr', 1, 1, 'resulted', {lab}, {at}, {at} + interval '3 hours',
                   {at} + interval '8 hours'
              FROM people_person p CROSS JOIN generate_series(1, {results}) n
             WHERE {where}"""
    )
    like = f"'{prefix}%'"
    bench.sql(
        f"""INSERT INTO testing_sample (uuid, tube_id, person_id, status, collected_by_id,
                collected_at, removed_reason)
            SELECT gen_random_uuid(), t.id,
                   split_part(substr(t.barcode, {len(prefix) + 1}), '-', 1)::bigint, 'active',
                   {staff}, t.collected_at, ''
              FROM testing_tube t WHERE t.barcode LIKE {like}"""
    )
    bench.sql(
        f"""INSERT INTO testing_tuberesult (uuid, tube_id, lab_id, value, recorded_by_id,
                recorded_at, version)
            SELECT gen_random_uuid(), t.id, {lab},
                   CASE WHEN t.id % 7 = 0 THEN 'positive' ELSE 'negative' END, {staff},
                   t.resulted_at, 1
              FROM testing_tube t WHERE t.barcode LIKE {like}"""
    )
    bench.sql(
        f"""INSERT INTO testing_result (uuid, sample_id, tube_result_id, person_id, outcome,
                test_type, pooled, site_id, collected_at, released_at, commune_id,
                commune_path, version, notified_version)
            SELECT gen_random_uuid(), s.id, r.id, s.person_id, r.value, 'pcr', false,
                   {tsite}, t.collected_at, t.resulted_at, p.commune_id, p.commune_path, 1, 1
              FROM testing_tube t
              JOIN testing_sample s ON s.tube_id = t.id
              JOIN testing_tuberesult r ON r.tube_id = t.id
              JOIN people_person p ON p.id = s.person_id
             WHERE t.barcode LIKE {like}"""
    )
    bench.sql("ANALYZE")


def _worker_peak_kib(bench: Bench) -> int:
    """VmHWM (peak resident memory) of the task worker process and its children."""
    total = 0
    pids = [bench.processes[1].pid]
    children = Path(f"/proc/{pids[0]}/task/{pids[0]}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for pid in pids:
        status = Path(f"/proc/{pid}/status")
        if status.exists():
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total = max(total, int(line.split()[1]))
    return total


def _worker_cpu_seconds(bench: Bench) -> float:
    """User + system CPU seconds of the task worker process so far (/proc/PID/stat)."""
    pid = bench.processes[1].pid
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _everything_probe(bench: Bench, people_file: Path, cookie: str) -> str:
    """The status of one $everything read (and the start of the body when refused)."""
    bench.start()
    person = people_file.read_text().split()[0]
    request = urllib.request.Request(
        f"{bench.url}/fhir/Patient/{person}/$everything",
        headers={"Cookie": f"sessionid={cookie}", "Accept": "application/fhir+json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return str(response.status)
    except urllib.error.HTTPError as exc:
        return f"{exc.code} {exc.read()[:200]!r}"


class _Changing:
    """While open, mark every kept text stale every `interval` seconds, as a write of each
    person's records would (the generation moved on, the text emptied)."""

    def __init__(self, bench: Bench, interval: float = 0.05) -> None:
        import threading

        self.url = bench.env["DATABASE_URL"]
        self.interval = interval
        self.stop = threading.Event()
        self.marks = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as connection:
            while not self.stop.wait(self.interval):
                connection.execute(
                    "UPDATE fhir_patientrecords SET generation = generation + 1, "
                    "immunizations = NULL WHERE immunizations IS NOT NULL"
                )
                self.marks += 1

    def __enter__(self) -> _Changing:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


def _load() -> str:
    return "load average " + " ".join(f"{n:.1f}" for n in os.getloadavg())


def run_export(bench: Bench, cookie: str, *, area: str) -> dict[str, float]:
    """Kick off an export over HTTP, poll until done; figures from the job's own times."""
    cpu_before = _worker_cpu_seconds(bench)
    load_before = _load()
    request = urllib.request.Request(
        f"{bench.url}/fhir/$export?area={area}",
        headers={
            "Cookie": f"sessionid={cookie}",
            "Prefer": "respond-async",
            "Accept": "application/fhir+json",
        },
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 202
        status_url = response.headers["Content-Location"]
    while True:
        poll = urllib.request.Request(status_url, headers={"Cookie": f"sessionid={cookie}"})
        with urllib.request.urlopen(poll, timeout=60) as response:
            if response.status == 200:
                manifest = json.loads(response.read())
                break
        time.sleep(1)
    job_uuid = status_url.rstrip("/").rsplit("/", 1)[-1]
    seconds = float(
        bench.sql(
            "SELECT extract(epoch FROM finished_at - started_at) FROM fhir_exportjob "
            f"WHERE uuid = '{job_uuid}'"
        )
    )
    written = sum(item["count"] for item in manifest["output"])
    size = sum(
        (bench.var_dir / "fhir-exports" / job_uuid / f"{item['type']}.ndjson").stat().st_size
        for item in manifest["output"]
    )
    cpu = _worker_cpu_seconds(bench) - cpu_before
    return {
        "resources": written,
        "seconds": seconds,
        "worker_cpu_seconds": cpu,
        "load": f"{load_before} before, {_load()} after",
        "per_second": written / seconds if seconds else 0.0,
        "counts": {item["type"]: item["count"] for item in manifest["output"]},  # type: ignore[dict-item]
        "megabytes": size / 1e6,
        "worker_peak_mib": _worker_peak_kib(bench) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--only", choices=("everything", "export"), default=None)
    args = parser.parse_args()
    everything, export = args.only in (None, "everything"), args.only in (None, "export")
    with Bench("fhir") as bench:
        bench.env["FHIR_EXPORT_DIR"] = str(bench.var_dir / "fhir-exports")
        started = time.perf_counter()
        bench.seed(args.people)
        seed_seconds = time.perf_counter() - started
        bench.django_setup()
        people_file, cookie = everything_fixture(bench)
        started = time.perf_counter()
        if export:
            # Every other person of the province: 2 doses and 1 result each (the people
            # chosen once: after the doses, "people without a dose" would be nobody).
            bench.sql(
                "CREATE TABLE bench_fhir_targets AS SELECT id FROM people_person "
                "WHERE id NOT IN (SELECT person_id FROM vaccination_dose)"
            )
            _records_sql(
                bench,
                "p.id IN (SELECT id FROM bench_fhir_targets)",
                doses=2,
                results=1,
                prefix="X",
            )
        generate_seconds = time.perf_counter() - started
        people = int(bench.sql("SELECT count(*) FROM people_person"))
        os.environ["BENCH_FHIR_PEOPLE_FILE"] = str(people_file)
        os.environ["BENCH_FHIR_COOKIE"] = f"sessionid={cookie}"
        bench.env.update(
            BENCH_FHIR_PEOPLE_FILE=str(people_file), BENCH_FHIR_COOKIE=f"sessionid={cookie}"
        )
        common = {"connections": args.connections, "duration": args.duration, "threads": 2}
        notes: dict[str, str] = {
            "province": f"{people:,} people (seed_demo {seed_seconds:.0f} s; records "
            f"generated in SQL in {generate_seconds:.0f} s)",
        }
        results = []
        if everything:
            # One read before the load: the run's refusals (counted, not sampled, by wrk)
            # are then explained by the first answer's status and body.
            first_answer = _everything_probe(bench, people_file, cookie)
            load_before_wrk = _load()
            results = [
                bench.wrk(
                    name="baseline: bare view, one indexed select", path="/_bench/select", **common
                ),
                bench.wrk(
                    name="Patient/{id}/$everything, 20 records (commune officer, audited)",
                    path="/fhir/metadata",
                    lua="bench/lua/fhir_everything.lua",
                    lua_counts=False,  # refusals from wrk's Non-2xx count: no body copied to Lua
                    **common,
                ),
            ]
            load_after_wrk = _load()
            with _Changing(bench) as changing:
                results.append(
                    bench.wrk(
                        name="the same, each person's records changing (text rebuilt and kept)",
                        path="/fhir/metadata",
                        lua="bench/lua/fhir_everything.lua",
                        lua_counts=False,
                        **common,
                    )
                )
            notes["records changing"] = (
                f"every kept text marked stale {changing.marks} times in the run "
                f"(every {changing.interval * 1000:.0f} ms); "
                f"{results[2].requests_per_second / results[0].requests_per_second:.0%} "
                "of the baseline's throughput"
            )
            ratio = results[1].requests_per_second / results[0].requests_per_second
            notes["$everything vs bare select"] = (
                f"{ratio:.0%} of the baseline's throughput "
                f"(target ≥ 50 %); p99 {results[1].p99_ms:.0f} ms (target ≤ 200 ms); "
                f"machine {load_before_wrk} before, {load_after_wrk} after; "
                f"first answer before the load: {first_answer}"
            )
        if export:
            bench.start()
            from django.contrib.auth import get_user_model

            officer = get_user_model().objects.get(username="tinh")
            export_cookie, _csrf = _session_cookie(officer)
            small = run_export(bench, export_cookie, area="10507")
            large = run_export(bench, export_cookie, area="30")
            notes["bulk export, one commune (warm-up)"] = (
                f"{small['resources']:,} resources in "
                f"{small['seconds']:.1f} s = {small['per_second']:,.0f}/s; worker peak "
                f"{small['worker_peak_mib']:.0f} MiB"
            )
            notes["bulk export, whole province"] = (
                f"{large['resources']:,} resources "
                f"({large['counts']}) in {large['seconds']:.1f} s = "
                f"{large['per_second']:,.0f} resources/s (target ≥ 5,000/s); the worker "
                f"used {large['worker_cpu_seconds']:.0f} CPU seconds "
                f"({large['resources'] / max(large['worker_cpu_seconds'], 0.01):,.0f} "
                f"resources per CPU second); machine {large['load']}; "
                f"{large['megabytes']:.0f} MB of NDJSON; worker peak "
                f"{large['worker_peak_mib']:.0f} MiB (after the small export: "
                f"{small['worker_peak_mib']:.0f} MiB)"
            )
        bench.report(results, notes=notes)


if __name__ == "__main__":
    main()
