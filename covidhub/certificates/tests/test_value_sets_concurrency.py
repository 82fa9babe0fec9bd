"""Value-set loads at once (the command and the hourly trust-list sync may meet) run in
turn: every load's change is in the newest release and the versions stay a line. Real
threads with their own connections on PostgreSQL, and a control without the lock that
shows the race (a load built on a release that was no longer the newest)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.db import connection

from covidhub.certificates import value_sets
from covidhub.certificates.dcc.valuesets import packaged_value_set_documents
from covidhub.certificates.models import ValueSetRelease
from covidhub.core.testing import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _loads(tag: str) -> tuple[list[Any], dict[str, str]]:
    """One load per value set, each adding a code of its own to that set (a file replaces
    its whole set: loads of different sets must all land), and the code of each set."""
    packaged = packaged_value_set_documents()
    added = {set_id: f"RACE-{tag}-{n}" for n, set_id in enumerate(sorted(packaged))}

    def load(set_id: str) -> Any:
        document = copy.deepcopy(packaged[set_id])
        sample = next(iter(document["valueSetValues"].values()))
        document["valueSetValues"][added[set_id]] = {**sample, "display": added[set_id]}
        try:
            return value_sets.value_sets_release_load(
                documents=[document], source=f"race {added[set_id]}", actor=None
            )
        except Exception as error:  # the control counts what the race broke
            return error
        finally:
            connection.close()

    return [lambda set_id=set_id: load(set_id) for set_id in added], added


def _landed(added: dict[str, str]) -> bool:
    newest = ValueSetRelease.objects.order_by("-version").first()
    assert newest is not None
    return all(code in newest.documents[set_id]["valueSetValues"] for set_id, code in added.items())


def test_value_set_loads_at_once_each_land_in_the_newest_release(monkeypatch):
    calls, added = _loads("a")
    results = race(calls, workers=len(calls))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert _landed(added)
    versions = list(ValueSetRelease.objects.order_by("version").values_list("version", flat=True))
    assert versions == list(range(1, len(calls) + 1))

    # Control: without the lock the same race loses loads or breaks.
    monkeypatch.setattr(value_sets, "transaction_lock", lambda *args, **kwargs: None)
    broken = False
    for attempt in range(5):
        calls, added = _loads(f"b{attempt}")
        results = race(calls, workers=len(calls))
        if any(isinstance(r, Exception) for r in results) or not _landed(added):
            broken = True
            break
    assert broken
