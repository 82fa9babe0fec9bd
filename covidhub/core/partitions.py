"""PostgreSQL native partitioning of the tables that grow without bound: the one place
that says which tables are partitioned, by what, and the DDL that converts them, keeps
their partitions ready, drops the expired ones and detaches old ones for the archive.

- Check-ins and declarations: by their `day`, one partition a day, so that retention
  (``DECLARATIONS_RETENTION_DAYS``, a number of days) drops a whole day's partition
  instead of deleting its rows, and keeps exactly the promised number of days.
- Audit events: by `at`, one partition a (local) month; old months are detached and
  archived by hand (``manage.py partitions detach-archive``), never dropped by a job.

Every partitioned table has a DEFAULT partition, so an insert never fails for want of a
partition: a row whose period has none lands there (retention deletes such rows one by
one, the old way). Unique constraints of a partitioned table must hold the partition key:
the primary key is (id, key) in the database while Django keeps `id` as the model's pk,
and `uuid` is unique per (uuid, key), which a random UUID makes no weaker in practice.
Nothing may hold a foreign key to these tables (FollowUp.declaration has no constraint).

Not partitioned, on purpose: the outbox of messages (`dedupe_key` is unique across all
time: a partition key in it would let the same notification be sent twice across a
boundary), idempotency records (`(owner, key)` must stay unique across a boundary, and
the rows live hours), and django-tasks-db's task rows (a third-party table with its own
migrations). docs/scale.md says more.

SQLite keeps plain tables: each function here returns at once there.
"""

from __future__ import annotations

import datetime
import logging
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connections, transaction

logger = logging.getLogger(__name__)

DAY = "day"
MONTH = "month"


@dataclass(frozen=True)
class Spec:
    table: str
    column: str
    interval: str
    # Partitions kept ready after the current one (maintenance runs daily).
    ahead: int
    # The key is a timestamp (bounds at local midnight) rather than a date.
    timestamp: bool = False
    # Rows may be deleted (moved out of the DEFAULT partition into a new one); the
    # audit trail's may not.
    movable: bool = True


SPECS: dict[str, Spec] = {
    spec.table: spec
    for spec in (
        Spec("declarations_checkin", "day", DAY, ahead=14),
        Spec("declarations_declaration", "day", DAY, ahead=14),
        Spec("audit_auditevent", "at", MONTH, ahead=3, timestamp=True, movable=False),
    )
}


@dataclass(frozen=True)
class Partition:
    name: str
    start: datetime.date | None  # None: the DEFAULT partition
    end: datetime.date | None
    rows: int | None = None


class PartitionError(RuntimeError):
    pass


def quote(name: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise PartitionError(f"not a plain table name: {name!r}")
    return f'"{name}"'


def period_start(spec: Spec, day: datetime.date) -> datetime.date:
    return day.replace(day=1) if spec.interval == MONTH else day


def period_next(spec: Spec, start: datetime.date) -> datetime.date:
    if spec.interval == DAY:
        return start + datetime.timedelta(days=1)
    return (start.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)


def partition_name(spec: Spec, start: datetime.date) -> str:
    return (
        f"{spec.table}_p{start:%Y%m}" if spec.interval == MONTH else f"{spec.table}_p{start:%Y%m%d}"
    )


def _bound(spec: Spec, day: datetime.date) -> str:
    if spec.timestamp:
        local = datetime.datetime.combine(day, datetime.time(), ZoneInfo(settings.TIME_ZONE))
        return f"'{local.isoformat()}'"
    return f"'{day.isoformat()}'"


def _parse_bound(text: str) -> datetime.date:
    value = text.strip().strip("'")
    if len(value) == 10:
        return datetime.date.fromisoformat(value)
    moment = datetime.datetime.fromisoformat(value)
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).date()


def _local_today() -> datetime.date:
    return datetime.datetime.now(ZoneInfo(settings.TIME_ZONE)).date()


def _on_postgres(using: str) -> bool:
    return connections[using].vendor == "postgresql"


def is_partitioned(table: str, *, using: str = "default") -> bool:
    if not _on_postgres(using):
        return False
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [table])
        row = cursor.fetchone()
    return bool(row) and row[0] == "p"


