"""Benchmark harness: the production server on PostgreSQL, the worker, a load driver,
and bare Django views as the baseline measured in the same run.

    from bench.harness import Bench
    with Bench("foundation") as bench:
        bench.manage("seed_demo", "--people", "20000", "--quiet")
        base = bench.wrk(name="baseline: bare view", path="/_bench/noop")
        rows = [base, bench.wrk(name="who am I", path="/api/v1/me", headers={...})]
        bench.report(rows)

Each bench gets its own database (covidhub_bench_<name>, dropped and created anew), runs
with DJANGO_ENV=production settings (DEBUG off, manifest static files, Redis cache) behind
granian on 127.0.0.1, and the load comes from wrk (C, one thread per core) on loopback
only, bounded in time. Results are printed as a table and written to bench/results/.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PG_BASE_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")


@dataclass
class Result:
    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    seconds: float
    connections: int
    extra: dict[str, Any] = field(default_factory=dict)


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process, from /proc (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # Fields after the command: state is [0], utime [11], stime [12] (stat(5) 14 and 15).
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def _group_pids(pgid: int) -> list[int]:
    """Every live process of a process group (granian's workers share the server's)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            pids.append(int(entry.name))
    return pids


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _duration_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        return float("nan")
    value, unit = float(match[1]), match[2]
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def machine() -> dict[str, str]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 1024 / 1024:.0f} GiB"
    pg = subprocess.run(
        ["psql", PG_ADMIN_URL, "-Atc", "show server_version"],
        capture_output=True,
        text=True,
        errors="replace",
        check=False,
    ).stdout.strip()
    return {
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "memory": memory,
        "python": platform.python_version(),
        "postgresql": pg,
        "cpu_probe_ms": f"{cpu_probe_ms():.0f}",
    }


def cpu_probe_ms() -> float:
    """Milliseconds for a fixed pure-Python loop (the best of five): how fast this machine
    runs right now. Shared cloud cores vary from hour to hour, so a run's figures compare
    with another's only beside their baselines, and this says by how much the machine
    itself moved."""
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        total = 0
        for n in range(2_000_000):
            total += n
        best = min(best, time.perf_counter() - started)
    return best * 1000


