"""Fast reads for the busiest requests: a model's rows by a hand-written WHERE clause,
without the ORM's per-call query compilation (often most of a simple request's CPU).

The column list and the value converters of each model are worked out once per process;
the rows come back as ordinary model instances (`Model.from_db`), converted exactly as the
ORM would (UUIDs, dates and JSON on SQLite too). Use it only for simple single-table reads
on hot paths; everything else stays on the ORM.

    people = model_rows(
        Person,
        "managed_by_id = %s AND uuid IN ({})".format(placeholders(len(keys))),
        [account.pk, *db_values(Person, "uuid", keys)],
        order_by="id",
        for_update=True,
    )
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any

from django.db import IntegrityError, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper

_Converter = Callable[[Any, Any, Any], Any]
_plans: dict[
    tuple[str, type[models.Model]], tuple[str, list[str], list[tuple[int, list[_Converter], Any]]]
] = {}


def placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)


def db_values(
    model: type[models.Model], field_name: str, values: Iterable[Any], using: str = "default"
) -> list[Any]:
    """Parameters in the database's own form (a UUID is 32 hex characters on SQLite)."""
    field = model._meta.get_field(field_name)
    connection = connections[using]
    return [field.get_db_prep_value(value, connection) for value in values]  # type: ignore[union-attr]


def _plan(
    model: type[models.Model], using: str
) -> tuple[str, list[str], list[tuple[int, list[_Converter], Any]]]:
    key = (using, model)
    plan = _plans.get(key)
    if plan is None:
        connection = connections[using]
        quote = connection.ops.quote_name
        fields = list(model._meta.concrete_fields)
        columns = ", ".join(quote(str(f.column)) for f in fields)
        converters = []
        for index, field in enumerate(fields):
            col = field.get_col(str(model._meta.db_table))
            found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            if found:
                converters.append((index, found, col))
        plan = (
            f"SELECT {columns} FROM {quote(model._meta.db_table)}",  # noqa: S608 - names only
            [f.attname for f in fields],
            converters,
        )
        _plans[key] = plan
    return plan


def model_rows[M: models.Model](
    model: type[M],
    where: str,
    params: Sequence[Any],
    *,
    order_by: str = "",
    for_update: bool = False,
    limit: int | None = None,
    annotate: Sequence[tuple[str, str]] = (),
    using: str = "default",
) -> list[M]:
    """Instances of `model` whose rows match `where` (SQL with %s placeholders); with
    `for_update`, the rows are locked where the database can (PostgreSQL). `annotate`:
    (attribute, SQL expression) pairs selected too and set on each instance as the
    database returns them (no converters: keep them to ints, texts and booleans)."""
    connection = connections[using]
    select, attnames, converters = _plan(model, using)
    if annotate:
        extra = ", ".join(expression for _name, expression in annotate)
        select = select.replace(" FROM ", f", {extra} FROM ", 1)
    sql = f"{select} WHERE {where}"
    if order_by:
        sql += f" ORDER BY {order_by}"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    if for_update and connection.features.has_select_for_update:
        if not connection.in_atomic_block:
            raise RuntimeError("select_for_update outside a transaction")
        sql += " FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    out = []
    width = len(attnames)
    for row in rows:
        extras = row[width:]
        if converters or annotate:
            values = list(row[:width])
            for index, funcs, col in converters:
                value = values[index]
                for func in funcs:
                    value = func(value, col, connection)
                values[index] = value
            row = values
        instance = model.from_db(using, attnames, row)
        for (name, _expression), value in zip(annotate, extras, strict=True):
            setattr(instance, name, value)
        out.append(instance)
    return out


def execute_committing(sql: str, params: Sequence[Any], *, using: str = "default") -> bool:
    """Run `sql`, the last statement of the caller's transaction; on PostgreSQL, when that
    transaction is the outermost atomic block, its COMMIT travels in the same message.

    For a statement that locks a row every request wants (a site's stock of a lot): the
    lock is then held only while PostgreSQL runs the statement and the commit, not also
    for a return to Python and a COMMIT round trip (under load, a wait for the GIL too).
    The atomic block's own commit then finds no transaction open and does nothing, and
    its on-commit callbacks run as usual. Nothing may run in the block after this.
    If `sql` fails, the COMMIT does not run (PostgreSQL skips the rest of a message after
    an error) and the error rolls the block back as any other would. Nested in another
    atomic block (a caller's transaction, a test's), or on SQLite, `sql` runs alone and
    the outermost block commits. Returns whether the COMMIT was sent.
    """
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("execute_committing runs at the end of a transaction")
    # The outermost block, entered in autocommit mode: the one whose exit would commit.
    outermost = connection.commit_on_exit and not connection.savepoint_ids
    committing = outermost and connection.vendor == "postgresql"
    if not committing:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        return False
    if in_pipeline(connection):
        # Queued behind the block's other statements: the COMMIT goes with them when the
        # pipeline is synced (the end of `pipelined`), and is skipped if any of them fails.
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        with connection.wrap_database_errors:
            connection.connection.execute(b"COMMIT", prepare=False)
        return True
    with connection.wrap_database_errors, message_cursor(connection) as cursor:
        cursor.execute(f"{sql};\nCOMMIT", params)
    return True