def partition_list(table: str, *, using: str = "default", rows: bool = False) -> list[Partition]:
    """The partitions of `table`, oldest first, the DEFAULT one last."""
    if not is_partitioned(table, using=using):
        return []
    found = []
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(%s)",
            [table],
        )
        for name, bound in cursor.fetchall():
            count = None
            if rows:
                cursor.execute(f"SELECT count(*) FROM {quote(name)}")  # noqa: S608
                count = cursor.fetchone()[0]
            match = re.fullmatch(r"FOR VALUES FROM \((.+)\) TO \((.+)\)", bound)
            if match:
                found.append(Partition(name, _parse_bound(match[1]), _parse_bound(match[2]), count))
            else:
                found.append(Partition(name, None, None, count))
    return sorted(found, key=lambda p: (p.start is None, p.start or datetime.date.min))


# Converting a plain table (the migrations) ----------------------------------------------


def _definitions(cursor: Any, table: str) -> dict[str, Any]:
    cursor.execute(
        "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = to_regclass(%s) AND contype IN ('p', 'u', 'f') ORDER BY conname",
        [table],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT pg_get_indexdef(i.indexrelid), i.indisunique FROM pg_index i "
        "WHERE i.indrelid = to_regclass(%s) AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1",
        [table],
    )
    indexes = cursor.fetchall()
    cursor.execute(
        "SELECT pg_get_triggerdef(oid) FROM pg_trigger "
        "WHERE tgrelid = to_regclass(%s) AND NOT tgisinternal ORDER BY tgname",
        [table],
    )
    triggers = [row[0] for row in cursor.fetchall()]
    cursor.execute(
        "SELECT conname FROM pg_constraint WHERE confrelid = to_regclass(%s) AND contype = 'f'",
        [table],
    )
    referenced_by = [row[0] for row in cursor.fetchall()]
    return {
        "constraints": constraints,
        "indexes": indexes,
        "triggers": triggers,
        "referenced_by": referenced_by,
    }


def _with_key(definition: str, column: str, *, add: bool) -> str:
    """`UNIQUE (uuid)` ⇄ `UNIQUE (uuid, day)`; `PRIMARY KEY (id)` ⇄ `PRIMARY KEY (id, day)`."""
    match = re.fullmatch(r"(PRIMARY KEY|UNIQUE) \((.+)\)(.*)", definition)
    if not match:
        raise PartitionError(f"cannot rewrite constraint: {definition}")
    columns = [c.strip() for c in match[2].split(",")]
    if add and column not in columns:
        columns.append(column)
    if not add and columns[-1] == column and len(columns) > 1:
        columns.pop()
    return f"{match[1]} ({', '.join(columns)}){match[3]}"


def _rebuild(cursor: Any, spec: Spec, *, partitioned: bool, today: datetime.date) -> None:
    table = quote(spec.table)
    old = quote(f"{spec.table}__old")
    found = _definitions(cursor, spec.table)
    if found["referenced_by"]:
        raise PartitionError(
            f"{spec.table} is referenced by foreign keys {found['referenced_by']}: "
            "make them db_constraint=False first"
        )
    for definition, unique in found["indexes"]:
        if unique and partitioned:
            raise PartitionError(f"a unique index without the partition key: {definition}")
    cursor.execute(f"ALTER TABLE {table} RENAME TO {old}")
    tail = f" PARTITION BY RANGE ({quote(spec.column)})" if partitioned else ""
    cursor.execute(
        f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
        f"INCLUDING IDENTITY INCLUDING GENERATED INCLUDING STORAGE){tail}"
    )
    if partitioned:
        cursor.execute(
            f"CREATE TABLE {quote(spec.table + '_default')} PARTITION OF {table} DEFAULT"
        )
        cursor.execute(f"SELECT min({quote(spec.column)}) FROM {old}")  # noqa: S608
        oldest = cursor.fetchone()[0]
        if isinstance(oldest, datetime.datetime):
            oldest = oldest.astimezone(ZoneInfo(settings.TIME_ZONE)).date()
        _create_range(
            cursor, spec, first=oldest or today, today=today, with_data_only=True, old=old
        )
    cursor.execute(f"INSERT INTO {table} SELECT * FROM {old}")  # noqa: S608
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [f"{spec.table}__old"])
    old_sequence = cursor.fetchone()[0]
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [spec.table])
    new_sequence = cursor.fetchone()[0]
    if old_sequence and new_sequence:
        cursor.execute(f"SELECT last_value, is_called FROM {old_sequence}")  # noqa: S608
        last_value, is_called = cursor.fetchone()
        cursor.execute("SELECT setval(%s, %s, %s)", [new_sequence, last_value, is_called])
    cursor.execute(f"DROP TABLE {old}")
    if old_sequence and new_sequence and new_sequence != old_sequence:
        cursor.execute(f"ALTER SEQUENCE {new_sequence} RENAME TO {old_sequence.split('.')[-1]}")
    for name, kind, definition in found["constraints"]:
        if kind in ("p", "u"):
            definition = _with_key(definition, spec.column, add=partitioned)
        cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")
    for definition, _unique in found["indexes"]:
        cursor.execute(definition)
    for definition in found["triggers"]:
        cursor.execute(definition)


