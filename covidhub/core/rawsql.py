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

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connections, models

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
    using: str = "default",
) -> list[M]:
    """Instances of `model` whose rows match `where` (SQL with %s placeholders); with
    `for_update`, the rows are locked where the database can (PostgreSQL)."""
    connection = connections[using]
    select, attnames, converters = _plan(model, using)
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
    for row in rows:
        if converters:
            values = list(row)
            for index, funcs, col in converters:
                value = values[index]
                for func in funcs:
                    value = func(value, col, connection)
                values[index] = value
            row = values
        out.append(model.from_db(using, attnames, row))
    return out