class Bench:
    def __init__(
        self,
        name: str,
        *,
        web_workers: int = 2,
        blocking_threads: int = 4,
        worker: bool = True,
        keep_database: bool = False,
    ) -> None:
        self.name = name
        # keep_database: a database that a bench grows over several runs (bench_scale) is
        # created when missing and otherwise used as it is, never dropped here.
        self.keep_database = keep_database
        # BENCH_DATABASE names another database (a helper's own, on a shared server).
        self.database = os.environ.get("BENCH_DATABASE") or f"covidhub_bench_{name}"
        # BENCH_PORT (and BENCH_EMAIL_PORT below): a helper's own port range on a shared
        # machine.
        self.port = int(os.environ.get("BENCH_PORT") or 0) or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.web_workers = web_workers
        self.blocking_threads = blocking_threads
        self.with_worker = worker
        self.var_dir = Path(f"/tmp/covidhub-bench-{name}")
        self.secret_key = secrets.token_urlsafe(50)
        self.processes: list[subprocess.Popen[bytes]] = []
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ("DJANGO_ALLOW_ASYNC_UNSAFE",)},
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_ENV": "production",
            "DATABASE_URL": f"{PG_BASE_URL}/{self.database}",
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3"),
            "SECRET_KEY": self.secret_key,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_HSTS_SECONDS": "0",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": os.environ.get("BENCH_EMAIL_PORT") or str(free_port()),
            "BENCH_ENDPOINTS": "1",
            "COVIDHUB_VAR_DIR": str(self.var_dir),
            "PHONE_CODE_MAX_PER_ADDRESS_PER_HOUR": "1000000000",
            # A bench's sampler scans thousands of distinct people in seconds, past any
            # real hourly look-up budget: a budget this large is still counted and charged
            # on every scan (its cost is measured) but refuses none.
            "STAFF_LOOKUPS_PER_HOUR_BY_ROLE": "sampler=100000000,vaccinator=100000000,"
            "site_manager=100000000",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
            # The passphrase of the DSC private key (production refuses to run without one).
            "COVIDHUB_DSC_PASSPHRASE": secrets.token_urlsafe(24),
        }

    # -- lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> Bench:
        self.cpu_probe_start = cpu_probe_ms()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        exists = subprocess.run(
            [
                "psql",
                PG_ADMIN_URL,
                "-Atc",
                f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'",  # noqa: S608 - our own name
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if not (self.keep_database and exists):
            self._psql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            self._psql(f'CREATE DATABASE "{self.database}"')
        self._flush_redis()
        self.manage("migrate", "--noinput", "-v0")
        self.manage("createcachetable")  # the database cache that stands in for Redis
        self.manage("collectstatic", "--noinput", "-v0")
        self.manage("load_areas")
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start granian (production WSGI server) and, by default, the task worker."""
        if self.processes:
            return
        log = open(self.var_dir / "server.log", "ab")  # noqa: SIM115 - kept open for the process
        server = subprocess.Popen(
            [
                str(Path(PYTHON).parent / "granian"),
                "--interface",
                "wsgi",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(self.web_workers),
                "--blocking-threads",
                str(self.blocking_threads),
                # As scripts/run: a worker stuck on stopping is killed (docs/operations.md).
                "--workers-kill-timeout",
                "10",
                "--backlog",
                "2048",
                "--no-ws",
                "--log-level",
                "warning",
                "config.wsgi:application",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        self.processes.append(server)
        if self.with_worker:
            worker = subprocess.Popen(
                [PYTHON, "manage.py", "run_worker"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
            self.processes.append(worker)
        # Generous: on a loaded machine two granian workers may take a minute to import.
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}/_bench/noop", timeout=2) as response,
            ):
                if response.status == 200:
                    if self.with_worker:
                        self.worker_settle()
                    return
            time.sleep(0.3)
        raise RuntimeError(f"the server did not start; see {self.var_dir / 'server.log'}")

    def worker_settle(self, timeout: float = 300) -> int:
        """Wait until the worker has run every task that is due: a new worker's scheduler
        enqueues each periodic job at once (rollups, matching, retention), and the set-up
        of a bench may have queued work (a release's notices). Measured beside that
        backlog, the figures, baselines included, would be those of its first minutes,
        not of a working day. Returns the seconds waited."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            due = self.sql(
                "SELECT count(*) FROM django_tasks_database_dbtaskresult "
                "WHERE status IN ('READY', 'RUNNING') AND (run_after IS NULL OR run_after <= now())"
            )
            if due == "0":
                break
            time.sleep(1)
        return round(time.monotonic() - started)

    def stop(self) -> None:
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
        self.processes = []

    # -- helpers --------------------------------------------------------------------------
    def manage(self, *args: str, capture: bool = False, development: bool = False) -> str:
        """Run manage.py against the bench database; `development=True` for commands that
        production refuses, such as seed_demo (the data is synthetic)."""
        env = {**self.env, "DJANGO_ENV": "development"} if development else self.env
        result = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=capture,
            text=True,
            errors="replace",
        )
        return result.stdout if capture else ""

    def seed(self, people: int) -> str:
        """The synthetic province (seed_demo, COPY on PostgreSQL) with `people` people."""
        return self.manage(
            "seed_demo", "--people", str(people), "--quiet", capture=True, development=True
        )

    def django_setup(self) -> None:
        """Use the ORM in this process against the bench database (same settings)."""
        os.environ.update(self.env)
        import django

        django.setup()

    def signing_key_production(self) -> str:
        """A production DSC, made as an operator makes one: the key pair and its CSR
        (`certificates_dsc_request`), signed by a CSCA made for this bench run (standing in
        for the national CSCA), then imported. The worker then issues real certificates;
        a development key would be refused in production and every task would fail.
        Call after `django_setup`; returns the key's kid."""
        from datetime import UTC, datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.serialization import Encoding
        from cryptography.x509.oid import NameOID

        from covidhub.certificates.dcc.keys import KeyAndCertificate, csr_sign_with_csca
        from covidhub.certificates.keystore import (
            signing_key_import_certificate,
            signing_key_request,
        )

        now = datetime.now(UTC)
        csca_key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                x509.NameAttribute(NameOID.COMMON_NAME, "covidhub bench CSCA"),
            ]
        )
        csca_certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(csca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now.replace(year=now.year + 2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(csca_key, hashes.SHA256())
        )
        key = signing_key_request(
            actor=None, organization="Sở Y tế tỉnh Hải Dương", common_name="Hai Duong DCC DSC"
        )
        csr = x509.load_pem_x509_csr(key.csr_pem.encode())
        dsc = csr_sign_with_csca(
            csr=csr,
            csca=KeyAndCertificate(private_key=csca_key, certificate=csca_certificate),
            now=now,
        )
        key = signing_key_import_certificate(
            actor=None, key=key, certificate_data=dsc.public_bytes(Encoding.PEM)
        )
        return str(key.kid)

    def sql(self, statement: str) -> str:
        return subprocess.run(
            ["psql", self.env["DATABASE_URL"], "-Atc", statement],
            capture_output=True,
            text=True,
            errors="replace",
            check=True,
        ).stdout.strip()

    def _psql(self, statement: str) -> None:
        subprocess.run(["psql", PG_ADMIN_URL, "-qc", statement], check=True, capture_output=True)

    def _flush_redis(self) -> None:
        url = self.env["REDIS_URL"]
        database = url.rsplit("/", 1)[-1]
        with contextlib.suppress(FileNotFoundError):
            subprocess.run(
                ["redis-cli", "-n", database, "FLUSHDB"], check=False, capture_output=True
            )

    # -- load -----------------------------------------------------------------------------
    def wrk(
        self,
        *,
        name: str,
        path: str,
        method: str = "GET",
        body: str | None = None,
        headers: dict[str, str] | None = None,
        lua: str | None = None,
        lua_args: list[str] | None = None,
        connections: int = 32,
        duration: int = 10,
        threads: int = 2,
        warmup: int = 2,
        ok_statuses: tuple[int, ...] = (200, 201, 202, 204),
        lua_counts: bool = True,
    ) -> Result:
        """Drive the server with wrk; a response outside `ok_statuses` counts as an error.
        `lua_counts=False`: a `lua` script's refusals are counted from wrk's own "Non-2xx
        or 3xx responses" line instead of a Lua response() callback, which makes wrk copy
        every body into a Lua string (for large bodies, load on wrk that the baseline's
        plain GET does not carry)."""
        if not shutil.which("wrk"):
            raise RuntimeError("wrk is missing: apt-get install -y wrk")
        self.start()
        script = self._script(
            method=method,
            body=body,
            headers=headers or {},
            lua=lua,
            ok_statuses=ok_statuses,
            lua_counts=lua_counts,
        )
        base = ["wrk", "-t", str(threads), "-c", str(connections), "--latency", "-s", str(script)]
        if warmup:
            subprocess.run(
                [*base, "-d", f"{warmup}s", f"{self.url}{path}", "--", *(lua_args or []), "warmup"],
                capture_output=True,
                check=False,
            )
        cpu_before = self.cpu_seconds()
        started = time.perf_counter()
        completed = subprocess.run(
            [
                *base,
                "-d",
                f"{duration}s",
                "--timeout",
                "10s",
                f"{self.url}{path}",
                "--",
                *(lua_args or []),
            ],
            capture_output=True,
            text=True,
            errors="replace",
            check=True,
        )
        elapsed = time.perf_counter() - started
        cpu_after = self.cpu_seconds()
        result = self._parse(name, completed.stdout, connections, elapsed)
        if result.requests:
            # CPU per request, the capacity model's input (bench/capacity.py): what the
            # web tier and the database spent, not wall time, so other load on the
            # machine slows a run without changing what a request costs.
            for tier in ("app", "db"):
                spent = sum(
                    after - cpu_before[tier].get(pid, 0.0) for pid, after in cpu_after[tier].items()
                )
                result.extra[f"{tier}_cpu_ms_per_request"] = round(
                    spent * 1000 / result.requests, 3
                )
        if result.errors:
            # The first refused responses (status and body), so that errors are explained.
            samples = [line for line in completed.stderr.splitlines() if line.strip()][:3]
            result.extra["error_samples"] = samples
            for line in samples:
                print(f"  {name}: {line}", file=sys.stderr, flush=True)
        return result

    def database_sizes(self) -> dict[str, int]:
        """The bench database's size, its people and its check-ins (bytes and rows), for
        the capacity model's storage estimate."""
        try:
            row = self.sql(
                "SELECT pg_database_size(current_database()), "
                "(SELECT count(*) FROM people_person), "
                # Partitioned by day (covidhub.core.partitions): the parent holds
                # nothing itself, its partitions hold the rows.
                "(SELECT coalesce(sum(pg_total_relation_size(relid)), "
                "pg_total_relation_size('declarations_checkin')) "
                "FROM pg_partition_tree('declarations_checkin')), "
                "(SELECT count(*) FROM declarations_checkin)"
            )
        except subprocess.CalledProcessError:
            return {}
        total, people, checkin_bytes, checkins = (int(v) for v in row.split("|"))
        return {
            "database_bytes": total,
            "people": people,
            "checkin_bytes": checkin_bytes,
            "checkins": checkins,
        }

    def cpu_seconds(self) -> dict[str, dict[int, float]]:
        """CPU seconds per process of the web tier (the granian process group) and of the
        PostgreSQL backends serving the bench database. A backend that appears between
        two readings started during the run: all of its CPU counts."""
        app: dict[int, float] = {}
        if self.processes:
            app = {pid: _process_cpu_seconds(pid) for pid in _group_pids(self.processes[0].pid)}
        backends = self.sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        db = {int(pid): _process_cpu_seconds(int(pid)) for pid in backends.split() if pid}
        return {"app": app, "db": db}

    def _script(
        self,
        *,
        method: str,
        body: str | None,
        headers: dict[str, str],
        lua: str | None,
        ok_statuses: tuple[int, ...],
        lua_counts: bool = True,
    ) -> Path:
        """A wrk script: the given request (or a bench/lua file) plus error counting by status."""
        statuses = ", ".join(f"[{s}]=true" for s in ok_statuses)
        counting = f"""
local ok_status = {{{statuses}}}
bad = 0
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function response(status, headers, body)
  if not ok_status[status] then
    bad = bad + 1
    if bad <= 3 then io.stderr:write("status " .. status .. ": " .. string.sub(body or "", 1, 200) .. "\\n") end
  end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + (t:get("bad") or 0) end
  io.write(string.format("BAD_STATUS %d\\n", total))
end
"""
        if not lua and method == "GET" and not body:
            # Plain GETs count refusals from wrk's own "Non-2xx or 3xx responses" line: a
            # Lua response() callback makes wrk copy every body into a Lua string, which
            # for bodies over 128 KiB costs wrk more than the server's whole answer.
            header_lines = "".join(
                f'wrk.headers["{k}"] = {json.dumps(v)}\n' for k, v in headers.items()
            )
            text = f'wrk.method = "GET"\n{header_lines}'
            path = self.var_dir / f"wrk-{abs(hash(text))}.lua"
            path.write_text(text)
            return path
        if lua and not lua_counts:
            text = (ROOT / lua).read_text()
        elif lua:
            user = (ROOT / lua).read_text()
            text = (
                user
                + "\n"
                + counting.replace(
                    "function setup(thread) table.insert(threads, thread) end",
                    "local user_setup = setup\nfunction setup(thread) table.insert(threads, thread); if user_setup then user_setup(thread) end end",
                )
            )
        else:
            header_lines = "".join(
                f'wrk.headers["{k}"] = {json.dumps(v)}\n' for k, v in headers.items()
            )
            body_line = f"wrk.body = {json.dumps(body)}\n" if body is not None else ""
            text = f'wrk.method = "{method}"\n{header_lines}{body_line}{counting}'
        path = self.var_dir / f"wrk-{abs(hash(text))}.lua"
        path.write_text(text)
        return path

    def _parse(self, name: str, output: str, connections: int, elapsed: float) -> Result:
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])  # type: ignore[index]
        total = int(re.search(r"(\d+) requests in", output)[1])  # type: ignore[index]
        p50 = _duration_ms(re.search(r"\s50%\s+(\S+)", output)[1])  # type: ignore[index]
        p99 = _duration_ms(re.search(r"\s99%\s+(\S+)", output)[1])  # type: ignore[index]
        socket_errors = sum(
            int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output)
        )
        bad = int(m[1]) if (m := re.search(r"BAD_STATUS (\d+)", output)) else 0
        if m is None and (n := re.search(r"Non-2xx or 3xx responses: (\d+)", output)):
            bad = int(n[1])
        return Result(
            name, rps, p50, p99, total, bad + socket_errors, round(elapsed, 1), connections
        )

    # -- reporting ------------------------------------------------------------------------
    def report(self, results: list[Result], *, notes: dict[str, Any] | None = None) -> Path:
        info = machine()
        lines = [
            f"# bench {self.name} — {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
            f"machine: {info['cores']} cores, {info['cpu']}, {info['memory']}; Python {info['python']}; PostgreSQL {info['postgresql']}; CPU probe {getattr(self, 'cpu_probe_start', 0):.0f} ms at the start, {info['cpu_probe_ms']} ms at the end (2M-step Python loop, best of 5: lower is faster)",
            f"server: granian WSGI, {self.web_workers} workers × {self.blocking_threads} threads, DJANGO_ENV=production; worker running: {self.with_worker}",
            "",
            "| scenario | req/s | p50 ms | p99 ms | requests | errors | connections |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in results:
            lines.append(
                f"| {r.name} | {r.requests_per_second:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.requests:,} | {r.errors} | {r.connections} |"
            )
        costed = [r for r in results if "app_cpu_ms_per_request" in r.extra]
        if costed:
            lines += [
                "",
                "| scenario | web CPU ms/request | database CPU ms/request |",
                "|---|---:|---:|",
            ]
            for r in costed:
                lines.append(
                    f"| {r.name} | {r.extra['app_cpu_ms_per_request']:.2f} | {r.extra['db_cpu_ms_per_request']:.2f} |"
                )
        for key, value in (notes or {}).items():
            lines.append(f"- {key}: {value}")
        text = "\n".join(lines)
        print(text, flush=True)
        out = ROOT / "bench" / "results"
        out.mkdir(exist_ok=True)
        path = out / f"{self.name}-{datetime.datetime.now(datetime.UTC):%Y%m%dT%H%M%S}.json"
        path.write_text(
            json.dumps(
                {
                    "machine": info,
                    "database": self.database_sizes(),
                    "results": [asdict(r) for r in results],
                    "notes": notes or {},
                    "table": text,
                },
                indent=2,
                default=str,
            )
        )
        return path
