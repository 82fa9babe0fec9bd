"""Pushing the outbox to the national endpoints as FHIR transaction Bundles.

One batch at a time per endpoint: the rows are claimed (status `sending`, the attempt
counted, and a lease: `next_attempt_at` moved past the backoff) and committed before the
request, so that a worker killed between sending and marking leaves rows that the next run
sends again. The partner deduplicates: every entry is a conditional update
(`PUT Immunization?identifier=<system>|<record uuid>`, likewise Observation, Condition and
DocumentReference), so a resent record updates what
the first send created. A timeout, a refused connection or a 5xx puts the batch back with
exponential backoff; after EXCHANGE_MAX_ATTEMPTS a record is a dead letter that an
administrator retries (`services.exchange_records_retry`). A 4xx with an OperationOutcome
rejects the entries its issues name (`Bundle.entry[i]`), keeping the partner's reason, and
puts the others back at once; when no entry is named, the whole batch is rejected.
"""

from __future__ import annotations

import datetime
import http.client
import logging
import re
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from covidhub.exchange.models import ExchangeRecord
from covidhub.exchange.outbox import Endpoint
from covidhub.fhir import codes, resources, rows
from covidhub.fhir.everything import communes_get

logger = logging.getLogger(__name__)

S = ExchangeRecord.Status
BACKOFF_CAP = datetime.timedelta(hours=6)
ENTRY_RE = re.compile(r"Bundle\.entry\[(\d+)\]")


def backoff(attempts: int) -> datetime.timedelta:
    """EXCHANGE_BACKOFF_SECONDS doubled at each failed attempt, capped at six hours."""
    seconds = settings.EXCHANGE_BACKOFF_SECONDS * (2 ** max(attempts - 1, 0))
    return min(datetime.timedelta(seconds=seconds), BACKOFF_CAP)


def _claim(endpoint: Endpoint, batch: int, now: datetime.datetime) -> list[ExchangeRecord]:
    """Due rows (pending, or sending whose lease ran out), locked and marked as sent."""
    lease = max(
        datetime.timedelta(seconds=settings.EXCHANGE_TIMEOUT_SECONDS * 2),
        datetime.timedelta(seconds=1),
    )
    with transaction.atomic():
        due = ExchangeRecord.objects.filter(
            endpoint=endpoint.name,
            status__in=(S.PENDING, S.SENDING),
            next_attempt_at__lte=now,
        ).order_by("next_attempt_at", "id")
        # Only what the push reads of a row (not its reason and errors, up to 1,500 bytes).
        rows = list(
            due.select_for_update(skip_locked=True).only("id", "kind", "source_pk", "attempts")[
                :batch
            ]
        )
        if not rows:
            return []
        spent = [r.pk for r in rows if r.attempts >= settings.EXCHANGE_MAX_ATTEMPTS]
        if spent:
            # Sent that often without an answer (a worker killed each time): dead letter.
            ExchangeRecord.objects.filter(pk__in=spent).update(
                status=S.DEAD, last_error="no answer recorded", done_at=now, updated_at=now
            )
        rows = [r for r in rows if r.pk not in set(spent)]
        ExchangeRecord.objects.filter(pk__in=[r.pk for r in rows]).update(
            status=S.SENDING,
            attempts=F("attempts") + 1,
            sent_at=now,
            next_attempt_at=now + max(lease, backoff(1)),
            updated_at=now,
        )
        for row in rows:
            row.attempts += 1
    return rows


# Building the Bundle -------------------------------------------------------------------


# Doses and results, the bulk of what is sent, are read as plain rows (`fhir.rows`), each
# with its person's Patient columns: no model instance per record and related record; the
# person's commune (with district and province) comes from the per-process area cache.
_DOSE_ROWS = rows.Shape(
    "id", *rows.IMMUNIZATION.lookups, *(f"person__{name}" for name in rows.PATIENT.lookups)
)
_RESULT_ROWS = rows.Shape(
    "id",
    *rows.RESULT.lookups,
    "sample__tube__uuid",
    *(f"person__{name}" for name in rows.PATIENT.lookups),
)


