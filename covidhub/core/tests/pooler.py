"""A throwaway PgBouncer (Debian's pgbouncer package) in front of a PostgreSQL server, on a
spare port, for the pooling test and the pooling benchmark.

    with pgbouncer(host="127.0.0.1", port=5432, pool_mode="transaction") as port:
        ...connect to 127.0.0.1:port, any database of that server...

Trust authentication, for loopback only (a deployment's own configuration is in
deploy/pgbouncer/). Leaving the block stops it and removes its directory.
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
from pathlib import Path

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def available() -> bool:
    return Path(PGBOUNCER).exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def pgbouncer(
    *,
    host: str = "127.0.0.1",
    port: int = 5432,
    pool_mode: str = "transaction",
    pool_size: int = 20,
    max_client_conn: int = 1000,
) -> Iterator[int]:
    """PgBouncer listening on a spare loopback port (yielded), pooling every database of
    the server at host:port."""
    if not available():
        raise RuntimeError("pgbouncer is not installed (apt-get install -y pgbouncer)")
    base = Path(tempfile.mkdtemp(prefix="covidhub-pgbouncer-"))
    listen = _free_port()
    (base / "userlist.txt").write_text('"postgres" ""\n', encoding="utf-8")
    (base / "pgbouncer.ini").write_text(
        f"""[databases]
* = host={host} port={port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen}
unix_socket_dir =
auth_type = trust
auth_file = {base / "userlist.txt"}
pool_mode = {pool_mode}
default_pool_size = {pool_size}
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = {max_client_conn}
max_db_connections = {pool_size}
server_reset_query = DISCARD ALL
server_reset_query_always = 0
ignore_startup_parameters = extra_float_digits,options
logfile = {base / "pgbouncer.log"}
pidfile = {base / "pgbouncer.pid"}
log_connections = 0
log_disconnections = 0
""",
        encoding="utf-8",
    )
    command = [PGBOUNCER, "-d", str(base / "pgbouncer.ini")]
    if os.geteuid() == 0:
        # PgBouncer refuses to run as root: -u switches to the postgres user.
        postgres = pwd.getpwnam("postgres")
        for path in [base, *base.iterdir()]:
            os.chown(path, postgres.pw_uid, postgres.pw_gid)
        command[1:1] = ["-u", "postgres"]
    subprocess.run(command, check=True, timeout=30, capture_output=True)
    try:
        deadline = time.monotonic() + 15
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", listen), 1):
                break
            if time.monotonic() > deadline:
                log = (base / "pgbouncer.log").read_text(errors="replace")
                raise RuntimeError(f"pgbouncer did not start: {log[-2000:]}")
            time.sleep(0.05)
        yield listen
    finally:
        with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError):
            pid = int((base / "pgbouncer.pid").read_text().strip())
            os.kill(pid, 15)
            for _ in range(100):
                os.kill(pid, 0)
                time.sleep(0.05)
        shutil.rmtree(base, ignore_errors=True)
