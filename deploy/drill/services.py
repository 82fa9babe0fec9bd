"""The services of the cluster drill, each on its own host (deploy/drill/hosts.py):
PostgreSQL primary and streaming standby, PgBouncer, Redis, HAProxy, the app nodes
(granian) and the workers, plus the SMS gateway stand-in on the drill machine.

Only Debian's packages: postgresql-15, pgbouncer, redis-server, haproxy. The failover is
the documented scripted promotion (docs/scale.md, "Failover"): `pg_ctl promote` on the
standby, then PgBouncer repointed at it (RELOAD), so that no application setting changes.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from hosts import GATEWAY, Hosts, Process, run

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PYTHON = sys.executable
PACKAGES = {
    "postgresql-15": PG_BIN / "postgres",
    "pgbouncer": Path("/usr/sbin/pgbouncer"),
    "redis-server": Path("/usr/bin/redis-server"),
    "haproxy": Path("/usr/sbin/haproxy"),
}
# Addresses of the hosts (10.77.0.<n>).
LAYOUT = {
    "proxy": 2,
    "pool": 3,
    "redis": 4,
    "db1": 11,
    "db2": 12,
    "app1": 21,
    "app2": 22,
    "worker1": 31,
    "worker2": 32,
}


def packages_ensure(packages: dict[str, Path] = PACKAGES) -> list[str]:
    """Install the Debian packages that are missing; the names installed."""
    missing = [name for name, binary in packages.items() if not binary.exists()]
    if missing:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", *missing], check=True, env=env, timeout=900)
    return missing


def wait_for(what: str, probe: object, timeout: float = 60, every: float = 0.3) -> float:
    """Poll `probe()` until it is true; the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if probe():  # type: ignore[operator]
                return time.monotonic() - started
        except Exception:  # noqa: S110 - not up yet
            pass
        time.sleep(every)
    raise TimeoutError(f"{what} not ready in {timeout} s")


# PostgreSQL -------------------------------------------------------------------------------


def psql(address: str, statement: str, *, database: str = "postgres", port: int = 5432) -> str:
    return run(
        [
            str(PG_BIN / "psql"), "-h", address, "-p", str(port), "-U", "postgres", "-d",
            database, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", statement,
        ],
        timeout=30,
    ).strip()  # fmt: skip


class Postgres:
    def __init__(self, hosts: Hosts, host: str, base: Path) -> None:
        self.hosts, self.host = hosts, host
        self.data = base / host
        self.address = hosts.addresses[host]
        self.process: Process | None = None

    def initdb(self) -> None:
        self.hosts.exec(
            self.host,
            [
                str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
            ],
            user="postgres",
        )  # fmt: skip
        self._configure()

    def basebackup_from(self, primary: Postgres) -> None:
        self.hosts.exec(
            self.host,
            [
                str(PG_BIN / "pg_basebackup"), "-h", primary.address, "-U", "postgres",
                "-D", str(self.data), "-R", "-X", "stream", "-c", "fast", "--no-sync",
            ],
            user="postgres",
            timeout=300,
        )  # fmt: skip
        with (self.data / "postgresql.auto.conf").open("a") as conf:
            conf.write(f"unix_socket_directories = '{self.socket_dir()}'\n")

    def socket_dir(self) -> Path:
        """Its own (both listen on 5432, each in its own network namespace)."""
        path = self.data.parent / "sockets" / self.host
        if not path.exists():
            path.mkdir(parents=True)
            postgres = pwd.getpwnam("postgres")
            os.chown(path, postgres.pw_uid, postgres.pw_gid)
        return path

    def _configure(self) -> None:
        socket_dir = self.socket_dir()
        (self.data / "postgresql.auto.conf").open("a").write(
            f"""
listen_addresses = '*'
port = 5432
unix_socket_directories = '{socket_dir}'
wal_level = replica
max_wal_senders = 5
wal_keep_size = '256MB'
hot_standby = on
hot_standby_feedback = on
fsync = off
full_page_writes = off
shared_buffers = 48MB
max_connections = 120
wal_receiver_status_interval = 1s
log_min_messages = warning
"""
        )
        (self.data / "pg_hba.conf").open("a").write(
            "host all all 10.77.0.0/24 trust\nhost replication all 10.77.0.0/24 trust\n"
        )

    def start(self) -> None:
        self.process = self.hosts.spawn(
            self.host, self.host, [str(PG_BIN / "postgres"), "-D", str(self.data)], user="postgres"
        )
        wait_for(f"PostgreSQL on {self.host}", lambda: self.sql("SELECT 1") == "1", timeout=90)

    def crash(self) -> None:
        """The machine's PostgreSQL dies at once (SIGKILL to every process of it)."""
        assert self.process is not None
        self.process.kill()

    def sql(self, statement: str, database: str = "postgres") -> str:
        return psql(self.address, statement, database=database)

    def in_recovery(self) -> bool:
        return self.sql("SELECT pg_is_in_recovery()") == "t"

    def promote(self) -> None:
        self.hosts.exec(
            self.host, [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "promote"],
            user="postgres",
        )  # fmt: skip


def pg_base(var: Path) -> Path:
    base = var / "pg"
    base.mkdir(parents=True, exist_ok=True)
    (base / "sockets").mkdir(exist_ok=True)
    postgres = pwd.getpwnam("postgres")
    for path in (base, base / "sockets"):
        os.chown(path, postgres.pw_uid, postgres.pw_gid)
    base.chmod(0o700)
    return base


# PgBouncer --------------------------------------------------------------------------------