def _with_communes(found: dict[int, Any]) -> dict[int, Any]:
    communes = communes_get(record.person.commune_id for record in found.values())
    for record in found.values():
        record.person.commune = communes.get(record.person.commune_id)
    return found


def _doses(pks: Iterable[int]) -> dict[int, Any]:
    from covidhub.vaccination.models import Dose

    make = _DOSE_ROWS.row
    found = Dose.objects.filter(pk__in=list(pks)).values_list(*_DOSE_ROWS.columns)
    return _with_communes({row.id: row for row in map(make, found)})


def _results(pks: Iterable[int]) -> dict[int, Any]:
    from covidhub.testing.models import Result

    make = _RESULT_ROWS.row
    found = Result.objects.filter(pk__in=list(pks)).values_list(*_RESULT_ROWS.columns)
    return _with_communes({row.id: row for row in map(make, found)})


def _cases(pks: Iterable[int]) -> dict[int, Any]:
    from covidhub.declarations.models import Case

    return Case.objects.select_related("person__commune__parent__parent").in_bulk(list(pks))


def _certificates(pks: Iterable[int]) -> dict[int, Any]:
    from covidhub.certificates.models import IssuedCertificate

    return (
        IssuedCertificate.objects.select_related("person__commune__parent__parent")
        .defer("payload", "hc1")
        .in_bulk(list(pks))
    )


@dataclass(frozen=True)
class _Kind:
    load: Callable[[Iterable[int]], dict[int, Any]]
    build: Callable[[Any, Any], dict[str, Any]]
    resource_type: str
    system: str


K = ExchangeRecord.Kind
KINDS: dict[str, _Kind] = {
    K.DOSE: _Kind(
        _doses,
        lambda r, p: resources.immunization(r, person_uuid=p),
        "Immunization",
        codes.SID_DOSE,
    ),
    K.RESULT: _Kind(
        _results,
        lambda r, p: resources.observation(r, person_uuid=p, tube_uuid=r.sample.tube.uuid),
        "Observation",
        codes.SID_RESULT,
    ),
    K.CASE: _Kind(
        _cases, lambda r, p: resources.condition(r, person_uuid=p), "Condition", codes.SID_CASE
    ),
    K.REVOCATION: _Kind(
        _certificates,
        lambda r, p: resources.certificate_revocation(r, person_uuid=p),
        "DocumentReference",
        codes.SID_CERTIFICATE,
    ),
}


def _linked(resource: dict[str, Any], person_uuid: Any) -> dict[str, Any]:
    """The resource as a transaction entry: no server id, the patient by its entry."""
    out = {k: v for k, v in resource.items() if k != "id"}
    key = "patient" if "patient" in out else "subject"
    out[key] = {"reference": f"urn:uuid:{person_uuid}"}
    return out


@dataclass
class Built:
    bundle: dict[str, Any]
    owners: list[ExchangeRecord | None]  # the outbox row of each entry (None: a Patient)
    missing: list[ExchangeRecord] = field(default_factory=list)