def _create_range(
    cursor: Any,
    spec: Spec,
    *,
    first: datetime.date,
    today: datetime.date,
    with_data_only: bool = False,
    old: str = "",
) -> list[str]:
    """Partitions from `first`'s period to `spec.ahead` periods past today's (past
    periods only where `old` has rows, when `with_data_only`)."""
    made = []
    current = period_start(spec, today)
    last = current
    for _ in range(spec.ahead):
        last = period_next(spec, last)
    start = period_start(spec, min(first, current))
    while start <= last:
        end = period_next(spec, start)
        if with_data_only and start < current:
            cursor.execute(
                f"SELECT 1 FROM {old} WHERE {quote(spec.column)} >= {_bound(spec, start)} "  # noqa: S608
                f"AND {quote(spec.column)} < {_bound(spec, end)} LIMIT 1"
            )
            if cursor.fetchone() is None:
                start = end
                continue
        if _create_one(cursor, spec, start):
            made.append(partition_name(spec, start))
        start = end
    return made


def _create_one(cursor: Any, spec: Spec, start: datetime.date) -> bool:
    """Create the partition of the period starting at `start` unless it exists. Rows of
    that period waiting in the DEFAULT partition are moved into it (not for a table whose
    rows may not be deleted: those are reported and the partition is not made)."""
    name = partition_name(spec, start)
    cursor.execute("SELECT to_regclass(%s)", [name])
    if cursor.fetchone()[0] is not None:
        return False
    end = period_next(spec, start)
    table, default = quote(spec.table), quote(spec.table + "_default")
    where = (
        f"{quote(spec.column)} >= {_bound(spec, start)} "
        f"AND {quote(spec.column)} < {_bound(spec, end)}"
    )
    cursor.execute(f"SELECT count(*) FROM {default} WHERE {where}")  # noqa: S608
    waiting = cursor.fetchone()[0]
    if waiting and not spec.movable:
        logger.warning(
            "partitions: %s rows of %s wait in %s_default; partition %s not made",
            waiting,
            spec.table,
            spec.table,
            name,
        )
        return False
    moved = quote(f"{name}__moving")
    if waiting:
        cursor.execute(f"CREATE TEMPORARY TABLE {moved} (LIKE {table}) ON COMMIT DROP")
        cursor.execute(
            f"WITH gone AS (DELETE FROM {default} WHERE {where} RETURNING *) "  # noqa: S608
            f"INSERT INTO {moved} SELECT * FROM gone"
        )
    cursor.execute(
        f"CREATE TABLE {quote(name)} PARTITION OF {table} "
        f"FOR VALUES FROM ({_bound(spec, start)}) TO ({_bound(spec, end)})"
    )
    # A partition belongs to its table's owner (the audit owner role after lockdown),
    # whoever made it: a superuser running maintenance, or the application itself.
    cursor.execute(
        "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = to_regclass(%s)", [spec.table]
    )
    owner = cursor.fetchone()[0]
    cursor.execute(
        "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = to_regclass(%s)", [name]
    )
    if cursor.fetchone()[0] != owner:
        cursor.execute(f'ALTER TABLE {quote(name)} OWNER TO "{owner}"')
    if waiting:
        cursor.execute(f"INSERT INTO {table} SELECT * FROM {moved}")  # noqa: S608
        cursor.execute(f"DROP TABLE {moved}")
    return True


