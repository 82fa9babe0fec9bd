"""Backup and point-in-time restore drill with pgBackRest, on a PostgreSQL 15 cluster of
its own (127.0.0.1, a spare port, under var/drill-backup/):

1. the schema migrated and the demo province seeded; a stanza created, WAL archived
   continuously (archive_command = pgbackrest archive-push), a full backup taken;
2. batch A written after the backup (audit events and probe rows), then the restore
   target T noted, then batch B (the writes to undo: a bad import, a mistaken delete);
3. restored with `pgbackrest restore --type=time --target=T` into a fresh data directory,
   started as a new cluster on another port;
4. checked: every table's row count equals the source's at T (batch A there, batch B
   not), the audit trail up to T identical row for row (a digest of its rows in order),
   its append-only triggers still refuse an UPDATE.

Prints a table with RPO (acknowledged writes before T missing after the restore, and the
archive's bound: archive_timeout) and RTO (restore command to a cluster answering
queries). Stops both clusters and removes their directories (unless --keep), also on an
error or SIGTERM. Needs root (runs PostgreSQL and pgBackRest as postgres) and installs
pgbackrest and postgresql-15 when missing.

    timeout 1500 .venv/bin/python deploy/drill/backup_drill.py [--keep]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import table
from services import PG_BIN, PYTHON, ROOT, packages_ensure, wait_for

STANZA = "covidhub"
ARCHIVE_TIMEOUT = 60
BATCH = 300
# Tables whose count is compared between the source at T and the restored cluster.
COUNTED = [
    "people_person",
    "accounts_user",
    "declarations_declaration",
    "declarations_checkin",
    "vaccination_booking",
    "vaccination_dose",
    "testing_sample",
    "notifications_message",
    "audit_auditevent",
    "core_benchprobe",
]


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def as_postgres(argv: list[str], *, timeout: float = 600) -> str:
    completed = subprocess.run(
        ["runuser", "-u", "postgres", "--", *argv],
        capture_output=True, text=True, errors="replace", timeout=timeout, check=False,
    )  # fmt: skip
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])}: {completed.stderr.strip() or completed.stdout}")
    return completed.stdout


class Cluster:
    def __init__(self, base: Path, name: str) -> None:
        self.base, self.name = base, name
        self.data = base / name
        self.port = free_port()
        self.sockets = base / "sockets"
        self.running = False

    def sql(self, statement: str, database: str = "covidhub") -> str:
        return as_postgres(
            [
                str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                "-d", database, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", statement,
            ],
            timeout=120,
        ).strip()  # fmt: skip

    def start(self) -> None:
        as_postgres(
            [
                str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.base / f"{self.name}.log"),
                "-o", f"-p {self.port} -k {self.sockets}", "-w", "-t", "300", "start",
            ],
            timeout=360,
        )  # fmt: skip
        self.running = True

    def stop(self) -> None:
        if self.running:
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                as_postgres(
                    [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                    timeout=60,
                )
            self.running = False

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/covidhub"


class Drill:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.repo = base / "repo"
        self.config = base / "pgbackrest.conf"
        self.source = Cluster(base, "source")
        self.restored = Cluster(base, "restored")
        self.rows: list[list[object]] = []

    def backrest(self, *args: str, timeout: float = 900) -> str:
        return as_postgres(
            ["pgbackrest", f"--config={self.config}", f"--stanza={STANZA}", *args],
            timeout=timeout,
        )

    def set_up(self) -> None:
        postgres = pwd.getpwnam("postgres")
        for path in (self.base, self.repo, self.base / "sockets", self.base / "log"):
            path.mkdir(parents=True, exist_ok=True)
            os.chown(path, postgres.pw_uid, postgres.pw_gid)
        self.base.chmod(0o700)
        self.config.write_text(
            f"""[global]
repo1-path={self.repo}
repo1-retention-full=2
log-path={self.base / "log"}
lock-path={self.base / "log"}
spool-path={self.base / "log"}
log-level-console=warn
log-level-file=info
start-fast=y
compress-type=lz4