def bundle_build(rows: list[ExchangeRecord]) -> Built:
    """A FHIR `transaction` Bundle of the rows' records, each a conditional update by its
    stable identifier, with each person's Patient once (conditional update too)."""
    loaded = {
        kind: spec.load(r.source_pk for r in rows if r.kind == kind)
        for kind, spec in KINDS.items()
        if any(r.kind == kind for r in rows)
    }
    entries: list[dict[str, Any]] = []
    owners: list[ExchangeRecord | None] = []
    missing: list[ExchangeRecord] = []
    people_done: set[Any] = set()
    for row in rows:
        spec = KINDS[row.kind]
        record = loaded[row.kind].get(row.source_pk)
        if record is None:
            missing.append(row)
            continue
        person = record.person
        resource = spec.build(record, person.uuid)
        if person.uuid not in people_done:
            people_done.add(person.uuid)
            entries.append(
                {
                    "fullUrl": f"urn:uuid:{person.uuid}",
                    "resource": {k: v for k, v in resources.patient(person).items() if k != "id"},
                    "request": {
                        "method": "PUT",
                        "url": f"Patient?identifier={codes.SID_PERSON}|{person.uuid}",
                    },
                }
            )
            owners.append(None)
        entries.append(
            {
                "fullUrl": f"urn:uuid:{record.uuid}",
                "resource": _linked(resource, person.uuid),
                "request": {
                    "method": "PUT",
                    "url": f"{spec.resource_type}?identifier={spec.system}|{record.uuid}",
                },
            }
        )
        owners.append(row)
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": entries}
    return Built(bundle=bundle, owners=owners, missing=missing)


# Sending -------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int  # 0: no HTTP answer (timeout, refused)
    body: dict[str, Any] | None
    error: str


