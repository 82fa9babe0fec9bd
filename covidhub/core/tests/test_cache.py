"""The Redis cache backend keeps one client per pool and behaves like Django's."""

from __future__ import annotations

import socket

import pytest

from covidhub.core.cache import SharedClientRedisCache


def _redis_up() -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", 6379)) == 0


@pytest.mark.skipif(not _redis_up(), reason="needs Redis on 127.0.0.1:6379")
def test_shared_client_cache_round_trip():
    cache = SharedClientRedisCache("redis://127.0.0.1:6379/9", {"KEY_PREFIX": "covidhub-test"})
    cache.clear()
    cache.set("a", {"n": 1}, 30)
    assert cache.get("a") == {"n": 1}
    assert cache.get_many(["a", "b"]) == {"a": {"n": 1}}
    assert cache.add("a", 2) is False
    cache.set("count", 1)
    assert cache.incr("count") == 2
    cache.delete_many(["a", "count"])
    assert cache.get("a") is None
    client = cache._cache.get_client("a")
    assert cache._cache.get_client("b") is client
    assert cache._cache.get_client("a", write=True) is client  # one server: one pool
    cache.clear()
