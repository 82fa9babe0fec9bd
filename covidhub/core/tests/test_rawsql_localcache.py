"""The hot-path helpers: plain-statement reads give the same instances as the ORM, and the
per-process cache forgets on request and after its time to live."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.db import transaction

from covidhub.core.localcache import LocalCache, local_caches_clear
from covidhub.core.rawsql import db_values, model_rows, placeholders
from covidhub.people.models import Person


@pytest.mark.django_db
def test_model_rows_matches_the_orm(make_citizen):
    user = make_citizen(birth_date=datetime.date(1990, 5, 17))
    other = make_citizen(phone="+84912345679")
    mine = Person.objects.get(managed_by=user)
    keys = [mine.uuid, Person.objects.get(managed_by=other).uuid]
    found = model_rows(
        Person,
        f"managed_by_id = %s AND uuid IN ({placeholders(len(keys))})",
        [user.pk, *db_values(Person, "uuid", keys)],
        order_by="id",
    )
    assert found == [mine]
    [row] = found
    for field in Person._meta.concrete_fields:
        assert getattr(row, field.attname) == getattr(mine, field.attname), field.name
    assert row.uuid == mine.uuid and isinstance(row.birth_date, datetime.date)
    assert not row._state.adding
    assert model_rows(Person, "managed_by_id = %s", [-1]) == []


@pytest.mark.django_db
def test_model_rows_locks_rows(citizen):
    with transaction.atomic():
        assert len(model_rows(Person, "managed_by_id = %s", [citizen.pk], for_update=True)) == 1


def test_local_cache_loads_once_and_forgets():
    cache: LocalCache[str] = LocalCache("test", ttl_seconds=60)
    calls = []

    def load() -> str:
        calls.append(1)
        return "value"

    assert cache.get_or_load("k", load) == "value"
    assert cache.get_or_load("k", load) == "value"
    assert len(calls) == 1
    assert cache.get_or_load("missing", lambda: None) is None
    assert cache.get_or_load("missing", lambda: "now") == "now"  # a miss is not remembered
    local_caches_clear()
    cache.get_or_load("k", load)
    assert len(calls) == 2
    with mock.patch("covidhub.core.localcache.time.monotonic", return_value=10**9):
        cache.get_or_load("k", load)  # expired
    assert len(calls) == 3
