"""A throwaway PostgreSQL 15 primary and its streaming hot standby (pg_basebackup), on
spare ports in a temporary directory, for the replica tests and the replica drill.

    with standby_pair() as (primary, standby):
        primary.sql("CREATE TABLE t (n int)")
        standby.wait_replayed(primary)

Every command is bounded by a timeout; leaving the block stops both servers (immediate
shutdown) and removes the directory. Run as root, the servers run as the postgres user
(PostgreSQL refuses root). The binaries come from PG_BIN (default
/usr/lib/postgresql/15/bin, Debian's postgresql-15).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def available() -> bool:
    return (PG_BIN / "initdb").exists() and (PG_BIN / "pg_basebackup").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _run(command: list[str], *, timeout: float = 60) -> str:
    completed = subprocess.run(
        _as_postgres(command),
        capture_output=True,
        text=True,
        errors="replace",
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {completed.stderr.strip() or completed.stdout}")
    return completed.stdout


@dataclass
class Server:
    name: str
    data: Path
    port: int
    socket_dir: Path

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def url_for(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str, *, database: str = "postgres", timeout: float = 30) -> str:
        return _run(
            [
                str(PG_BIN / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-XAtq",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                statement,
            ],
            timeout=timeout,
        ).strip()

    def start(self) -> None:
        _run(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.data.parent / f"{self.name}.log"),
                "-w",
                "-t",
                "60",
                "start",
            ],
            timeout=90,
        )

    def stop(self, mode: str = "fast") -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            _run(
                [
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-m",
                    mode,
                    "-w",
                    "-t",
                    "30",
                    "stop",
                ],
                timeout=60,
            )

    def wait_replayed(self, primary: Server, *, timeout: float = 30) -> None:
        """Until this standby has replayed everything the primary has written so far."""
        target = primary.sql("SELECT pg_current_wal_lsn()")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.sql(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn") == "t":
                return
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} did not replay up to {target} in {timeout} s")


def _configure(data: Path, port: int, socket_dir: Path) -> None:
    settings = f"""
port = {port}
listen_addresses = '127.0.0.1'
unix_socket_directories = '{socket_dir}'
wal_level = replica
max_wal_senders = 5
hot_standby = on
hot_standby_feedback = on
fsync = off
full_page_writes = off
shared_buffers = 32MB
max_connections = 60
wal_receiver_status_interval = 1s
log_min_messages = warning
"""
    with (data / "postgresql.auto.conf").open("a", encoding="utf-8") as conf:
        conf.write(settings)


@contextlib.contextmanager
def standby_pair(*, keep_on_error: bool = False) -> Iterator[tuple[Server, Server]]:
    """A primary and a hot standby streaming from it, both started; stopped on exit."""
    if not available():
        raise RuntimeError(f"PostgreSQL binaries not found in {PG_BIN}")
    base = Path(tempfile.mkdtemp(prefix="covidhub-standby-"))
    if os.geteuid() == 0:
        postgres = pwd.getpwnam("postgres")
        os.chown(base, postgres.pw_uid, postgres.pw_gid)
    base.chmod(0o700)
    primary = Server("primary", base / "primary", _free_port(), base)
    standby = Server("standby", base / "standby", _free_port(), base)
    started: list[Server] = []
    failed = False
    try:
        _run(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(primary.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            timeout=120,
        )
        _configure(primary.data, primary.port, base)
        primary.start()
        started.append(primary)
        _run(
            [
                str(PG_BIN / "pg_basebackup"),
                "-h",
                "127.0.0.1",
                "-p",
                str(primary.port),
                "-U",
                "postgres",
                "-D",
                str(standby.data),
                "-R",  # standby.signal and primary_conninfo
                "-X",
                "stream",
                "-c",
                "fast",
                "--no-sync",
            ],
            timeout=120,
        )
        with (standby.data / "postgresql.auto.conf").open("a", encoding="utf-8") as conf:
            conf.write(f"\nport = {standby.port}\n")
        standby.start()
        started.append(standby)
        deadline = time.monotonic() + 30
        while standby.sql("SELECT count(*) FROM pg_stat_wal_receiver") != "1":
            if time.monotonic() > deadline:
                raise TimeoutError("the standby did not start streaming")
            time.sleep(0.1)
        yield primary, standby
    except BaseException:
        failed = True
        raise
    finally:
        for server in reversed(started):
            server.stop("immediate")
        if not (failed and keep_on_error):
            shutil.rmtree(base, ignore_errors=True)
