"""Hosts for the cluster drills: network namespaces on one bridge, and the processes in them.

Each host is a network namespace (`ip netns`) with one veth into a bridge that the drill
machine itself joins as 10.77.0.1 (the load generator and the SMS gateway stand-in run
there). A process started on a host runs in its namespace, in its own process group, with
its output in `<var>/logs/<name>.log`; killing it kills the whole group (a crashed
machine, as far as its service goes). `Hosts.close()` stops every process it started and
removes every namespace, link and bridge it made — call it in a `finally`.

Names are prefixed (`drl-`) so that a run can remove what an interrupted earlier run left,
and never touches anything else.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

NET = os.environ.get("DRILL_NET", "10.77.0")
BRIDGE = "drl-br0"
PREFIX = "drl-"
GATEWAY = f"{NET}.1"


def run(command: list[str], *, timeout: float = 60, check: bool = True) -> str:
    completed = subprocess.run(
        command, capture_output=True, text=True, errors="replace", timeout=timeout, check=False
    )
    if check and completed.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({completed.returncode}): "
            f"{completed.stderr.strip() or completed.stdout.strip()}"
        )
    return completed.stdout


def leftovers_remove() -> None:
    """Remove the namespaces and bridge of an earlier run that did not finish."""
    for line in run(["ip", "netns", "list"], check=False).splitlines():
        name = line.split()[0] if line.split() else ""
        if name.startswith(PREFIX):
            pids = run(["ip", "netns", "pids", name], check=False).split()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
            run(["ip", "netns", "del", name], check=False)
    run(["ip", "link", "del", BRIDGE], check=False)


@dataclass
class Process:
    name: str
    host: str
    popen: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)

    def stop(self, timeout: float = 10) -> None:
        if not self.alive():
            return
        self.kill(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=5)


@dataclass
class Hosts:
    var: Path
    addresses: dict[str, str] = field(default_factory=dict)
    processes: dict[str, Process] = field(default_factory=dict)
    _bridge: bool = False

    def __post_init__(self) -> None:
        (self.var / "logs").mkdir(parents=True, exist_ok=True)

    def ns(self, host: str) -> str:
        return f"{PREFIX}{host}"

    def bridge_up(self) -> None:
        leftovers_remove()
        run(["ip", "link", "add", BRIDGE, "type", "bridge"])
        self._bridge = True
        run(["ip", "addr", "add", f"{GATEWAY}/24", "dev", BRIDGE])
        run(["ip", "link", "set", BRIDGE, "up"])

    def add(self, host: str, number: int) -> str:
        """A host at 10.77.0.<number>, reachable from the bridge and every other host."""
        ns, veth = self.ns(host), f"{PREFIX}{host}"[:15]
        address = f"{NET}.{number}"
        run(["ip", "netns", "add", ns])
        run(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns])
        run(["ip", "link", "set", veth, "master", BRIDGE, "up"])
        run(["ip", "-n", ns, "addr", "add", f"{address}/24", "dev", "eth0"])
        run(["ip", "-n", ns, "link", "set", "eth0", "up"])
        run(["ip", "-n", ns, "link", "set", "lo", "up"])
        run(["ip", "-n", ns, "route", "add", "default", "via", GATEWAY])
        self.addresses[host] = address
        return address

    def link(self, host: str, up: bool) -> None:
        """Cut a host off the network (down) or plug it back (up)."""
        veth = f"{PREFIX}{host}"[:15]
        run(["ip", "link", "set", veth, "up" if up else "down"])

    def command(self, host: str, argv: list[str], *, user: str = "") -> list[str]:
        prefix = ["ip", "netns", "exec", self.ns(host)]
        if user:
            prefix += ["runuser", "-u", user, "--"]
        return prefix + argv

    def exec(self, host: str, argv: list[str], *, user: str = "", timeout: float = 120) -> str:
        return run(self.command(host, argv, user=user), timeout=timeout)

    def spawn(
        self,
        name: str,
        host: str,
        argv: list[str],
        *,
        env: dict[str, str] | None = None,
        user: str = "",
        cwd: Path | None = None,
    ) -> Process:
        log = self.var / "logs" / f"{name}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(
                self.command(host, argv, user=user),
                env=env,
                cwd=cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        process = Process(name, host, popen, log)
        self.processes[name] = process
        return process

    def close(self) -> None:
        for process in reversed(list(self.processes.values())):
            process.stop()
        time.sleep(0.2)
        for host in list(self.addresses):
            ns = self.ns(host)
            for pid in run(["ip", "netns", "pids", ns], check=False).split():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
            run(["ip", "netns", "del", ns], check=False)
        self.addresses.clear()
        if self._bridge:
            run(["ip", "link", "del", BRIDGE], check=False)
            self._bridge = False
