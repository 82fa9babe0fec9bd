"""Per-process caches of reference data that hot paths read on every request (a commune by
its code, a venue by its QR code): a dict with a time to live, cleared on every change made
in this process and, for changes made elsewhere, after the time to live.

Only for data whose staleness for a few minutes is harmless; never for a value an
invariant depends on (capacity, stock, a dose number): those are read under a lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

_registry: list[LocalCache[Any]] = []


class LocalCache[V]:
    def __init__(self, name: str, *, ttl_seconds: float, max_entries: int = 50_000) -> None:
        self.name = name
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._data: dict[Hashable, tuple[float, V]] = {}
        self._lock = threading.Lock()
        _registry.append(self)

    def get_or_load(self, key: Hashable, load: Callable[[], V | None]) -> V | None:
        """The cached value, else `load()` (None is not cached: a miss is asked again)."""
        now = time.monotonic()
        hit = self._data.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = load()
        if value is not None:
            with self._lock:
                if len(self._data) >= self.max_entries:
                    self._data.clear()
                self._data[key] = (now + self.ttl, value)
        return value

    def clear(self, *args: Any, **kwargs: Any) -> None:
        """Forget everything (also usable as a signal receiver)."""
        with self._lock:
            self._data.clear()


def local_caches_clear() -> None:
    """Every per-process cache (tests call this between tests)."""
    for cache in _registry:
        cache.clear()
