"""`execute_committing`: the last statement of a transaction, with its COMMIT in the same
message on PostgreSQL when the block is the outermost one."""

from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from covidhub.core.models import ScheduledRun
from covidhub.core.rawsql import constraint_of, execute_committing, in_pipeline, pipelined, table_of

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


# `pipelined`: statements sent together on PostgreSQL, one at a time elsewhere.


@pytest.mark.django_db(transaction=True)
def test_pipelined_statements_run_in_order_and_answer_when_fetched() -> None:
    with (
        transaction.atomic(),
        pipelined(),
        connection.cursor() as first,
        connection.cursor() as second,
    ):
        first.execute(_insert_run("first in the pipeline"), [])
        second.execute(
            "SELECT COUNT(*) FROM core_scheduledrun WHERE name = %s", ["first in the pipeline"]
        )
        # The count ran after the insert, in the same transaction.
        assert second.fetchone()[0] == 1
    assert ScheduledRun.objects.filter(name="first in the pipeline").count() == 1


@pytest.mark.django_db(transaction=True)
def test_pipelined_commit_goes_with_the_statements_and_runs_on_commit() -> None:
    committed: list[bool] = []
    with transaction.atomic():
        transaction.on_commit(lambda: committed.append(True))
        with pipelined():
            with connection.cursor() as cursor:
                cursor.execute(_insert_run("before the last"), [])
            sent = execute_committing(_insert_run("the last"), [])
        assert sent is (connection.vendor == "postgresql")
    assert committed == [True]
    assert set(ScheduledRun.objects.values_list("name", flat=True)) == {
        "before the last",
        "the last",
    }


@pytest.mark.django_db(transaction=True)
def test_pipelined_failure_is_raised_and_commits_nothing() -> None:
    ScheduledRun.objects.create(name="taken", slot=1)
    committed: list[bool] = []
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        transaction.on_commit(lambda: committed.append(True))
        with pipelined():
            with connection.cursor() as cursor:
                cursor.execute(_insert_run("queued before"), [])
                cursor.execute(_insert_run("taken"), [])  # the (name, slot) pair is taken
            execute_committing(_insert_run("queued after"), [])
    assert committed == []
    assert list(ScheduledRun.objects.values_list("name", flat=True)) == ["taken"]
    if connection.vendor == "postgresql":
        assert constraint_of(caught.value) != ""
        assert table_of(caught.value) == ScheduledRun._meta.db_table


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_pipelined_statements_share_one_round_trip(monkeypatch: Any) -> None:
    """Two statements and a third with its COMMIT: the client waits for the server's
    answers once, at the block's end, where one by one it would wait three times."""
    from psycopg._pipeline_base import BasePipeline

    waits: list[bool] = []
    real = BasePipeline._fetch_gen

    def spy(self: Any, *, flush: bool) -> Any:
        waits.append(flush)
        return real(self, flush=flush)

    monkeypatch.setattr(BasePipeline, "_fetch_gen", spy)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")  # the BEGIN, before the pipeline
        with pipelined():
            with connection.cursor() as cursor:
                cursor.execute(_insert_run("one"), [])
                cursor.execute(_insert_run("two"), [])
            assert execute_committing(_insert_run("three"), []) is True
            assert waits == []  # nothing waited for yet
    assert len(waits) == 1
    assert ScheduledRun.objects.filter(name__in=["one", "two", "three"]).count() == 3


def test_pipelined_is_nothing_on_sqlite_or_when_nested() -> None:
    with pipelined():
        if connection.vendor == "postgresql":
            assert in_pipeline(connection)
            with pipelined():  # nested: the outer block's pipeline goes on
                assert in_pipeline(connection)
            assert in_pipeline(connection)
        else:
            assert not in_pipeline(connection)
        ScheduledRun.objects.create(name="inside", slot=1)
    assert not in_pipeline(connection)
    assert ScheduledRun.objects.filter(name="inside").exists()
