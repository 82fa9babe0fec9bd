"""Queueing records for the national systems, in the transaction that records them.

Vaccination and testing never import this app: it subscribes to their signals.
`dose_recorded` / `dose_corrected` are sent inside the dose's transaction and
`result_released` inside the transaction that marks a result's version as notified, so a
record and its outbox rows commit or roll back together: nothing recorded can be missing
from the outbox. One row per record, version and configured endpoint whose kinds include
it (a unique constraint: a replayed signal queues nothing twice).
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, transaction
from django.utils import timezone

from covidhub.core.rawsql import insert_fields, insert_sql, insert_values, statement_once

KICK_KEY = "exchange.push"


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


def on_dose_recorded(sender: Any, dose: Any, person: Any = None, **kwargs: Any) -> None:
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


def on_result_released(sender: Any, result: Any, person: Any = None, **kwargs: Any) -> None:
    records_queue(
        kind="result",
        source_pk=result.pk,
        record_uuid=result.uuid,
        version=result.version,
        commune_path=(person.commune_path if person is not None else "") or "",
        day=_local_day(result.collected_at),
    )


def connect() -> None:
    from covidhub.testing import signals as testing_signals
    from covidhub.vaccination import signals as vaccination_signals

    vaccination_signals.dose_recorded.connect(on_dose_recorded, dispatch_uid="exchange.dose")
    vaccination_signals.dose_corrected.connect(
        on_dose_corrected, dispatch_uid="exchange.dose_corrected"
    )
    testing_signals.result_released.connect(on_result_released, dispatch_uid="exchange.result")