def in_pipeline(connection: Any) -> bool:
    """Whether `connection` (a Django wrapper) is inside `pipelined`."""
    if connection.vendor != "postgresql" or connection.connection is None:
        return False
    from psycopg import pq

    return bool(connection.connection.pgconn.pipeline_status != pq.PipelineStatus.OFF)


@contextmanager
def pipelined(using: str = "default") -> Iterator[None]:
    """On PostgreSQL, the statements executed in the block travel together (psycopg's
    pipeline mode): none waits for its answer until a result is fetched, which sends
    what is queued and waits for it, or until the block ends, which sends the rest and
    waits for all. A transaction's BEGIN is still a round trip of its own.

    Execute every statement whose answer is not needed yet, then fetch: four statements
    and one fetch are one round trip instead of four. A statement that fails makes the
    ones queued after it skipped (as in one message) and its error is raised at that
    fetch or at the end of the block; inside a transaction, the atomic block then rolls
    back as after any error. Elsewhere (SQLite) each statement runs when executed, and
    the block changes nothing.
    """
    connection = connections[using]
    if connection.vendor != "postgresql" or in_pipeline(connection):
        yield
        return
    connection.ensure_connection()
    with connection.wrap_database_errors, connection.connection.pipeline():
        yield


def message_cursor(connection: Any) -> Any:
    """A PostgreSQL cursor that binds parameters on the client, as several statements in
    one message need (with `server_side_binding`, Django's cursors bind on the server,
    which takes one statement at a time). Errors are psycopg's: run it inside
    `connection.wrap_database_errors`."""
    from psycopg import ClientCursor

    connection.ensure_connection()
    return ClientCursor(connection.connection)


def _diagnostic(exc: IntegrityError, field: str) -> str:
    diagnostic = getattr(exc.__cause__, "diag", None)
    return str(getattr(diagnostic, field, "") or "")


def constraint_of(exc: IntegrityError) -> str:
    """The name of the constraint an IntegrityError broke, where the database says it
    (psycopg's diagnostics on PostgreSQL; "" on SQLite, which writes one at a time)."""
    return _diagnostic(exc, "constraint_name")


def table_of(exc: IntegrityError) -> str:
    """The table whose constraint an IntegrityError broke, as `constraint_of` says it."""
    return _diagnostic(exc, "table_name")


# Writes as hand-written statements (data-modifying CTEs on PostgreSQL): the INSERT of a
# model's row from the values the ORM would have written, built once per process.


@cache
def insert_fields(model: type[models.Model]) -> tuple[models.Field[Any, Any], ...]:
    """The fields an INSERT of `model` writes: all but the primary key."""
    return tuple(field for field in model._meta.concrete_fields if not field.primary_key)


def insert_values(
    obj: models.Model, database: BaseDatabaseWrapper, fields: tuple[models.Field[Any, Any], ...]
) -> list[Any]:
    """The parameters of `fields` of the unsaved `obj`, as the ORM's compiler prepares them
    (pre_save fills auto_now(_add) and defaults)."""
    adding = obj._state.adding
    return [field.get_db_prep_save(field.pre_save(obj, adding), database) for field in fields]


def insert_sql(
    model: type[models.Model], quote: Callable[[str], str], source: str = "", *, pk: bool = False
) -> str:
    """INSERT of one row of `model` from parameters; `source`: once for each row of that
    relation (a CTE), so that the row exists only with it; `pk`: the primary key is the
    first parameter (drawn beforehand), not left to the database."""
    fields = insert_fields(model)
    if pk:
        fields = (model._meta.pk, *fields)  # type: ignore[assignment]
    columns = ", ".join(quote(str(field.column)) for field in fields)
    marks = placeholders(len(fields))
    # In INSERT ... SELECT, PostgreSQL types the untyped parameters by the target columns,
    # as in VALUES.
    rows = f"SELECT {marks} FROM {source}" if source else f"VALUES ({marks})"  # noqa: S608 - names from model metadata
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) {rows}"


def insert_returning_pk(
    obj: models.Model, database: BaseDatabaseWrapper, sql: str, params: Sequence[Any]
) -> bool:
    """Run a statement that inserts `obj` (and whatever else it writes) and returns its new
    primary key first, or no row when it inserted nothing (a conflict it let pass). On a
    row, `obj` is left as `save()` leaves it: its key set, saved on this database."""
    with database.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = database.alias
    return True


_statements: dict[tuple[str, str], str] = {}


def statement_once(database: BaseDatabaseWrapper, name: str, build: Callable[..., str]) -> str:
    """A statement built once per process by `build(quote_name)` (it may depend on the
    models and the database vendor only); `name` must be unique across the project."""
    key = (database.vendor, name)
    statement = _statements.get(key)
    if statement is None:
        statement = _statements[key] = build(database.ops.quote_name)
    return statement
