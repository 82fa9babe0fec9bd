"""Stopping the server as `scripts/run` starts it: a granian worker that does not stop is
killed by the server's main process after the kill timeout, so the server always stops
(granian 2.8 can leave a worker stuck in its stop-signal handler when the worker gets more
than one stop signal, as Ctrl+C or a stop of the whole process group gives it)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
KILL_TIMEOUT_SECONDS = 10


def _run_command() -> str:
    """The granian command of scripts/run, with its continuation lines."""
    lines = (ROOT / "scripts" / "run").read_text(encoding="utf-8").splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("granian "))
    parts = []
    for line in lines[start:]:
        parts.append(line.removesuffix("\\").strip())
        if not line.endswith("\\"):
            break
    return " ".join(parts)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    found.append(int(entry.name))
    return found


def _serving(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # it answered
    except OSError:
        return False


def test_a_worker_that_does_not_stop_is_killed_and_the_server_stops(tmp_path: Path) -> None:
    command = _run_command()
    assert "--workers-kill-timeout" in command
    port = _free_port()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WORKERS": "1",
        "COVIDHUB_VAR_DIR": str(tmp_path),
    }
    env.pop("DATABASE_URL", None)  # nothing here reads the database
    with (tmp_path / "server.log").open("wb") as log:
        server = subprocess.Popen(
            ["bash", "-c", f"exec {command}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 90
        while not _serving(port):
            assert server.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.3)
        workers = _children(server.pid)
        assert workers
        # A worker that will not stop, as one stuck in its signal handler.
        os.kill(workers[0], signal.SIGSTOP)
        stopped_at = time.monotonic()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=KILL_TIMEOUT_SECONDS + 25)  # without the timeout: forever
        assert time.monotonic() - stopped_at < KILL_TIMEOUT_SECONDS + 20
        assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