class PgBouncer:
    """Transaction pooling (as deploy/pgbouncer/pgbouncer.ini), `covidhub` on the primary
    and `covidhub_ro` on the standby; `repoint` moves both to a promoted standby."""

    PORT = 6432

    def __init__(self, hosts: Hosts, base: Path) -> None:
        self.hosts = hosts
        self.dir = base / "pgbouncer"
        self.dir.mkdir(exist_ok=True)
        postgres = pwd.getpwnam("postgres")
        os.chown(self.dir, postgres.pw_uid, postgres.pw_gid)
        self.address = hosts.addresses["pool"]
        self.config = self.dir / "pgbouncer.ini"

    def write(self, primary: str, standby: str) -> None:
        self.config.write_text(
            f"""[databases]
covidhub = host={primary} port=5432 dbname=covidhub
covidhub_ro = host={standby} port=5432 dbname=covidhub

[pgbouncer]
listen_addr = {self.address}
listen_port = {self.PORT}
unix_socket_dir =
auth_type = trust
auth_file = {self.dir / "userlist.txt"}
admin_users = postgres
pool_mode = transaction
default_pool_size = 20
max_client_conn = 500
server_reset_query = DISCARD ALL
server_connect_timeout = 3
server_login_retry = 1
query_wait_timeout = 30
ignore_startup_parameters = extra_float_digits,options
logfile = {self.dir / "pgbouncer.log"}
"""
        )
        (self.dir / "userlist.txt").write_text('"postgres" ""\n')

    def start(self, primary: str, standby: str) -> None:
        self.write(primary, standby)
        self.hosts.spawn("pgbouncer", "pool", ["pgbouncer", str(self.config)], user="postgres")
        wait_for("PgBouncer", lambda: self.admin("SHOW VERSION"), timeout=30)

    def admin(self, command: str) -> str:
        return psql(self.address, command, database="pgbouncer", port=self.PORT)

    def repoint(self, primary: str) -> None:
        """Both databases to `primary` (the promoted standby); RELOAD applies it."""
        self.write(primary, primary)
        self.admin("RELOAD")


# Redis, HAProxy ---------------------------------------------------------------------------


def redis_start(hosts: Hosts) -> Process:
    address = hosts.addresses["redis"]
    process = hosts.spawn(
        "redis",
        "redis",
        [
            "redis-server", "--bind", address, "--port", "6379", "--save", "",
            "--appendonly", "no", "--protected-mode", "no", "--dir", str(hosts.var),
        ],
    )  # fmt: skip
    wait_for("Redis", lambda: "PONG" in run(["redis-cli", "-h", address, "ping"]), timeout=30)
    return process


def haproxy_start(hosts: Hosts, apps: list[str]) -> Process:
    """HTTP in front of the app nodes: health checks every second, a node that fails two
    is taken out; a request whose connection fails is sent to the other node."""
    address = hosts.addresses["proxy"]
    servers = "\n".join(f"  server {name} {hosts.addresses[name]}:8000 check" for name in apps)
    config = hosts.var / "haproxy.cfg"
    config.write_text(
        f"""global
  maxconn 500
defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  retries 3
  option redispatch 1
  retry-on conn-failure
frontend web
  bind {address}:80
  option forwardfor
  default_backend apps
backend apps
  balance roundrobin
  option httpchk
  http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host {address}
  http-check expect status 200
  default-server inter 1s fall 2 rise 2
{servers}
"""
    )
    process = hosts.spawn("haproxy", "proxy", ["haproxy", "-db", "-f", str(config)])
    return process


# The application --------------------------------------------------------------------------


def app_start(hosts: Hosts, name: str, env: dict[str, str]) -> Process:
    address = hosts.addresses[name]
    metrics = hosts.var / f"prometheus-{name}"
    shutil.rmtree(metrics, ignore_errors=True)
    metrics.mkdir()
    process = hosts.spawn(
        name,
        name,
        [
            str(Path(PYTHON).parent / "granian"), "--interface", "wsgi", "--host", address,
            "--port", "8000", "--workers", "1", "--blocking-threads", "4",
            "--workers-kill-timeout", "10", "--no-ws",
            "--log-level", "warning", "config.wsgi:application",
        ],
        env={**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics)},
        cwd=ROOT,
    )  # fmt: skip
    return process


def app_healthy(address: str) -> bool:
    import urllib.request

    request = urllib.request.Request(f"http://{address}:8000/healthz", headers={"Host": address})
    with urllib.request.urlopen(request, timeout=3) as response:
        return bool(response.status == 200)


def worker_start(hosts: Hosts, name: str, env: dict[str, str], *, scheduler: bool) -> Process:
    argv = [PYTHON, "manage.py", "run_worker"] + ([] if scheduler else ["--no-scheduler"])
    return hosts.spawn(name, name, argv, env=env, cwd=ROOT)


def worker_id(process: Process) -> str:
    # `ip netns exec` execs the command: the worker's pid is the one we started.
    return f"{os.uname().nodename}-{process.popen.pid}"


# The SMS gateway stand-in -----------------------------------------------------------------


class Gateway:
    """Receives the SMS the workers send (POST /sms), slowly, as a real gateway answers,
    and counts each message id: a repeat is what a worker killed between sending and
    recording causes, and what the real gateway drops by its Idempotency-Key."""

    def __init__(self, port: int = 8025, delay: float = 0.3) -> None:
        self.received: Counter[str] = Counter()
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                time.sleep(delay)
                with gateway.lock:
                    gateway.received[str(body.get("id", ""))] += 1
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((GATEWAY, port), Handler)
        self.url = f"http://{GATEWAY}:{port}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
