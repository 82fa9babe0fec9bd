"""Cluster drill: the platform on nine hosts made with network namespaces on this machine,
under a bounded mixed load, through four failures.

    hosts (10.77.0.0/24, bridge drl-br0; the drill machine is 10.77.0.1)
      proxy .2    HAProxy, health-checks the app nodes
      pool .3     PgBouncer (transaction pooling): covidhub → primary, covidhub_ro → standby
      redis .4    Redis (cache, rate limits, sessions' first copy)
      db1 .11     PostgreSQL 15 primary          db2 .12  streaming hot standby
      app1 .21    granian (config.wsgi)           app2 .22 granian
      worker1 .31 run_worker (with the scheduler) worker2 .32 run_worker

The load (deploy/drill/load.py) sends declarations, check-ins, result look-ups, bookings
and doses through the proxy at a few requests per second, each write with an
Idempotency-Key and retried with it when no answer came back. Scenarios, in order:

  a  kill an app node (SIGKILL), restart it: the proxy routes around it;
  c  stop Redis for 60 s, start it again: the platform keeps serving from the database;
  b  kill a worker while it runs a task: the task is given back and run again, every
     notification reaches the gateway, none twice after the gateway's de-duplication;
  d  kill the primary: the standby is promoted (pg_ctl promote) and PgBouncer repointed;
     RTO = kill → first write answered 2xx; RPO = writes answered 2xx and missing after.

Then every write answered 2xx is looked for in the database (0 lost writes), and a table
is printed. Everything started is stopped and every namespace removed, also on an error
or a SIGTERM (run it under `timeout`). Needs root; installs the Debian packages it lacks.

    timeout 1500 .venv/bin/python deploy/drill/cluster_drill.py [--scenarios a,c,b,d]
        [--rate 6] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hosts import GATEWAY, Hosts
from load import (
    TABLES,
    Fixture,
    Load,
    first_ok_write_after,
    notifications_check,
    reconcile,
    table,
    window,
)
from services import (
    LAYOUT,
    PYTHON,
    ROOT,
    Gateway,
    PgBouncer,
    Postgres,
    app_healthy,
    app_start,
    haproxy_start,
    packages_ensure,
    pg_base,
    redis_start,
    wait_for,
    worker_id,
    worker_start,
)

APPS = ["app1", "app2"]


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def base_env(hosts: Hosts, var: Path, gateway: Gateway) -> dict[str, str]:
    a = hosts.addresses
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONPATH": str(ROOT),
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "COVIDHUB_DSC_PASSPHRASE": secrets.token_urlsafe(24),
        "ALLOWED_HOSTS": ",".join([a["proxy"], *(a[n] for n in APPS)]),
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "SITE_URL": f"http://{a['proxy']}",
        "EMAIL_HOST": GATEWAY,
        "SMS_BACKEND": "http",
        "SMS_GATEWAY_URL": gateway.url,
        "COVIDHUB_VAR_DIR": str(var / "app"),
        "DATABASE_URL": f"postgres://postgres@{a['pool']}:{PgBouncer.PORT}/covidhub",
        "DATABASE_REPLICA_URLS": f"postgres://postgres@{a['pool']}:{PgBouncer.PORT}/covidhub_ro",
        "DB_POOL_MODE": "transaction",
        "REDIS_URL": f"redis://{a['redis']}:6379/0",
        # The load generator stands for a CDN in front of the proxy.
        "TRUSTED_PROXY_COUNT": "2",
        "METRICS_ALLOWED_NETWORKS": "10.77.0.0/24",
        "PHONE_CODE_MAX_PER_ADDRESS_PER_HOUR": "1000",
        "LOG_LEVEL": "WARNING",
        # A worker killed mid-task: its tasks go back to the queue after this long without
        # a heartbeat, and a message it was sending after this long (production: minutes).
        "WORKER_DEAD_SECONDS": "15",
        "NOTIFY_SENDING_STUCK_SECONDS": "20",
        "NOTIFY_SWEEP_SECONDS": "10",
    }


def manage(env: dict[str, str], *args: str, timeout: float = 900) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, timeout=timeout)


def rows_present(primary: Postgres, outcomes: list[Any]) -> dict[str, set[str]]:
    present: dict[str, set[str]] = {}
    for kind, name in TABLES.items():
        uuids = [o.uuid for o in outcomes if o.kind == kind and o.uuid]
        present[kind] = set()
        for start in range(0, len(uuids), 500):
            chunk = ",".join(f"'{u}'" for u in uuids[start : start + 500])
            found = primary.sql(
                f"SELECT uuid FROM {name} WHERE uuid IN ({chunk})",  # noqa: S608 - our UUIDs
                database="covidhub",
            )
            present[kind] |= set(found.split())
    return present


def readyz(address: str) -> dict[str, Any]:
    request = urllib.request.Request(f"http://{address}/readyz", headers={"Host": address})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return dict(json.loads(response.read()))
    except urllib.error.HTTPError as error:
        return dict(json.loads(error.read() or b"{}"))


class Drill:
    def __init__(self, var: Path, rate: float) -> None:
        self.var = var
        self.rate = rate
        self.hosts = Hosts(var)
        self.gateway: Gateway | None = None
        self.rows: list[list[object]] = []
        self.notes: list[str] = []

    # Set-up -------------------------------------------------------------------------------

    def up(self) -> None:
        installed = packages_ensure()
        if installed:
            log(f"installed {', '.join(installed)}")
        hosts = self.hosts
        hosts.bridge_up()
        for name, number in LAYOUT.items():
            hosts.add(name, number)
        self.gateway = Gateway()
        self.gateway.start()
        base = pg_base(self.var)
        self.db1, self.db2 = Postgres(hosts, "db1", base), Postgres(hosts, "db2", base)
        self.db1.initdb()
        self.db1.start()
        self.db1.sql("CREATE DATABASE covidhub")
        self.db2.basebackup_from(self.db1)
        self.db2.start()
        log("PostgreSQL primary (db1) and streaming standby (db2) up")
        self.redis = redis_start(hosts)
        self.pool = PgBouncer(hosts, base)
        self.pool.start(hosts.addresses["db1"], hosts.addresses["db2"])
        self.env = base_env(hosts, self.var, self.gateway)
        direct = {
            **self.env,
            "DATABASE_URL": f"postgres://postgres@{hosts.addresses['db1']}:5432/covidhub",
            "DB_POOL_MODE": "none",
        }
        direct.pop("DATABASE_REPLICA_URLS")
        started = time.monotonic()
        manage(direct, "migrate", "--noinput", "-v0")
        manage(direct, "createcachetable")
        manage(direct, "collectstatic", "--noinput", "-v0")
        development = {**direct, "DJANGO_ENV": "development"}
        manage(development, "seed_demo", "--quiet")
        fixture_file = self.var / "fixture.json"
        subprocess.run(
            [PYTHON, str(Path(__file__).parent / "fixture.py"), str(fixture_file)],
            cwd=ROOT, env=direct, check=True, timeout=600,
        )  # fmt: skip
        self.fixture = Fixture(**json.loads(fixture_file.read_text()))
        log(f"schema, demo data and load fixture in {time.monotonic() - started:.0f} s")
        self.apps = {name: app_start(hosts, name, self.env) for name in APPS}
        self.workers = {
            "worker1": worker_start(hosts, "worker1", self.env, scheduler=True),
            "worker2": worker_start(hosts, "worker2", self.env, scheduler=False),
        }
        for name in APPS:
            wait_for(name, lambda n=name: app_healthy(hosts.addresses[n]), timeout=120)
        self.proxy = hosts.addresses["proxy"]
        self.primary = self.db1
        haproxy_start(hosts, APPS)
        wait_for("HAProxy", lambda: readyz(self.proxy).get("database") == "ok", timeout=60)
        log("app nodes, workers and proxy up")

    # Scenarios ----------------------------------------------------------------------------

    def phase(self, name: str, seconds: float) -> tuple[float, float]:
        self.load.phase = name
        start = time.time()
        time.sleep(seconds)
        return start, time.time()

    def row(self, scenario: str, start: float, end: float, result: str, ok: bool) -> None:
        w = window(self.load.outcomes, start, end)
        self.rows.append(
            [
                scenario, w.requests, w.failed, f"{w.p50_ms:.0f}", f"{w.p95_ms:.0f}", result,
                "ok" if ok else "FAILED",
            ]
        )  # fmt: skip
        log(f"{scenario}: {w} {result}")

    def baseline(self) -> None:
        start, end = self.phase("baseline", 30)
        self.row("baseline (all up)", start, end, "-", True)

    def scenario_a(self) -> None:
        victim = self.apps["app1"]
        self.load.phase = "a"
        start = time.time()
        victim.kill()
        time.sleep(30)
        self.apps["app1"] = app_start(self.hosts, "app1", self.env)
        back = wait_for("app1", lambda: app_healthy(self.hosts.addresses["app1"]), timeout=120)
        time.sleep(5)
        end = time.time()
        w = window(self.load.outcomes, start, end)
        self.row(
            "a: kill app node app1 (30 s), restart",
            start,
            end,
            f"answered by app2 meanwhile; app1 back {back:.0f} s after restart",
            w.failed == 0,
        )

    def scenario_c(self) -> None:
        self.load.phase = "c"
        start = time.time()
        self.redis.kill()
        time.sleep(5)
        during = readyz(self.proxy)
        time.sleep(55)
        self.redis = redis_start(self.hosts)
        restarted = time.time()
        recovered = wait_for(
            "cache back", lambda: readyz(self.proxy).get("cache") == "ok", timeout=60
        )
        time.sleep(10)
        end = time.time()
        w = window(self.load.outcomes, start, restarted)
        base = window(self.load.outcomes, 0, start)
        self.row(
            "c: Redis stopped 60 s, started",
            start,
            end,
            f"/readyz during: {during.get('status')} (cache {during.get('cache')}); "
            f"p50 {base.p50_ms:.0f} → {w.p50_ms:.0f} ms; cache ok again {recovered:.0f} s "
            "after restart, no operator action",
            w.failed == 0 and during.get("cache") == "unavailable",
        )

    def scenario_b(self) -> None:
        self.load.phase = "b"
        start = time.time()
        victim = self.workers["worker1"]
        victim_id = worker_id(victim)
        tasks = "django_tasks_database_dbtaskresult"
        running: list[str] = []

        def busy(path: str = "%") -> bool:
            running[:] = self.primary.sql(
                f"SELECT id FROM {tasks} WHERE status = 'RUNNING' "  # noqa: S608 - our id
                f"AND worker_ids->>-1 = '{victim_id}' AND task_path LIKE '{path}'",
                database="covidhub",
            ).split()
            return bool(running)

        # Mid-send of an SMS if it can be caught (the gateway answers in 0.3 s), else any.
        try:
            waited = wait_for("worker1 sending", lambda: busy("%message_deliver"), 60, every=0.1)
        except TimeoutError:
            waited = 60 + wait_for("worker1 running a task", busy, timeout=120, every=0.1)
        victim.kill()
        killed = time.time()
        time.sleep(5)
        self.workers["worker1"] = worker_start(self.hosts, "worker1", self.env, scheduler=True)
        ids = ",".join(f"'{i}'" for i in running)

        def rerun() -> bool:
            states = self.primary.sql(
                f"SELECT status FROM {tasks} WHERE id IN ({ids})",  # noqa: S608 - our ids
                database="covidhub",
            ).split()
            return all(state in {"SUCCESSFUL", "FAILED"} for state in states)

        wait_for("the killed worker's tasks run again", rerun, timeout=180)
        again = time.time() - killed
        names = self.primary.sql(
            f"SELECT task_path || ' ' || status || ' by ' || worker_ids::text FROM {tasks} "  # noqa: S608
            f"WHERE id IN ({ids})",
            database="covidhub",
        )
        self.notes.append(f"b: killed worker1 ({waited:.1f} s in) while it ran: {names}")
        end = time.time()
        self.row(
            "b: kill worker1 while it runs a task",
            start,
            end,
            f"{len(running)} task(s) it held given back and run again "
            f"{again:.0f} s after the kill (heartbeat "
            "silent 15 s); notifications: see the settled row",
            True,
        )

    def scenario_d(self) -> None:
        self.load.phase = "d"
        before = list(self.load.outcomes)
        self.pre_failover = reconcile(before, rows_present(self.db1, before))
        lag = self.db1.sql(
            "SELECT coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)), -1) "
            "FROM pg_stat_replication"
        )
        start = time.time()
        self.db1.crash()
        # The scripted failover (docs/scale.md): three failed probes a second apart, then
        # promote the standby and repoint PgBouncer.
        failures = 0
        while failures < 3:
            try:
                self.db1.sql("SELECT 1")
                failures = 0
            except Exception:
                failures += 1
            time.sleep(1)
        detected = time.time()
        self.db2.promote()
        promoted = time.time()
        self.pool.repoint(self.hosts.addresses["db2"])
        self.primary = self.db2
        repointed = time.time()
        wait_for(
            "a write answered after the failover",
            lambda: first_ok_write_after(self.load.outcomes, repointed) is not None,
            timeout=90,
        )
        first = first_ok_write_after(self.load.outcomes, start) or time.time()
        time.sleep(15)
        end = time.time()
        self.rto = first - start
        self.failover = (start, end)
        self.notes.append(
            f"d: standby {lag} bytes behind at the kill; failure detected after "
            f"{detected - start:.1f} s, promoted {promoted - detected:.1f} s later, PgBouncer "
            f"repointed {repointed - promoted:.1f} s later; first write answered 2xx "
            f"{self.rto:.1f} s after the kill"
        )
        self.row(
            "d: kill the primary (db1); promote db2, repoint PgBouncer",
            start,
            end,
            f"RTO {self.rto:.1f} s (kill → first write answered 2xx); RPO: see the last row",
            True,
        )

    # Run --------------------------------------------------------------------------------

    def run(self, scenarios: list[str]) -> bool:
        self.up()
        self.load = Load(self.proxy, 80, self.fixture, rate=self.rate, threads=4)
        self.load.start()
        time.sleep(10)
        self.baseline()
        for name in scenarios:
            getattr(self, f"scenario_{name}")()
        self.load.stop()
        log(f"load stopped; queue drained in {self.settle():.0f} s")
        if "b" in scenarios:
            self.notifications_row()
        return self.verify()

    def verify(self) -> bool:
        outcomes = self.load.outcomes
        present = rows_present(self.current_primary(), outcomes)
        result = reconcile(outcomes, present)
        kinds = ", ".join(f"{k} {f}/{a}" for k, (a, f) in sorted(result.by_kind.items()))
        if getattr(self, "failover", None):
            start, _end = self.failover
            lost_at = [
                o.answered - start
                for o in outcomes
                if (o.kind, o.uuid) in set(result.missing) and o.answered
            ]
            self.rows.append(
                [
                    "d: RPO (writes answered 2xx before the failover, missing after)", "-",
                    "-", "-", "-",
                    f"{result.lost} lost of {result.acknowledged} acknowledged"
                    + (f" (answered {min(lost_at):.1f}…{max(lost_at):.1f} s from the kill)" if lost_at else "")
                    + f"; before the kill {self.pre_failover.found}/{self.pre_failover.acknowledged} found on db1",
                    "ok" if self.pre_failover.lost == 0 else "FAILED",
                ]
            )  # fmt: skip
        self.rows.append(
            [
                "all: writes answered 2xx vs rows found", len(outcomes),
                sum(1 for o in outcomes if o.status == 0 or o.status >= 500), "-", "-",
                f"{result.found}/{result.acknowledged} found ({kinds}); lost {result.lost}",
                "ok" if result.lost == 0 else "FAILED",
            ]
        )  # fmt: skip
        print()
        print(
            table(
                self.rows,
                [
                    "scenario", "requests", "failed (after retries)", "p50 ms", "p95 ms",
                    "observed", "result",
                ],
            )
        )  # fmt: skip
        for note in self.notes:
            print(f"- {note}")
        return all(row[-1] == "ok" for row in self.rows)

    def settle(self, timeout: float = 180) -> float:
        """Until no task is due or running and no message waits to be sent."""

        def idle() -> bool:
            left = self.primary.sql(
                "SELECT (SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE "
                "status = 'RUNNING' OR (status = 'READY' AND run_after <= now())) + "
                "(SELECT count(*) FROM notifications_message WHERE status IN "
                "('pending', 'sending'))",
                database="covidhub",
            )
            return left == "0"

        return wait_for("the queue to drain", idle, timeout=timeout, every=2)

    def notifications_row(self) -> None:
        """Each sign-in code asked for under load: one SMS, sent, received by the gateway."""
        assert self.gateway is not None
        lines = self.primary.sql(
            "SELECT \"to\" || ' ' || uuid || ' ' || status FROM notifications_message "
            "WHERE channel = 'sms' AND \"to\" LIKE '+8458%'",
            database="covidhub",
        ).splitlines()
        messages: dict[str, list[tuple[str, str]]] = {}
        for line in lines:
            phone, message, status = line.split()
            messages.setdefault(phone, []).append((message, status))
        verdict = notifications_check(self.load.outcomes, messages, dict(self.gateway.received))
        states = self.primary.sql(
            "SELECT status || ':' || count(*) || ':' || "
            "count(*) FILTER (WHERE jsonb_array_length(worker_ids) > 1) "
            "FROM django_tasks_database_dbtaskresult GROUP BY status",
            database="covidhub",
        ).split()
        running = any(state.startswith("RUNNING") for state in states)
        ok = not (verdict.lost or verdict.doubled or verdict.unsent or running)
        self.rows.append(
            [
                "b (settled): tasks and notifications", "-", "-", "-", "-",
                f"tasks status:count:run-again {' '.join(states)}; {verdict.acknowledged} "
                f"sign-in codes answered 202: {len(verdict.lost)} SMS lost, "
                f"{len(verdict.doubled)} queued twice, {len(verdict.unsent)} unsent; "
                f"{verdict.repeats} reached the gateway twice (same UUID, dropped by its "
                "Idempotency-Key)",
                "ok" if ok else "FAILED",
            ]
        )  # fmt: skip

    def current_primary(self) -> Postgres:
        return self.primary

    def close(self) -> None:
        if getattr(self, "load", None) is not None:
            self.load.stop()
        self.hosts.close()
        if self.gateway is not None:
            self.gateway.stop()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenarios", default="a,c,b,d")
    parser.add_argument("--rate", type=float, default=6.0, help="requests per second in all")
    parser.add_argument("--keep", action="store_true", help="keep var/drill (logs, data)")
    options = parser.parse_args()
    os.environ["PGCONNECT_TIMEOUT"] = "2"
    if os.geteuid() != 0:
        print("the drill needs root (network namespaces, PostgreSQL as postgres)")
        return 2
    var = ROOT / "var" / "drill"
    shutil.rmtree(var, ignore_errors=True)
    var.mkdir(parents=True)

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    drill = Drill(var, options.rate)
    started = time.monotonic()
    ok = False
    try:
        ok = drill.run([s for s in options.scenarios.split(",") if s])
    finally:
        log("stopping everything the drill started")
        drill.close()
        log(
            f"drill {'passed' if ok else 'FAILED'} in {time.monotonic() - started:.0f} s; logs in {var / 'logs'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
