"""Releasing tube results to people, set-based so that a 20,000-tube import stays fast.

A tube result becomes one Result per person in the tube (INSERT … SELECT), with an audit
event per person (INSERT … SELECT; on PostgreSQL the same statement, reading the people
once), retest appointments for pool-positive and invalid outcomes, case reports for
positive individuals, and a notification pending on every Result
(`notified_version < version`) that the notify task turns into messages and signals after
the commit. The results are announced inside the transaction
(`results_recorded_announce`, also called by an amendment), for the subscribers that must
commit with them (the exchange outbox).
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from covidhub.audit.models import AuditEvent
from covidhub.core import request_context
from covidhub.people.models import Person
from covidhub.testing.models import (
    CaseReport,
    Result,
    Sample,
    Tube,
    TubeResult,
)
from covidhub.testing.registration import retest_appointments_create

NOTIFY_CHUNK = 500

# (result id, person id, outcome, commune id, commune path) of a released result that
# needs a follow-up (every outcome but negative).
FollowUp = tuple[int, int, str, int, str]


def outcome_for(value: str, member_count: int) -> str:
    if value == TubeResult.Value.NEGATIVE:
        return Result.Outcome.NEGATIVE
    if value == TubeResult.Value.INVALID:
        return Result.Outcome.INVALID
    return Result.Outcome.POOL_POSITIVE if member_count > 1 else Result.Outcome.POSITIVE


def _uuid_sql() -> str:
    if connection.vendor == "postgresql":
        return "gen_random_uuid()"
    return "lower(hex(randomblob(16)))"


def _uuid_text_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"{column}::text"
    return (
        f"substr({column},1,8)||'-'||substr({column},9,4)||'-'||substr({column},13,4)"
        f"||'-'||substr({column},17,4)||'-'||substr({column},21,12)"
    )


def _json_param() -> str:
    return "%s::jsonb" if connection.vendor == "postgresql" else "%s"


def _where(tube_result_ids: list[int] | None, import_batch_id: int | None) -> tuple[str, list[Any]]:
    if import_batch_id is not None:
        return "tr.import_batch_id = %s", [import_batch_id]
    assert tube_result_ids
    marks = ",".join(["%s"] * len(tube_result_ids))
    return f"tr.id IN ({marks})", list(tube_result_ids)


_TABLES = {
    "r": Result._meta.db_table,
    "s": Sample._meta.db_table,
    "t": Tube._meta.db_table,
    "tr": TubeResult._meta.db_table,
    "p": Person._meta.db_table,
    "a": AuditEvent._meta.db_table,
}

_RESULT_COLUMNS = """uuid, sample_id, tube_result_id, person_id, outcome, test_type, pooled,
    site_id, collected_at, released_at, commune_id, commune_path, version, notified_version"""

_OUTCOME_SQL = """CASE WHEN tr.value = 'negative' THEN 'negative'
                       WHEN tr.value = 'invalid' THEN 'invalid'
                       WHEN t.member_count > 1 THEN 'pool_positive'
                       ELSE 'positive' END"""

_SOURCE_SQL = """
      FROM {tr} tr
      JOIN {t} t ON t.id = tr.tube_id
      JOIN {s} s ON s.tube_id = t.id AND s.status = 'active'
      JOIN {p} p ON p.id = s.person_id
     WHERE {where}"""

_AUDIT_COLUMNS = """at, actor_id, actor_role, action, object_type, object_id, person_uuid,
    request_id, client_address, details"""


def _audit_params(actor: Any, actor_role: str, imported: bool) -> list[Any]:
    context = request_context.current()
    details = json.dumps({"tube_results": "import" if imported else "single"})
    return [
        getattr(actor, "pk", None),
        actor_role,
        context.request_id if context else "",
        context.client_address if context else None,
        details,
    ]


def _release_postgresql(
    at: Any, where: str, params: list[Any], audit: list[Any], *, large: bool
) -> tuple[int, list[FollowUp]]:
    """People's results and their audit events in one statement that reads the tubes,
    samples and people once; returns how many, and the rows that need a follow-up."""
    source = _SOURCE_SQL.format(where=where, **_TABLES)
    with connection.cursor() as cursor:
        if large:
            # The people of a 50,000-tube file (~100 MB of rows between the inserts) stay in
            # memory rather than going through temporary files; for this transaction only.
            cursor.execute("SET LOCAL work_mem = '128MB'")
        cursor.execute(
            f"""
            WITH src AS MATERIALIZED (
                SELECT gen_random_uuid() AS uuid, s.id AS sample_id, tr.id AS tube_result_id,
                       s.person_id, {_OUTCOME_SQL} AS outcome, t.test_type,
                       t.member_count > 1 AS pooled, t.site_id, s.collected_at,
                       p.commune_id, p.commune_path, p.uuid AS person_uuid
                {source}
            ), released AS (
                INSERT INTO {_TABLES["r"]} ({_RESULT_COLUMNS})
                SELECT uuid, sample_id, tube_result_id, person_id, outcome, test_type, pooled,
                       site_id, collected_at, %s, commune_id, commune_path, 1, 0
                  FROM src
                RETURNING id, person_id, outcome, commune_id, commune_path
            ), audited AS (
                INSERT INTO {_TABLES["a"]} ({_AUDIT_COLUMNS})
                SELECT %s, %s, %s, 'testing.result.released', 'testing.result', uuid::text,
                       person_uuid, %s, %s, %s::jsonb
                  FROM src
            )
            SELECT n.count, f.id, f.person_id, f.outcome, f.commune_id, f.commune_path
              FROM (SELECT count(*) AS count FROM released) n
              LEFT JOIN (SELECT * FROM released WHERE outcome <> 'negative') f ON true
             ORDER BY f.id
            """,  # noqa: S608 - table names from model metadata, values as parameters
            [*params, at, at, *audit],
        )
        rows = cursor.fetchall()
    created = int(rows[0][0]) if rows else 0
    return created, [tuple(row[1:]) for row in rows if row[1] is not None]  # type: ignore[misc]


def _release_portable(
    at: Any, where: str, params: list[Any], audit: list[Any]
) -> tuple[int, list[FollowUp]]:
    source = _SOURCE_SQL.format(where=where, **_TABLES)
    r, tr, p = _TABLES["r"], _TABLES["tr"], _TABLES["p"]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {r} ({_RESULT_COLUMNS})
            SELECT {_uuid_sql()}, s.id, tr.id, s.person_id, {_OUTCOME_SQL},
                   t.test_type, t.member_count > 1, t.site_id, s.collected_at, %s,
                   p.commune_id, p.commune_path, 1, 0
            {source}
            """,
            [at, *params],
        )
        created = int(cursor.rowcount)
        cursor.execute(
            f"""
            INSERT INTO {_TABLES["a"]} ({_AUDIT_COLUMNS})
            SELECT %s, %s, %s, 'testing.result.released', 'testing.result',
                   {_uuid_text_sql("r.uuid")}, p.uuid, %s, %s, {_json_param()}
              FROM {r} r
              JOIN {tr} tr ON tr.id = r.tube_result_id
              JOIN {p} p ON p.id = r.person_id
             WHERE {where}
            """,  # noqa: S608
            [at, *audit, *params],
        )
        cursor.execute(
            f"""
            SELECT r.id, r.person_id, r.outcome, r.commune_id, r.commune_path
              FROM {r} r JOIN {tr} tr ON tr.id = r.tube_result_id
             WHERE {where} AND r.outcome <> 'negative'
             ORDER BY r.id
            """,  # noqa: S608
            params,
        )
        follow = [tuple(row) for row in cursor.fetchall()]
    return created, follow  # type: ignore[return-value]


