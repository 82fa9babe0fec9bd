"""Releasing tube results to people, set-based so that a 20,000-tube import stays fast.

A tube result becomes one Result per person in the tube (INSERT … SELECT), with an audit
event per person (INSERT … SELECT), retest appointments for pool-positive and invalid
outcomes, case reports for positive individuals, and a notification pending on every
Result (`notified_version < version`) that the notify task turns into messages and
signals after the commit.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.db import connection, transaction
from django.db.models import Count
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


def results_release(
    *,
    actor: Any,
    actor_role: str,
    tube_result_ids: list[int] | None = None,
    import_batch_id: int | None = None,
    released_at: datetime.datetime | None = None,
) -> int:
    """Create every person's Result for the given tube results; return how many.

    Call inside the transaction that recorded the tube results, with their tubes locked.
    """
    released_at = released_at or timezone.now()
    ops = connection.ops
    at = ops.adapt_datetimefield_value(released_at)
    where, params = _where(tube_result_ids, import_batch_id)
    r, s, t, tr, p = (
        Result._meta.db_table,
        Sample._meta.db_table,
        Tube._meta.db_table,
        TubeResult._meta.db_table,
        Person._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {r} (uuid, sample_id, tube_result_id, person_id, outcome, test_type,
                             pooled, site_id, collected_at, released_at, commune_id,
                             commune_path, version, notified_version)
            SELECT {_uuid_sql()}, s.id, tr.id, s.person_id,
                   CASE WHEN tr.value = 'negative' THEN 'negative'
                        WHEN tr.value = 'invalid' THEN 'invalid'
                        WHEN t.member_count > 1 THEN 'pool_positive'
                        ELSE 'positive' END,
                   t.test_type, t.member_count > 1, t.site_id, s.collected_at, %s,
                   p.commune_id, p.commune_path, 1, 0
              FROM {tr} tr
              JOIN {t} t ON t.id = tr.tube_id
              JOIN {s} s ON s.tube_id = t.id AND s.status = 'active'
              JOIN {p} p ON p.id = s.person_id
             WHERE {where}
            """,  # noqa: S608 - table names from model metadata, values as parameters
            [at, *params],
        )
        created = int(cursor.rowcount)
        context = request_context.current()
        details = json.dumps({"tube_results": "import" if import_batch_id else "single"})
        cursor.execute(
            f"""
            INSERT INTO {AuditEvent._meta.db_table}
                (at, actor_id, actor_role, action, object_type, object_id, person_uuid,
                 request_id, client_address, details)
            SELECT %s, %s, %s, 'testing.result.released', 'testing.result',
                   {_uuid_text_sql("r.uuid")}, p.uuid, %s, %s, {_json_param()}
              FROM {r} r
              JOIN {tr} tr ON tr.id = r.tube_result_id
              JOIN {p} p ON p.id = r.person_id
             WHERE {where}
            """,  # noqa: S608
            [
                at,
                getattr(actor, "pk", None),
                actor_role,
                context.request_id if context else "",
                context.client_address if context else None,
                details,
                *params,
            ],
        )
        cursor.execute(
            f"""
            UPDATE {t} SET status = 'resulted', resulted_at = %s
             WHERE id IN (SELECT tr.tube_id FROM {tr} tr WHERE {where})
            """,  # noqa: S608
            [at, *params],
        )
    released = Result.objects.filter(
        **(
            {"tube_result__import_batch_id": import_batch_id}
            if import_batch_id is not None
            else {"tube_result_id__in": tube_result_ids}
        )
    )
    _follow_ups(released)
    notify_enqueue(count=created)
    return created


def _follow_ups(released: Any) -> None:
    """Retests for pool-positive and invalid outcomes; case reports for positives."""
    retests = list(
        released.filter(
            outcome__in=[Result.Outcome.POOL_POSITIVE, Result.Outcome.INVALID]
        ).values_list("id", "person_id")
    )
    retest_appointments_create(result_rows=retests)
    positives = list(
        released.filter(outcome=Result.Outcome.POSITIVE).values_list(
            "id", "person_id", "commune_id", "commune_path"
        )
    )
    case_reports_create(rows=positives)


def case_reports_create(*, rows: list[tuple[int, int, int, str]]) -> None:
    if not rows:
        return
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
        for _ in range(tasks):
            results_notify.enqueue()

    transaction.on_commit(enqueue)