def table_partition(schema_editor: Any, table: str) -> None:
    """Migration step: rebuild the plain `table` as a partitioned one (PostgreSQL only),
    moving its rows, with partitions for past periods that hold rows, the current one,
    the ones ahead and a DEFAULT one."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        _rebuild(cursor, SPECS[table], partitioned=True, today=_local_today())


def table_unpartition(schema_editor: Any, table: str) -> None:
    """The migration step backwards: one plain table again, with the same rows."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        _rebuild(cursor, SPECS[table], partitioned=False, today=_local_today())


# Maintenance, retention, archive --------------------------------------------------------


def _owns(cursor: Any, table: str) -> bool:
    cursor.execute(
        "SELECT pg_has_role(current_user, relowner, 'USAGE') FROM pg_class "
        "WHERE oid = to_regclass(%s)",
        [table],
    )
    row = cursor.fetchone()
    return bool(row and row[0])


def _default_periods(cursor: Any, spec: Spec) -> list[datetime.date]:
    """The periods of the rows waiting in `spec`'s DEFAULT partition."""
    key = quote(spec.column)
    if spec.timestamp:
        key = f"({key} AT TIME ZONE %s)"
    unit = "month" if spec.interval == MONTH else "day"
    cursor.execute(
        f"SELECT DISTINCT date_trunc('{unit}', {key})::date "  # noqa: S608
        f"FROM {quote(spec.table + '_default')} ORDER BY 1",
        [settings.TIME_ZONE] if spec.timestamp else [],
    )
    return [row[0] for row in cursor.fetchall()]


def partitions_maintain(
    *, today: datetime.date | None = None, using: str = "default"
) -> dict[str, list[str]]:
    """Create the partitions of the current and the next `ahead` periods of every
    partitioned table, and of the periods whose rows wait in a DEFAULT partition (moved
    into them); running it again creates nothing. DDL only, but for those waiting rows.
    A table this role may not alter (the audit table after ``audit_lockdown``) is
    skipped: an administrator runs ``manage.py partitions maintain`` for it."""
    today = today or _local_today()
    made: dict[str, list[str]] = {}
    for spec in SPECS.values():
        if not is_partitioned(spec.table, using=using):
            continue
        with transaction.atomic(using=using), connections[using].cursor() as cursor:
            if not _owns(cursor, spec.table):
                logger.info("partitions: %s belongs to another role; skipped", spec.table)
                continue
            made[spec.table] = _create_range(cursor, spec, first=today, today=today)
            if spec.movable:
                # The DEFAULT partition is a safety net, normally empty: rows that fell
                # in it (maintenance stopped, a back-dated import) get their partitions.
                made[spec.table] += [
                    partition_name(spec, start)
                    for start in _default_periods(cursor, spec)
                    if _create_one(cursor, spec, start)
                ]
    created = [name for names in made.values() for name in names]
    if created:
        logger.info("partitions: created %s", ", ".join(created))
    return made


def partitions_cover(
    table: str, *, since: datetime.date, until: datetime.date, using: str = "default"
) -> list[str]:
    """Make the partitions of `table` for every period from `since` to `until` (a bulk
    load of back-dated rows, such as a benchmark's or an import's, calls it first so that
    its rows do not pile up in the DEFAULT partition). Returns the partitions made."""
    if not is_partitioned(table, using=using):
        return []
    spec = SPECS[table]
    made = []
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        start = period_start(spec, since)
        while start <= until:
            if _create_one(cursor, spec, start):
                made.append(partition_name(spec, start))
            start = period_next(spec, start)
    return made


def partitions_drop_before(
    table: str, *, before: datetime.date, using: str = "default"
) -> list[Partition]:
    """Drop every partition of `table` whose period ends on or before `before`: all its
    rows are older than `before`. Call it inside the caller's transaction (retention
    writes its daily counts in the same one). Returns what was dropped; [] on SQLite or
    a plain table, where the caller deletes rows instead."""
    if table not in SPECS:
        raise PartitionError(f"not a partitioned table of ours: {table}")
    dropped = []
    for partition in partition_list(table, using=using):
        if partition.end is None or partition.end > before:
            continue
        with connections[using].cursor() as cursor:
            cursor.execute(f"DROP TABLE {quote(partition.name)}")
        dropped.append(partition)
    if dropped:
        tables = ", ".join(partition.name for partition in dropped)
        logger.info("partitions: dropped %s", tables)
    return dropped
