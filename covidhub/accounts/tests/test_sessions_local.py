"""Sessions: this process's copy saves the Redis read, and what this process changes or
ends takes effect at once; another process's change within AUTH_LOCAL_CACHE_SECONDS."""

from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import caches

from covidhub.accounts import sessions

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local(settings: Any) -> Any:
    settings.AUTH_LOCAL_CACHE_SECONDS = 5
    sessions.sessions_here_clear()
    yield
    sessions.sessions_here_clear()


def _reads(monkeypatch: Any) -> list[str]:
    seen: list[str] = []
    cache = caches["default"]
    real = cache.get

    def get(key: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(key)
        return real(key, *args, **kwargs)

    monkeypatch.setattr(cache, "get", get)
    return seen


def _saved(**data: Any) -> str:
    store = sessions.SessionStore()
    store.update(data)
    store.create()
    assert store.session_key is not None
    return store.session_key


def test_a_second_load_in_this_process_reads_no_cache(monkeypatch: Any) -> None:
    key = _saved(staff="xa", step=1)
    sessions.sessions_here_clear()
    reads = _reads(monkeypatch)
    assert sessions.SessionStore(key).load() == {"staff": "xa", "step": 1}
    assert sessions.SessionStore(key).load() == {"staff": "xa", "step": 1}
    assert len(reads) == 1
    # Each load is its own dict: a request changing its session changes no other's.
    first = sessions.SessionStore(key)
    first["step"] = 99
    assert sessions.SessionStore(key).load()["step"] == 1


def test_saved_here_is_seen_here_at_once() -> None:
    key = _saved(step=1)
    store = sessions.SessionStore(key)
    store["step"] = 2
    store.save()
    assert sessions.SessionStore(key).load()["step"] == 2


def test_signed_out_here_is_signed_out_here_at_once() -> None:
    key = _saved(staff="xa")
    assert sessions.SessionStore(key).load()
    store = sessions.SessionStore(key)
    store.flush()
    assert sessions.SessionStore(key).load() == {}
    other = _saved(staff="xa2")
    assert sessions.SessionStore(other).load()
    sessions.SessionStore().delete(other)
    assert sessions.SessionStore(other).load() == {}


def test_another_processs_change_is_seen_once_the_copy_lapses(monkeypatch: Any) -> None:
    key = _saved(staff="xa")
    assert sessions.SessionStore(key).load() == {"staff": "xa"}
    # Another process signs the session out (the same database and Redis, not our copy).
    stored = sessions.session_key_stored(key)
    Session.objects.filter(session_key=stored).delete()
    caches["default"].delete(sessions.SessionStore.cache_key_prefix + stored)
    assert sessions.SessionStore(key).load() == {"staff": "xa"}  # within the bound
    later = sessions._clock() + 6
    monkeypatch.setattr(sessions, "_clock", lambda: later)
    assert sessions.SessionStore(key).load() == {}


def test_without_the_setting_nothing_is_kept(settings: Any, monkeypatch: Any) -> None:
    settings.AUTH_LOCAL_CACHE_SECONDS = 0
    key = _saved(staff="xa")
    reads = _reads(monkeypatch)
    sessions.SessionStore(key).load()
    sessions.SessionStore(key).load()
    assert len(reads) == 2