class Partner:
    """One HTTP/1.1 keep-alive connection to an endpoint, reused by every batch of a drain
    (a connection per request costs a handshake and a new server thread each time).

    A request that finds the kept connection closed by the partner (idle timeout) before
    any answer is sent again once on a new connection: safe, since every entry is a
    conditional update by its stable identifier. A timeout or any other failure closes
    the connection and is the batch's answer (status 0), as before."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        parts = urllib.parse.urlsplit(endpoint.url)
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._host = parts.hostname or ""
        self._port = parts.port
        self._https = parts.scheme == "https"
        self._connection: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        timeout = settings.EXCHANGE_TIMEOUT_SECONDS
        if self._https:
            return http.client.HTTPSConnection(self._host, self._port, timeout=timeout)
        return http.client.HTTPConnection(self._host, self._port, timeout=timeout)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> Partner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def post(self, data: bytes) -> Answer:
        headers = {
            "Content-Type": "application/fhir+json",
            "Accept": "application/fhir+json",
        }
        if self.endpoint.token:
            headers["Authorization"] = f"Bearer {self.endpoint.token}"
        for attempt in (1, 2):
            reused = self._connection is not None
            if self._connection is None:
                self._connection = self._connect()
            try:
                self._connection.request("POST", self.path, body=data, headers=headers)
                response = self._connection.getresponse()
                raw = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self.close()
                if reused and attempt == 1:
                    continue  # the partner closed the idle connection: once more, anew
                return Answer(0, None, f"{type(exc).__name__}: {exc}"[:500])
            except (OSError, ValueError, http.client.HTTPException) as exc:
                self.close()  # timeouts, refused connections, bad answers
                return Answer(0, None, f"{type(exc).__name__}: {exc}"[:500])
            if response.will_close:
                self.close()
            if 200 <= response.status < 300:
                return Answer(response.status, _json(raw), "")
            return Answer(response.status, _json(raw), f"HTTP {response.status}")
        raise AssertionError("unreachable")  # pragma: no cover


def bundle_post(
    endpoint: Endpoint, bundle: dict[str, Any], *, partner: Partner | None = None
) -> Answer:
    """POST the Bundle to the endpoint's base URL (over `partner`'s kept connection, else a
    connection of its own); never raises."""
    data = orjson.dumps(bundle)
    if partner is not None:
        return partner.post(data)
    with Partner(endpoint) as own:
        return own.post(data)


def _json(raw: bytes) -> dict[str, Any] | None:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _issues(body: dict[str, Any] | None) -> list[tuple[set[int], str]]:
    """(entry indices named, diagnostics) of each issue of an OperationOutcome."""
    if not body or body.get("resourceType") != "OperationOutcome":
        return []
    out = []
    for issue in body.get("issue") or []:
        if not isinstance(issue, dict):
            continue
        where = " ".join(str(x) for x in (issue.get("expression") or issue.get("location") or []))
        text = str(issue.get("diagnostics") or issue.get("code") or "rejected")
        out.append(({int(m) for m in ENTRY_RE.findall(where)}, text))
    return out


# Settling ------------------------------------------------------------------------------


def _update(rows: Iterable[ExchangeRecord], **values: Any) -> None:
    pks = [r.pk for r in rows]
    if pks:
        ExchangeRecord.objects.filter(pk__in=pks, status=S.SENDING).update(**values)


def _fail(rows: list[ExchangeRecord], error: str, now: datetime.datetime) -> None:
    dead = [r for r in rows if r.attempts >= settings.EXCHANGE_MAX_ATTEMPTS]
    _update(dead, status=S.DEAD, last_error=error[:500], done_at=now, updated_at=now)
    by_attempts: dict[int, list[ExchangeRecord]] = {}
    for row in rows:
        if row.attempts < settings.EXCHANGE_MAX_ATTEMPTS:
            by_attempts.setdefault(row.attempts, []).append(row)
    for attempts, group in by_attempts.items():
        _update(
            group,
            status=S.PENDING,
            last_error=error[:500],
            next_attempt_at=now + backoff(attempts),
            updated_at=now,
        )


def _settle(built: Built, answer: Answer, now: datetime.datetime) -> dict[str, int]:
    rows = [r for r in built.owners if r is not None]
    counts = {"accepted": 0, "rejected": 0, "failed": 0, "returned": 0}
    with transaction.atomic():
        if built.missing:
            _update(
                built.missing,
                status=S.REJECTED,
                reason="record no longer exists",
                done_at=now,
                updated_at=now,
            )
            counts["rejected"] += len(built.missing)
        if not rows:
            return counts
        if 200 <= answer.status < 300:
            _update(rows, status=S.ACCEPTED, last_error="", done_at=now, updated_at=now)
            counts["accepted"] += len(rows)
        elif answer.status in (400, 404, 409, 412, 422):
            issues = _issues(answer.body)
            named: dict[int, str] = {}
            for indices, text in issues:
                for index in indices:
                    owner = built.owners[index] if index < len(built.owners) else None
                    if owner is not None:
                        named[owner.pk] = (named.get(owner.pk, "") + "; " + text).strip("; ")
            if not named:
                # Nothing named: the partner refused the Bundle as a whole.
                text = "; ".join(t for _i, t in issues) or answer.error
                named = {r.pk: text for r in rows}
            for row in rows:
                if row.pk in named:
                    _update(
                        [row],
                        status=S.REJECTED,
                        reason=named[row.pk][:1000],
                        done_at=now,
                        updated_at=now,
                    )
                    counts["rejected"] += 1
            others = [r for r in rows if r.pk not in named]
            # Sent with a rejected one: not an attempt of their own, sent again at once.
            _update(
                others,
                status=S.PENDING,
                attempts=F("attempts") - 1,
                next_attempt_at=now,
                updated_at=now,
            )
            counts["returned"] += len(others)
        else:
            _fail(rows, answer.error or f"HTTP {answer.status}", now)
            counts["failed"] += len(rows)
    return counts


def exchange_push(
    *,
    endpoint: Endpoint,
    batch: int | None = None,
    now: datetime.datetime | None = None,
    partner: Partner | None = None,
) -> dict[str, int]:
    """Send one batch of the endpoint's due records (over `partner`'s kept connection when
    given); the counts of what became of them (all zero: nothing was due)."""
    now = now or timezone.now()
    rows = _claim(endpoint, batch or settings.EXCHANGE_BATCH, now)
    if not rows:
        return {"accepted": 0, "rejected": 0, "failed": 0, "returned": 0}
    built = bundle_build(rows)
    answer = (
        bundle_post(endpoint, built.bundle, partner=partner)
        if any(built.owners)
        else Answer(200, None, "")
    )
    if answer.status == 0 or answer.status >= 500:
        system = endpoint.name  # a national system's configured name, not a person's
        logger.warning("exchange %s: %s (%d records)", system, answer.error, len(rows))
    return _settle(built, answer, now)