[{STANZA}]
pg1-path={self.source.data}
pg1-port={self.source.port}
pg1-socket-path={self.base / "sockets"}
"""
        )
        as_postgres(
            [
                str(PG_BIN / "initdb"), "-D", str(self.source.data), "-U", "postgres",
                "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
            ]
        )  # fmt: skip
        with (self.source.data / "postgresql.auto.conf").open("a") as conf:
            conf.write(
                f"""
listen_addresses = '127.0.0.1'
wal_level = replica
archive_mode = on
archive_command = 'pgbackrest --config={self.config} --stanza={STANZA} archive-push %p'
archive_timeout = {ARCHIVE_TIMEOUT}
max_wal_senders = 3
fsync = off
shared_buffers = 48MB
log_min_messages = warning
"""
            )
        self.source.start()
        self.source.sql("CREATE DATABASE covidhub", database="postgres")
        env = self.env(self.source)
        started = time.monotonic()
        for args in (
            ["migrate", "--noinput", "-v0"],
            ["createcachetable"],
            ["seed_demo", "--quiet"],
        ):
            subprocess.run(
                [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, timeout=1200
            )
        log(f"source cluster migrated and seeded in {time.monotonic() - started:.0f} s")

    def env(self, cluster: Cluster) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": cluster.url,
            "COVIDHUB_VAR_DIR": str(self.base.parent / "drill-backup-app"),
            "SECRET_KEY": secrets.token_urlsafe(40),
            "PYTHONPATH": str(ROOT),
        }

    def write(self, batch: str) -> None:
        """BATCH audit events (through the audit service) and BATCH probe rows."""
        code = (
            "from django.db import transaction\n"
            "from covidhub.audit.services import audit_record\n"
            "from covidhub.core.models import BenchProbe\n"
            f"for i in range({BATCH}):\n"
            "    with transaction.atomic():\n"
            f"        audit_record(actor=None, action='drill.backup', details={{'batch': '{batch}', 'n': i}})\n"
            f"        BenchProbe.objects.create(key='{batch}-' + str(i))\n"
        )
        subprocess.run(
            [PYTHON, "manage.py", "shell", "-c", code],
            cwd=ROOT, env=self.env(self.source), check=True, timeout=600,
        )  # fmt: skip

    def counts(self, cluster: Cluster) -> dict[str, int]:
        query = " UNION ALL ".join(
            f"SELECT '{name}', count(*) FROM {name}"  # noqa: S608 - our table names
            for name in COUNTED
        )
        return {
            line.split("|")[0]: int(line.split("|")[1]) for line in cluster.sql(query).splitlines()
        }

    def batches(self, cluster: Cluster) -> tuple[int, int]:
        """Probe rows of batch A (written before T) and of batch B (after T)."""
        a, b = cluster.sql(
            "SELECT count(*) FILTER (WHERE key LIKE 'A-%') || ' ' || "
            "count(*) FILTER (WHERE key LIKE 'B-%') FROM core_benchprobe"
        ).split()
        return int(a), int(b)

    def audit_digest(self, cluster: Cluster, target: str) -> str:
        row = "id::text || action || object_type || object_id || details::text || at::text"
        query = f"SELECT count(*) || ':' || md5(coalesce(string_agg({row}, '|' ORDER BY id), ''))"
        return cluster.sql(f"{query} FROM audit_auditevent WHERE at <= '{target}'")

    def run(self) -> bool:
        self.set_up()
        self.backrest("stanza-create")
        self.backrest("check")
        started = time.monotonic()
        self.backrest("backup", "--type=full")
        backup_seconds = time.monotonic() - started
        info = self.backrest("info")
        size = next((line.strip() for line in info.splitlines() if "repo1: backup" in line), "")
        log(f"full backup in {backup_seconds:.0f} s ({size})")

        self.write("A")
        time.sleep(1.5)
        target = self.source.sql("SELECT now()::text")
        at_target = self.counts(self.source)
        digest = self.audit_digest(self.source, target)
        batches_at_target = self.batches(self.source)
        time.sleep(1.5)
        self.write("B")
        self.source.sql("DELETE FROM core_benchprobe WHERE key LIKE 'A-%'")  # the mistake
        after = self.counts(self.source)
        batches_after = self.batches(self.source)
        # Close the WAL segment so that it is archived now, not at archive_timeout.
        self.source.sql("SELECT pg_switch_wal()")
        wait_for(
            "the WAL segment archived",
            lambda: (
                self.source.sql(
                    "SELECT last_archived_time > now() - interval '30 seconds' "
                    "FROM pg_stat_archiver"
                )
                == "t"
            ),
            timeout=120,
        )
        log(f"batch A, target {target}, batch B and a mistaken delete written; WAL archived")

        postgres = pwd.getpwnam("postgres")
        self.restored.data.mkdir(mode=0o700)
        os.chown(self.restored.data, postgres.pw_uid, postgres.pw_gid)
        restore_started = time.monotonic()
        self.backrest(
            "restore",
            f"--pg1-path={self.restored.data}",
            "--type=time",
            f"--target={target}",
            "--target-action=promote",
            "--archive-mode=off",
        )
        restored_files = time.monotonic() - restore_started
        with (self.restored.data / "postgresql.auto.conf").open("a") as conf:
            conf.write(f"\nport = {self.restored.port}\n")
        self.restored.start()
        wait_for(
            "the restored cluster out of recovery",
            lambda: self.restored.sql("SELECT pg_is_in_recovery()") == "f",
            timeout=300,
        )
        rto = time.monotonic() - restore_started
        log(f"restored to {target} in {rto:.0f} s")

        restored = self.counts(self.restored)
        restored_digest = self.audit_digest(self.restored, target)
        batches_restored = self.batches(self.restored)
        refused = False
        try:
            self.restored.sql(
                "UPDATE audit_auditevent SET action = 'x' WHERE id = (SELECT max(id) FROM audit_auditevent)"
            )
        except RuntimeError:
            refused = True
        for name in COUNTED:
            ok = restored[name] == at_target[name]
            self.rows.append(
                [name, at_target[name], after[name], restored[name], "ok" if ok else "FAILED"]
            )
        self.rows.append(
            ["audit trail up to T (rows:md5)", digest, "-", restored_digest,
             "ok" if digest == restored_digest else "FAILED"]
        )  # fmt: skip
        self.rows.append(
            ["audit append-only trigger on the restored cluster", "refuses UPDATE", "-",
             "refused" if refused else "ALLOWED", "ok" if refused else "FAILED"]
        )  # fmt: skip
        self.rows.append(
            ["probe rows of batch A (before T) / batch B (after T)",
             "{} / {}".format(*batches_at_target), "{} / {}".format(*batches_after),
             "{} / {}".format(*batches_restored),
             "ok" if batches_restored == (BATCH, 0) else "FAILED"]
        )  # fmt: skip
        lost_a = BATCH - batches_restored[0]
        print()
        print(table(self.rows, ["check", "source at T", "source now", "restored", "result"]))
        print()
        print(
            table(
                [
                    ["full backup", f"{backup_seconds:.0f} s", size],
                    ["restore to T (files + WAL replay + start)", f"{rto:.0f} s",
                     f"files {restored_files:.0f} s; RTO = this plus repointing the app"],
                    ["RPO at the target", f"{max(lost_a, 0)} writes",
                     "writes committed before T missing after the restore"],
                    ["RPO bound (primary lost)", f"≤ {ARCHIVE_TIMEOUT} s",
                     "archive_timeout: WAL not yet archived is lost with the machine; "
                     "a streaming standby (cluster drill) shortens it"],
                ],
                ["measure", "value", "note"],
            )
        )  # fmt: skip
        return all(row[-1] == "ok" for row in self.rows) and lost_a == 0

    def close(self, keep: bool) -> None:
        self.restored.stop()
        self.source.stop()
        if not keep:
            shutil.rmtree(self.base, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", action="store_true")
    options = parser.parse_args()
    if os.geteuid() != 0:
        print("the drill needs root (PostgreSQL and pgBackRest run as postgres)")
        return 2
    packages_ensure(
        {"pgbackrest": Path("/usr/bin/pgbackrest"), "postgresql-15": PG_BIN / "postgres"}
    )

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, stop)
    base = ROOT / "var" / "drill-backup"
    shutil.rmtree(base, ignore_errors=True)
    drill = Drill(base)
    started = time.monotonic()
    ok = False
    try:
        ok = drill.run()
    finally:
        drill.close(options.keep)
        log(f"backup drill {'passed' if ok else 'FAILED'} in {time.monotonic() - started:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
