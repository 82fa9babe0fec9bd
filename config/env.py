"""Read settings from the environment, failing loudly on values that cannot be right.

Kept apart from the settings module so that helpers are typed and testable.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str = "") -> str:
    """A string variable; a `NAME_FILE` variant wins, for secrets mounted as files."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        try:
            return Path(file_path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_path} cannot be read: {exc}") from exc
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false)")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_ints(name: str, default: tuple[int, ...], *, count: int, minimum: int) -> tuple[int, ...]:
    """`count` comma-separated integers, each at least `minimum` ("50000,20,100")."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        values = tuple(int(item) for item in raw.split(","))
    except ValueError:
        values = ()
    if len(values) != count or min(values) < minimum:
        raise ImproperlyConfigured(
            f"{name}={raw!r} must be {count} comma-separated integers of at least {minimum}"
        )
    return values


def env_int_map(name: str, default: dict[str, int]) -> dict[str, int]:
    """`name=3,other=5` merged over `default`; a malformed entry is a configuration error."""
    merged = dict(default)
    raw = os.environ.get(name, "")
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ImproperlyConfigured(f"{name}: {item!r} is not name=number")
        try:
            merged[key.strip()] = int(value)
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}: {item!r} is not name=number") from exc
    return merged


def site_url_from_listen(host: str, port: str) -> str:
    """The address people reach a server started on HOST:PORT (scripts/run), for links in
    PDFs, QR codes, messages and open data when SITE_URL is not set. A wildcard address
    (listening on every interface) is reached through the loopback one."""
    host = host.strip() or "127.0.0.1"
    if host in {"0.0.0.0", "::", "[::]"}:  # noqa: S104 - a listen address, not a bind
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # IPv6 literal
    port = port.strip() or "8000"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ImproperlyConfigured(f"PORT={port!r} is not a port number")
    return f"http://{host}:{port}"
