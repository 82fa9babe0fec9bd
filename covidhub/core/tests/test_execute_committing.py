"""`execute_committing`: the last statement of a transaction, with its COMMIT in the same
message on PostgreSQL when the block is the outermost one."""

from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from covidhub.core.models import ScheduledRun
from covidhub.core.rawsql import constraint_of, execute_committing

pytestmark = pytest.mark.django_db


def _insert_run(name: str) -> str:
    table = connection.ops.quote_name(ScheduledRun._meta.db_table)
    return f"INSERT INTO {table} (name, slot, created_at) VALUES ('{name}', 1, CURRENT_TIMESTAMP)"  # noqa: S608 - test constants


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_it_refuses() -> None:
    with pytest.raises(RuntimeError):
        execute_committing("SELECT 1", [])


def test_nested_in_a_transaction_it_leaves_the_commit_to_the_outermost_block() -> None:
    # The test runs in a transaction of its own: this block is nested, the statement alone.
    with transaction.atomic():
        assert execute_committing(_insert_run("nested"), []) is False
    assert ScheduledRun.objects.filter(name="nested").exists()


@pytest.mark.django_db(transaction=True)
def test_outermost_on_postgresql_it_commits_with_the_statement() -> None:
    committed: list[bool] = []
    with transaction.atomic():
        transaction.on_commit(lambda: committed.append(True))
        sent = execute_committing(_insert_run("outermost"), [])
        # PostgreSQL has no transaction open any more; SQLite commits at the block's end.
        assert sent is (connection.vendor == "postgresql")
    assert committed == [True]
    assert ScheduledRun.objects.filter(name="outermost").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_failing_statement_commits_nothing_of_the_transaction() -> None:
    ScheduledRun.objects.create(name="taken", slot=1)
    committed: list[bool] = []
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        ScheduledRun.objects.create(name="earlier in the transaction", slot=1)
        transaction.on_commit(lambda: committed.append(True))
        execute_committing(_insert_run("taken"), [])  # the (name, slot) pair is taken
    assert not ScheduledRun.objects.filter(name="earlier in the transaction").exists()
    assert committed == []
    if connection.vendor == "postgresql":
        assert constraint_of(caught.value) != ""
    # The connection is usable again.
    assert ScheduledRun.objects.filter(name="taken").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_commit_travels_in_the_message(monkeypatch: Any) -> None:
    sent: list[str] = []
    from psycopg import ClientCursor

    real = ClientCursor.execute

    def spy(self: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
        sent.append(str(query))
        return real(self, query, params, **kwargs)

    monkeypatch.setattr(ClientCursor, "execute", spy)
    with transaction.atomic():
        execute_committing(_insert_run("one message"), [])
    assert len(sent) == 1 and sent[0].rstrip().endswith("COMMIT")
