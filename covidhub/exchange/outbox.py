"""Queueing records for the national systems, in the transaction that records them.

The capabilities never import this app: it subscribes to their signals, each sent inside
the transaction that records the event, so that a record and its outbox rows commit or
roll back together and nothing recorded can be missing from the outbox:

- `vaccination.signals.dose_recorded` / `dose_corrected`: a dose (the next version when
  corrected or voided);
- `testing.signals.results_recorded`: the results a release or an amendment recorded
  (a queryset, queued set-based: one INSERT … SELECT for a 200,000-result import);
- `declarations.signals.case_confirmed`: a confirmed case, reported as a Condition;
- `certificates.signals.certificates_revoked`: revoked certificates (a queryset: every
  certificate of a revoked signing key at once).

One row per record, version and configured endpoint whose kinds include it (a unique
constraint: a replayed signal queues nothing twice). Doses imported from another system
(`inbound`) are not queued: they came from the national side and are not echoed back.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, transaction
from django.db.models import Expression, F, QuerySet, Value
from django.db.models.functions import TruncDate
from django.utils import timezone

from covidhub.core.rawsql import insert_fields, insert_sql, insert_values, statement_once

KICK_KEY = "exchange.push"

# Set while a dose imported from another system is recorded (inbound.py): not echoed back.
_importing: ContextVar[bool] = ContextVar("exchange_importing", default=False)


@contextmanager
def inbound_recording() -> Iterator[None]:
    """Doses recorded inside this block came from another system: queue none of them."""
    token = _importing.set(True)
    try:
        yield
    finally:
        _importing.reset(token)


@dataclass(frozen=True)
class Endpoint:
    name: str
    url: str
    kinds: frozenset[str]
    token_env: str = ""

    @property
    def token(self) -> str:
        return os.environ.get(self.token_env, "") if self.token_env else ""


def endpoints() -> list[Endpoint]:
    """The configured national endpoints (settings.EXCHANGE_ENDPOINTS); a malformed entry
    fails loudly."""
    out = []
    for entry in settings.EXCHANGE_ENDPOINTS:
        try:
            name, url, kinds = str(entry["name"]), str(entry["url"]), entry["kinds"]
        except (KeyError, TypeError) as exc:
            raise ImproperlyConfigured(f"EXCHANGE_ENDPOINTS: bad entry {entry!r}") from exc
        if not name or not url.startswith(("http://", "https://")) or not kinds:
            raise ImproperlyConfigured(f"EXCHANGE_ENDPOINTS: bad entry {entry!r}")
        out.append(Endpoint(name, url.rstrip("/"), frozenset(kinds), entry.get("token_env", "")))
    return out


def endpoint_get(name: str) -> Endpoint | None:
    return next((e for e in endpoints() if e.name == name), None)


def _local_day(value: datetime.datetime) -> datetime.date:
    return timezone.localtime(value).date()


def _insert_statement(quote: Any) -> str:
    from covidhub.exchange.models import ExchangeRecord

    # A replayed signal (a retried notification chunk) must not fail the recording.
    return insert_sql(ExchangeRecord, quote) + " ON CONFLICT DO NOTHING"


def records_queue(
    *,
    kind: str,
    source_pk: int,
    record_uuid: Any,
    version: int | None,
    commune_path: str,
    day: datetime.date,
) -> int:
    """Queue one record for every endpoint that takes its kind, in the caller's
    transaction (plain INSERTs, which PostgreSQL's pipeline mode sends with the record's
    own statements), and kick the push once that commits. `version=None`: the next
    version of the record (a corrected dose). Returns the rows queued."""
    from covidhub.exchange.models import ExchangeRecord

    targets = [e for e in endpoints() if kind in e.kinds]
    if not targets:
        return 0
    database = connections[ExchangeRecord.objects.db]
    now = timezone.now()
    if version is None:
        last = (
            ExchangeRecord.objects.filter(kind=kind, record_uuid=record_uuid)
            .order_by("-version")
            .values_list("version", flat=True)
            .first()
        )
        version = (last or 0) + 1
    fields = insert_fields(ExchangeRecord)
    with database.cursor() as cursor:
        for endpoint in targets:
            row = ExchangeRecord(
                endpoint=endpoint.name,
                kind=kind,
                source_pk=source_pk,
                record_uuid=record_uuid,
                version=version,
                commune_path=commune_path,
                day=day,
                next_attempt_at=now,
            )
            cursor.execute(
                statement_once(database, "exchange.record", _insert_statement),
                insert_values(row, database, fields),
            )
    transaction.on_commit(_kick, using=database.alias)
    return len(targets)


def _kick() -> None:
    from covidhub.core.enqueue import kick
    from covidhub.exchange.tasks import exchange_push_pending

    kick(exchange_push_pending, key=KICK_KEY)


def _uuid_sql(vendor: str) -> str:
    if vendor == "postgresql":
        return "gen_random_uuid()"
    return "lower(hex(randomblob(16)))"  # a UUIDField is 32 hex characters on SQLite


def records_queue_many(
    *, kind: str, rows: QuerySet[Any], columns: dict[str, Expression | F]
) -> int:
    """Queue every record of a queryset for every endpoint that takes its kind, in the
    caller's transaction, with one INSERT … SELECT (nothing read into Python). `columns`
    gives each outbox column from the queryset's model: source_pk, record_uuid, version,
    commune_path and day. Returns the rows queued."""
    from covidhub.exchange.models import ExchangeRecord

    targets = [e for e in endpoints() if kind in e.kinds]
    if not targets:
        return 0
    database = connections[ExchangeRecord.objects.db]
    names = ("source_pk", "record_uuid", "version", "commune_path", "day")
    aliased = {f"x_{name}": columns[name] for name in names}
    inner, inner_params = (
        rows.order_by().annotate(**aliased).values_list(*aliased).query.sql_with_params()
    )
    quote = database.ops.quote_name
    now = database.ops.adapt_datetimefield_value(timezone.now())
    endpoint_rows = " UNION ALL ".join(["SELECT %s AS name"] * len(targets))
    insert_columns = ", ".join(
        quote(c)
        for c in (
            "uuid", "endpoint", "kind", *names, "status", "attempts", "next_attempt_at",
            "last_error", "reason", "created_at", "updated_at",
        )
    )  # fmt: skip
    # `WHERE 1 = 1`: SQLite's grammar needs a WHERE before ON CONFLICT in INSERT … SELECT.
    sql = f"""
        INSERT INTO {quote(ExchangeRecord._meta.db_table)} ({insert_columns})
        SELECT {_uuid_sql(database.vendor)}, e.name, %s, q.x_source_pk, q.x_record_uuid,
               q.x_version, q.x_commune_path, q.x_day, %s, 0, %s, '', '', %s, %s
          FROM ({inner}) q CROSS JOIN ({endpoint_rows}) e
         WHERE 1 = 1
        ON CONFLICT DO NOTHING
    """  # noqa: S608 - table and column names from model metadata, values as parameters
    params = [
        kind,
        ExchangeRecord.Status.PENDING.value,
        now,
        now,
        now,
        *inner_params,
        *(e.name for e in targets),
    ]
    with database.cursor() as cursor:
        cursor.execute(sql, params)
        queued = int(cursor.rowcount)
    if queued:
        transaction.on_commit(_kick, using=database.alias)
    return queued


def on_dose_recorded(sender: Any, dose: Any, person: Any = None, **kwargs: Any) -> None:
    if _importing.get():
        return
    records_queue(
        kind="dose",
        source_pk=dose.pk,
        record_uuid=dose.uuid,
        version=1,
        commune_path=(person.commune_path if person is not None else "") or "",
        day=_local_day(dose.administered_at),
    )


def on_dose_corrected(sender: Any, dose: Any, person: Any = None, **kwargs: Any) -> None:
    records_queue(
        kind="dose",
        source_pk=dose.pk,
        record_uuid=dose.uuid,
        version=None,
        commune_path=(person.commune_path if person is not None else "") or "",
        day=_local_day(dose.administered_at),
    )


def on_results_recorded(sender: Any, results: QuerySet[Any], **kwargs: Any) -> None:
    """Each result at its current version: a release is version 1, an amendment the next."""
    records_queue_many(
        kind="result",
        rows=results,
        columns={
            "source_pk": F("pk"),
            "record_uuid": F("uuid"),
            "version": F("version"),
            "commune_path": F("commune_path"),
            "day": TruncDate("collected_at"),
        },
    )


def on_case_confirmed(sender: Any, case: Any, person: Any = None, **kwargs: Any) -> None:
    records_queue(
        kind="case",
        source_pk=case.pk,
        record_uuid=case.uuid,
        version=1,
        commune_path=case.commune_path or "",
        day=_local_day(case.decided_at or timezone.now()),
    )


def on_certificates_revoked(sender: Any, certificates: QuerySet[Any], **kwargs: Any) -> None:
    """A certificate is revoked once: version 1, on the day of its revocation."""
    records_queue_many(
        kind="revocation",
        rows=certificates,
        columns={
            "source_pk": F("pk"),
            "record_uuid": F("uuid"),
            "version": Value(1),
            "commune_path": F("person__commune_path"),
            "day": TruncDate("revoked_at"),
        },
    )


def connect() -> None:
    from covidhub.certificates import signals as certificates_signals
    from covidhub.declarations import signals as declarations_signals
    from covidhub.testing import signals as testing_signals
    from covidhub.vaccination import signals as vaccination_signals

    vaccination_signals.dose_recorded.connect(on_dose_recorded, dispatch_uid="exchange.dose")
    vaccination_signals.dose_corrected.connect(
        on_dose_corrected, dispatch_uid="exchange.dose_corrected"
    )
    testing_signals.results_recorded.connect(on_results_recorded, dispatch_uid="exchange.results")
    declarations_signals.case_confirmed.connect(on_case_confirmed, dispatch_uid="exchange.case")
    certificates_signals.certificates_revoked.connect(
        on_certificates_revoked, dispatch_uid="exchange.revocations"
    )