def results_release(
    *,
    actor: Any,
    actor_role: str,
    tube_result_ids: list[int] | None = None,
    import_batch_id: int | None = None,
    released_at: datetime.datetime | None = None,
    tubes_marked: bool = False,
    imported: bool = False,
) -> int:
    """Create every person's Result for the given tube results; return how many.

    Call inside the transaction that recorded the tube results, with their tubes locked;
    `tubes_marked` when the caller already set those tubes to resulted.
    """
    released_at = released_at or timezone.now()
    at = connection.ops.adapt_datetimefield_value(released_at)
    where, params = _where(tube_result_ids, import_batch_id)
    audit = _audit_params(actor, actor_role, imported or import_batch_id is not None)
    if connection.vendor == "postgresql":
        created, follow = _release_postgresql(
            at, where, params, audit, large=import_batch_id is not None
        )
    else:
        created, follow = _release_portable(at, where, params, audit)
    if not tubes_marked:
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {_TABLES["t"]} SET status = 'resulted', resulted_at = %s
                 WHERE id IN (SELECT tr.tube_id FROM {_TABLES["tr"]} tr WHERE {where})
                """,  # noqa: S608
                [at, *params],
            )
    _follow_ups(follow)
    if created:
        released = Result.objects.all()
        if import_batch_id is not None:
            released = released.filter(tube_result__import_batch_id=import_batch_id)
        else:
            released = released.filter(tube_result_id__in=tube_result_ids or [])
        results_recorded_announce(results=released)
    notify_enqueue(count=created)
    return created


def results_recorded_announce(*, results: QuerySet[Result]) -> None:
    """Tell the subscribers, inside the recording transaction, which results now have a
    new version (released, or amended): the one place where that is announced."""
    from covidhub.testing.signals import results_recorded

    results_recorded.send(sender=Result, results=results)


def _follow_ups(rows: list[FollowUp]) -> None:
    """Retests for pool-positive and invalid outcomes; case reports for positives. The
    results were created just now, so nothing can refer to them yet."""
    retest = (Result.Outcome.POOL_POSITIVE, Result.Outcome.INVALID)
    retest_appointments_create(
        result_rows=[(rid, pid) for rid, pid, outcome, _c, _p in rows if outcome in retest],
        fresh=True,
    )
    case_reports_create(
        rows=[
            (rid, pid, cid, path)
            for rid, pid, outcome, cid, path in rows
            if outcome == Result.Outcome.POSITIVE
        ],
        fresh=True,
    )


def case_reports_create(*, rows: list[tuple[int, int, int, str]], fresh: bool = False) -> None:
    """Case reports for positive results (an amended one withdrawn before comes back);
    `fresh` for results created in this transaction, which have none yet."""
    if not rows:
        return
    have: set[int] = set()
    if not fresh:
        existing = CaseReport.objects.filter(result_id__in=[row[0] for row in rows])
        existing.filter(withdrawn_at__isnull=False).update(withdrawn_at=None)
        have = set(existing.values_list("result_id", flat=True))
    CaseReport.objects.bulk_create(
        [
            CaseReport(result_id=rid, person_id=pid, commune_id=cid, commune_path=path)
            for rid, pid, cid, path in rows
            if rid not in have
        ]
    )
    by_commune = (
        CaseReport.objects.filter(result_id__in=[row[0] for row in rows])
        .values("commune_id")
        .annotate(n=Count("id"))
    )
    from covidhub.testing.notify import officers_tell_cases

    key = timezone.now().strftime("%Y%m%d%H%M%S%f")
    for row in by_commune:
        officers_tell_cases(commune_id=row["commune_id"], count=row["n"], key=key)


def notify_enqueue(*, count: int) -> None:
    """Queue enough notify tasks to share the pending notices among the workers."""
    if count <= 0:
        return
    from covidhub.testing.tasks import results_notify

    tasks = min(64, -(-count // NOTIFY_CHUNK))

    def enqueue() -> None:
        # One transaction for all of them: one commit instead of one per task.
        with transaction.atomic():
            for _ in range(tasks):
                results_notify.enqueue()

    transaction.on_commit(enqueue)
