"""Hot reads compiled once: the SQL of a `values_list()` queryset, built by the ORM for the
database in use, kept on the database connection and run again with new parameter values.

Django builds and compiles a queryset's SQL on every call, which is most of the CPU of a
one-query read. For the reads that a whole province makes at once when results are
released (a household's results, the lookup by code and date of birth), the SQL is
compiled once per connection (each server thread has its own) and each call only runs it
and applies the ORM's own converters (`SQLCompiler.get_converters`, worked out with the
SQL: asked on every call, they were a read's largest cost after the query itself): the rows
are exactly those of `values_list()`, on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router
from django.db.models import ForeignKey, Model, QuerySet
from django.utils.functional import cached_property

_CACHE_ATTRIBUTE = "_covidhub_compiled_rows"
_keys = itertools.count()


def _executed(connection: Any, sql: str, params: list[Any], *, binary: bool = False) -> Any:
    """A cursor that ran `sql`. When something listens to the statements (the query log
    of tests and DEBUG, an execute wrapper), Django's cursor, which tells them; otherwise
    the database's own cursor, made and checked as Django makes it (health check, thread,
    broken transaction, errors as Django's): Django's wrapper around each call cost about
    a quarter of a compiled read's CPU in the web process. `binary`: the rows come in
    PostgreSQL's binary format (`_binary_safe`)."""
    if connection.queries_logged or connection.execute_wrappers:
        cursor = connection.cursor()
        binary = False  # Django's cursor reads text (the same rows)
    else:
        connection.close_if_health_check_failed()
        connection.ensure_connection()
        connection.validate_thread_sharing()
        connection.validate_no_broken_transaction()
        with connection.wrap_database_errors:
            cursor = connection.create_cursor()
    try:
        with connection.wrap_database_errors:
            if binary:
                cursor.execute(sql, params, binary=True)
            else:
                cursor.execute(sql, params)
    except BaseException:
        cursor.close()
        raise
    return cursor


class CompiledRows:
    """A read whose SQL is compiled once per connection.

    `build(*values)` returns the `values_list()` queryset for the given parameter values,
    each an int (an id), a str (a code) or a UUID, as `kinds` says; it is called once per
    connection with marker values, to find where each value goes in the SQL's parameters.
    """

    def __init__(self, build: Callable[..., QuerySet[Any, Any]], *kinds: type) -> None:
        if any(kind not in (int, str, uuid.UUID) for kind in kinds):
            raise ImproperlyConfigured("CompiledRows takes int, str and UUID parameters only.")
        self.build = build
        self.kinds = kinds
        self._key = next(_keys)  # not id(self): an id is reused once its object is gone

    def rows(self, *values: Any) -> list[tuple[Any, ...]]:
        return self.start(*values)()

    def start(self, *values: Any) -> Callable[[], list[tuple[Any, ...]]]:
        """Execute the read and return the function that fetches its rows: inside
        `covidhub.core.rawsql.pipelined`, reads started one after the other travel
        together and the first fetch waits for all of them (one round trip)."""
        for value, kind in zip(values, self.kinds, strict=True):
            if type(value) is not kind:
                raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
        db = router.db_for_read(self.model)
        connection = connections[db]
        cache: dict[int, Any] = connection.__dict__.setdefault(_CACHE_ATTRIBUTE, {})
        compiled = cache.get(self._key)
        if compiled is None:
            compiled = cache[self._key] = self._compile(db)
        compiler, sql, params, positions, converters, binary = compiled
        params = list(params)
        for (position, as_hex), value in zip(positions, values, strict=True):
            params[position] = value.hex if as_hex else value
        cursor = _executed(connection, sql, params, binary=binary)

        def fetch() -> list[tuple[Any, ...]]:
            try:
                with connection.wrap_database_errors:
                    fetched = cursor.fetchall()
            finally:
                cursor.close()
            if converters is None:  # a composite field: the ORM's whole path
                return list(compiler.results_iter(results=[fetched], tuple_expected=True))
            if not converters:
                return [row if type(row) is tuple else tuple(row) for row in fetched]
            return list(map(tuple, compiler.apply_converters(fetched, converters)))

        return fetch

    @cached_property
    def model(self) -> type[Model]:
        # The database is chosen on each call (a standby inside `reads_from_replica`).
        model: type[Model] = self.build(*self._markers()).model
        return model

    def _markers(self) -> list[Any]:
        return [
            -7_340_293_101 - n
            if kind is int
            else uuid.UUID(int=0x7340_2931_01C0_FFEE_0000_0000_0000_0000 + n)
            if kind is uuid.UUID
            else f"\x00compiled-rows-marker-{n}\x00"
            for n, kind in enumerate(self.kinds)
        ]

    def _compile(
        self, db: str
    ) -> tuple[Any, str, list[Any], list[tuple[int, bool]], dict[int, Any] | None, bool]:
        markers = self._markers()
        queryset = self.build(*markers)
        compiler = queryset.query.get_compiler(using=db)
        sql, params = compiler.as_sql()
        params = list(params)
        positions = []
        for marker in markers:
            # A UUID is a parameter of its own type where the database has one
            # (PostgreSQL), else its 32 hex digits (SQLite).
            found = [
                (n, type(p) is str and type(marker) is uuid.UUID)
                for n, p in enumerate(params)
                if (type(p) is type(marker) and p == marker)
                or (type(marker) is uuid.UUID and p == marker.hex)
            ]
            if len(found) != 1:
                raise ImproperlyConfigured("Each parameter must appear once in the SQL.")
            positions.append(found[0])
        # The converters of the selected columns, as `results_iter` finds them on every
        # call (None: a composite field, left to `results_iter`).
        fields = [select[0] for select in compiler.select[: compiler.col_count]]
        converters = (
            None if compiler.has_composite_fields(fields) else compiler.get_converters(fields)
        )
        binary = (
            connections[db].vendor == "postgresql"
            and converters is not None  # they then convert the same values
            and all(_binary_safe(field.output_field) for field in fields)
        )
        return compiler, sql, params, positions, converters, binary


# The column types whose binary form psycopg loads into exactly what the ORM makes of
# their text form. Timestamps are most of a read's columns, and PostgreSQL writes and
# psycopg reads them in binary in C, without Django's Python loader for their text (a
# third of the web process's CPU of a 16-row read, and less of the database's). JSON and
# network addresses load differently in binary (Django keeps them as text): not listed.
_BINARY_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
        "BooleanField",
        "CharField",
        "TextField",
        "SlugField",
        "EmailField",
        "URLField",
        "DateField",
        "DateTimeField",
        "DecimalField",
        "FloatField",
        "UUIDField",
    }
)


def _binary_safe(field: Any) -> bool:
    if isinstance(field, ForeignKey):
        return _binary_safe(field.target_field)
    return field.get_internal_type() in _BINARY_TYPES
