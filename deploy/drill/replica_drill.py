"""Replica drill: the production server (granian, 2 processes) on a throwaway PostgreSQL 15
primary with a real streaming standby (pg_basebackup), driven over HTTP:

1. result look-ups read the standby;
2. a client that wrote reads the primary (the pin cookie);
3. the standby's replay is paused past the lag bound: reads go to the primary, /readyz says
   "lagging"; resumed, reads go back to the standby;
4. the standby is stopped: look-ups still answer (from the primary), /readyz says
   "unavailable"; started again, the standby is used again.

Each step reads where the reads went from /metrics (covidhub_db_reads_total, summed over
the server processes through PROMETHEUS_MULTIPROC_DIR). Prints a table; stops everything it
started. About 2-3 minutes (migrations on the new primary). Needs PostgreSQL 15's binaries
and Redis on 127.0.0.1:6379.

    .venv/bin/python deploy/drill/replica_drill.py
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from covidhub.core.tests.standby import standby_pair  # noqa: E402

PYTHON = sys.executable
LAG_BOUND = 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http(
    url: str,
    *,
    method: str = "GET",
    body: dict[str, str] | None = None,
    cookie: str = "",
    client: str = "",
) -> tuple[int, dict[str, str], bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if cookie:
        request.add_header("Cookie", cookie)
    if client:
        # Each look-up as another citizen (the server trusts one proxy), so that the
        # look-up's own failure limits per address do not refuse the drill.
        request.add_header("X-Forwarded-For", client)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def reads(base: str) -> dict[tuple[str, str], float]:
    _status, _headers, body = http(f"{base}/metrics")
    found: dict[tuple[str, str], float] = {}
    for line in body.decode().splitlines():
        match = re.fullmatch(r"covidhub_db_reads_total\{(.*)\} (\S+)", line)
        if match:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match[1]))
            found[(labels["database"], labels["reason"])] = float(match[2])
    return found


def delta(
    before: dict[tuple[str, str], float], after: dict[tuple[str, str], float]
) -> dict[str, int]:
    return {
        f"{database}:{reason}": int(after[key] - before.get(key, 0))
        for key in after
        for database, reason in [key]
        if after[key] - before.get(key, 0) > 0
    }


@contextlib.contextmanager
def server(env: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                str(Path(PYTHON).parent / "granian"),
                "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
                "--workers", "2", "--blocking-threads", "2", "--workers-kill-timeout", "10", "--no-ws",
                "--log-level", "warning", "config.wsgi:application",
            ],
            cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                if http(f"http://127.0.0.1:{port}/healthz")[0] == 200:
                    break
            time.sleep(0.3)
        else:
            raise RuntimeError(f"the server did not start; see {log}")
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def main() -> int:
    rows: list[tuple[str, str, str, bool]] = []

    def check(step: str, expected: str, observed: object, ok: bool) -> None:
        rows.append((step, expected, str(observed), ok))
        print(f"{'ok ' if ok else 'FAIL'} {step}: {observed}", flush=True)

    work = Path(tempfile.mkdtemp(prefix="covidhub-replica-drill-"))
    multiproc = work / "prometheus"
    multiproc.mkdir()
    started = time.monotonic()
    with standby_pair() as (primary, standby):
        primary.sql("CREATE DATABASE covidhub")
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_HSTS_SECONDS": "0",
            "EMAIL_HOST": "127.0.0.1",
            "COVIDHUB_VAR_DIR": str(work / "var"),
            "COVIDHUB_DSC_PASSPHRASE": secrets.token_urlsafe(24),
            "REDIS_URL": os.environ.get("DRILL_REDIS_URL", "redis://127.0.0.1:6379/12"),
            "DATABASE_URL": primary.url_for("covidhub"),
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True,
            timeout=900,
        )  # fmt: skip
        subprocess.run([PYTHON, "manage.py", "createcachetable"], cwd=ROOT, env=env, check=True)
        subprocess.run(
            [PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        standby.wait_replayed(primary, timeout=120)
        print(f"primary and standby ready, schema migrated ({time.monotonic() - started:.0f} s)")
        env.update(
            {
                "DATABASE_REPLICA_URLS": standby.url_for("covidhub"),
                "REPLICA_MAX_LAG_SECONDS": str(LAG_BOUND),
                "REPLICA_LAG_CHECK_SECONDS": "1",
                "REPLICA_RETRY_SECONDS": "3",
                "REPLICA_PIN_SECONDS": "10",
                "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
                "TRUSTED_PROXY_COUNT": "1",
            }
        )
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

        def lookup() -> dict[str, str]:
            return {
                "code": "".join(secrets.choice(alphabet) for _ in range(8)),
                "birth": "01/01/1990",
            }

        def client() -> str:
            return f"203.0.113.{secrets.randbelow(250) + 1}"

        def look_ups(count: int, cookie: str = "") -> list[int]:
            return [
                http(
                    f"{base}/api/v1/testing/lookup",
                    method="POST",
                    body=lookup(),
                    cookie=cookie,
                    client=client(),
                )[0]
                for _ in range(count)
            ]

        with server(env, port, work / "server.log"):
            # 1. Reads on the standby.
            before = reads(base)
            statuses = look_ups(10)
            moved = delta(before, reads(base))
            check(
                "1 look-ups read the standby",
                "replica:replica ≥ 10, answers 404 (no such code)",
                f"{moved} {sorted(set(statuses))}",
                moved.get("replica:replica", 0) >= 10 and set(statuses) == {404},
            )

            # 2. A client that wrote reads the primary.
            _status, headers, _body = http(
                f"{base}/api/v1/testing/lookup", method="POST", body=lookup(), client=client()
            )
            cookie = next(
                (v.split(";", 1)[0] for k, v in headers.items() if k.lower() == "set-cookie"), ""
            )
            before = reads(base)
            look_ups(5, cookie=cookie)
            moved = delta(before, reads(base))
            check(
                "2 a client that wrote reads the primary",
                "pin cookie set; primary:pinned ≥ 5, no replica reads",
                f"cookie={cookie!r} {moved}",
                cookie.startswith("covidhub_primary=")
                and moved.get("primary:pinned", 0) >= 5
                and "replica:replica" not in moved,
            )

            # 3. Replay paused past the bound.
            standby.sql("SELECT pg_wal_replay_pause()")
            primary.sql(
                "INSERT INTO core_benchprobe (key, created_at) VALUES ('drill', now())",
                database="covidhub",
            )
            time.sleep(LAG_BOUND + 2)
            before = reads(base)
            look_ups(10)
            moved = delta(before, reads(base))
            ready = json.loads(http(f"{base}/readyz")[2])
            replica = ready.get("replicas", {}).get("replica_1", {})
            check(
                "3 a standby lagging past the bound is not read",
                f"primary:lagging ≥ 1, /readyz lagging (> {LAG_BOUND} s), degraded",
                f"{moved} readyz={ready['status']} {replica}",
                moved.get("primary:lagging", 0) >= 1
                and replica.get("status") == "lagging"
                and ready["status"] == "degraded",
            )
            standby.sql("SELECT pg_wal_replay_resume()")
            standby.wait_replayed(primary)
            time.sleep(1.5)
            before = reads(base)
            look_ups(10)
            moved = delta(before, reads(base))
            check(
                "3' caught up, it is read again",
                "replica:replica ≥ 1",
                moved,
                moved.get("replica:replica", 0) >= 1,
            )

            # 4. The standby stopped.
            standby.stop("immediate")
            before = reads(base)
            statuses = look_ups(10)
            moved = delta(before, reads(base))
            ready = json.loads(http(f"{base}/readyz")[2])
            replica = ready.get("replicas", {}).get("replica_1", {})
            check(
                "4 the standby stopped: answers from the primary",
                "all 404 (none 5xx), primary:unavailable ≥ 1, /readyz unavailable",
                f"{sorted(set(statuses))} {moved} readyz={ready['status']} {replica}",
                set(statuses) == {404}
                and moved.get("primary:unavailable", 0) >= 1
                and replica.get("status") == "unavailable",
            )
            standby.start()
            standby.wait_replayed(primary, timeout=60)
            time.sleep(4)  # REPLICA_RETRY_SECONDS
            before = reads(base)
            look_ups(10)
            moved = delta(before, reads(base))
            check(
                "4' started again, it is read again",
                "replica:replica ≥ 1",
                moved,
                moved.get("replica:replica", 0) >= 1,
            )
    print()
    print("| step | expected | observed | result |")
    print("|---|---|---|---|")
    for step, expected, observed, ok in rows:
        print(f"| {step} | {expected} | {observed} | {'ok' if ok else 'FAILED'} |")
    print(
        f"\n{sum(ok for *_, ok in rows)}/{len(rows)} steps ok in {time.monotonic() - started:.0f} s"
    )
    if all(ok for *_, ok in rows):
        shutil.rmtree(work, ignore_errors=True)
        return 0
    print(f"server log kept in {work / 'server.log'}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
