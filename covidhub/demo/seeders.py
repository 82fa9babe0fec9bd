"""Capabilities add their demo data (sites, labs, agencies, …) by registering a seeder."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Seeder = Callable[..., list[str]]
_seeders: list[tuple[int, str, Seeder]] = []


def register_seeder(name: str, fn: Seeder, *, order: int = 100) -> None:
    if all(existing != name for _o, existing, _f in _seeders):
        _seeders.append((order, name, fn))


def seeders() -> list[tuple[str, Seeder]]:
    return [(name, fn) for _o, name, fn in sorted(_seeders, key=lambda s: (s[0], s[1]))]


def run_all(**context: Any) -> list[str]:
    lines: list[str] = []
    for _name, fn in seeders():
        lines.extend(fn(**context))
    return lines
