"""Reads off the primary: hot standbys (DATABASE_REPLICA_URLS) serve the reads that may be
a few seconds old, and nothing else.

Default-deny: a read goes to a standby only inside `reads_from_replica` (a view decorator
or a context manager: the portal, open data, the public result look-up, reports, FHIR
reads), and even there it stays on the primary when

- its model is one whose rows an invariant or a security decision reads (accounts,
  sessions, TOTP devices, tasks, idempotency records and form tokens: PRIMARY_ONLY_APPS);
- a transaction is open on the primary (a read inside one feeds a write);
- the request has written (through the ORM) earlier in it;
- the client wrote a moment ago: any request with a method other than GET/HEAD/OPTIONS
  pins its client to the primary for REPLICA_PIN_SECONDS (a cookie for browsers; for a
  bearer-token client, a mark in the cache under its account), so that it reads its own
  writes;
- no standby is usable: each process measures each standby's replay lag at most every
  REPLICA_LAG_CHECK_SECONDS, and one that lags more than REPLICA_MAX_LAG_SECONDS, lost its
  connection to the primary, or does not answer (then not asked again for
  REPLICA_RETRY_SECONDS) is skipped.

Every write goes to the primary (`db_for_write`); migrations run there only. A decorated
view whose replica fails mid-request (the standby stopped) is run once more on the
primary, unless it wrote. Without DATABASE_REPLICA_URLS the router is not installed and
none of this runs.
"""

from __future__ import annotations

import contextvars
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, Literal, overload

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections, models
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

PRIMARY = DEFAULT_DB_ALIAS
PIN_COOKIE = "covidhub_primary"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Rows read to decide who someone is, what they may do, or whether a request was seen.
PRIMARY_ONLY_APPS = frozenset(
    {
        "accounts",
        "auth",
        "sessions",
        "otp_totp",
        "otp_static",
        "django_otp",
        "django_tasks_database",
        "core",
    }
)

# Why a read went where it went (the label of covidhub_db_reads_total).
Reason = Literal[
    "replica", "model", "transaction", "wrote", "pinned", "lagging", "unavailable", "forced"
]


def replica_aliases() -> list[str]:
    return list(getattr(settings, "DATABASE_REPLICAS", []))


# -- where a read goes ------------------------------------------------------------------


@dataclass
class _Scope:
    """One `reads_from_replica` block: the standby it chose (sticky, so that one page
    reads one snapshot's worth of data) and whether it wrote."""

    primary_only: bool = False
    # What is read here will be kept (a cache filled until the next change): only a
    # standby that has replayed up to this WAL position of the primary may serve it.
    caught_up_to: str | None = None
    needs_position: bool = False
    alias: str | None = None
    chosen: bool = False
    wrote: bool = False
    used: str | None = None  # the standby read in this scope or a nested one
    reason: Reason = "replica"  # why `alias` is what it is, once chosen


@dataclass
class _RequestState:
    request: HttpRequest
    wrote: bool = False
    _pinned: bool | None = None

    def pinned(self) -> bool:
        if self._pinned is None:
            self._pinned = _client_pinned(self.request)
        return self._pinned


_scope: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar(
    "covidhub_replica_scope", default=None
)
_request: contextvars.ContextVar[_RequestState | None] = contextvars.ContextVar(
    "covidhub_replica_request", default=None
)


def read_database(model: type[models.Model] | None = None) -> tuple[str, Reason | None]:
    """The alias a read of `model` goes to now, and why (None: outside any replica scope
    or without standbys, which is the primary and not counted)."""
    scope = _scope.get()
    if scope is None or not replica_aliases():
        return PRIMARY, None
    if scope.primary_only:
        return PRIMARY, "forced"
    if model is not None and model._meta.app_label in PRIMARY_ONLY_APPS:
        return PRIMARY, "model"
    request = _request.get()
    if scope.wrote or (request is not None and request.wrote):
        return PRIMARY, "wrote"
    if connections[PRIMARY].in_atomic_block:
        return PRIMARY, "transaction"
    if request is not None and request.pinned():
        return PRIMARY, "pinned"
    if not scope.chosen:
        scope.alias, reason = health.pick()
        if (
            scope.alias is not None
            and scope.needs_position
            and not _replayed(scope.alias, scope.caught_up_to)
        ):
            scope.alias, reason = None, "lagging"
        scope.chosen, scope.reason = True, reason
    if scope.alias is None:
        return PRIMARY, scope.reason
    scope.used = scope.alias
    return scope.alias, "replica"


def _count(alias: str, reason: Reason | None) -> None:
    if reason is None:
        return
    from covidhub.core import monitoring

    monitoring.DB_READS.labels("primary" if alias == PRIMARY else "replica", reason).inc()


class PrimaryReplicaRouter:
    """Installed when DATABASE_REPLICA_URLS names at least one standby (config/settings)."""

    def db_for_read(self, model: type[models.Model], **hints: Any) -> str:
        alias, reason = read_database(model)
        _count(alias, reason)
        return alias

    def db_for_write(self, model: type[models.Model], **hints: Any) -> str:
        scope = _scope.get()
        if scope is not None:
            scope.wrote = True
        request = _request.get()
        if request is not None:
            request.wrote = True
        return PRIMARY

    def allow_relation(self, obj1: models.Model, obj2: models.Model, **hints: Any) -> bool:
        # The standbys hold the primary's rows: an object read on one is the same row.
        ours = {PRIMARY, *replica_aliases()}
        return obj1._state.db in ours and obj2._state.db in ours

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == PRIMARY


@contextmanager
def _replica_block() -> Iterator[_Scope]:
    scope = _Scope()
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


@overload
def reads_from_replica[F: Callable[..., Any]](func: F) -> F: ...
@overload
def reads_from_replica() -> AbstractContextManager[_Scope]: ...
def reads_from_replica(func: Callable[..., Any] | None = None) -> Any:
    """Reads in this view (or block) may go to a standby, as the module says.

        @reads_from_replica                 # a Django view
        def portal_home(request): ...

        @router.get("/figures")             # an API operation (django-ninja)
        @decorate_view(reads_from_replica)
        def figures(request): ...

        with reads_from_replica():          # a block (a report in a task)
            figures = rollup_for_report(...)

    A decorated function whose standby fails mid-call (connection lost, a query cancelled
    by recovery) is called once more on the primary, unless it wrote: decorate read-only
    views only. The failure is seen whether it is raised or turned into an answer on the
    way (django-ninja's operations answer 500 themselves): a database error on the standby
    during the call.
    """
    if func is None:
        return _replica_block()

    @wraps(func)
    def on_replica(*args: Any, **kwargs: Any) -> Any:
        with _replica_block() as scope:
            before = {alias: _errors_so_far(alias) for alias in replica_aliases()}
            try:
                result = func(*args, **kwargs)
            except Exception:
                if not _standby_failed(scope, before):
                    raise
            else:
                if not _standby_failed(scope, before):
                    return result
            assert scope.used is not None
            health.mark_down(scope.used, "failed during a request")
        token = _scope.set(_Scope(primary_only=True))
        try:
            return func(*args, **kwargs)
        finally:
            _scope.reset(token)

    return on_replica


def _errors_so_far(alias: str) -> bool:
    """Whether `alias` has had a database error on its current connection. A closed one
    keeps the flag of its last failure (Django clears it when it connects again): that
    failure is over."""
    connection = connections[alias]
    if connection.connection is None:
        connection.errors_occurred = False
    return bool(connection.errors_occurred)


def _standby_failed(scope: _Scope, before: dict[str, bool]) -> bool:
    """Whether the standby this scope read had a database error during it (and nothing
    was written, so that the call may run again)."""
    if scope.used is None or scope.wrote:
        return False
    return connections[scope.used].errors_occurred and not before.get(scope.used, False)


def primary_position(using: str = PRIMARY) -> str:
    """The primary's WAL position now: called after a commit, it covers that commit.
    ("0/0" on SQLite, which has no standbys.)"""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return "0/0"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        return str(cursor.fetchone()[0])


def _replayed(alias: str, position: str | None) -> bool:
    """Whether the standby `alias` has replayed the primary's WAL up to `position`."""
    if position is None:
        return False
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return True
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT NOT pg_is_in_recovery() OR pg_last_wal_replay_lsn() >= %s::pg_lsn",
                [position],
            )
            return bool(cursor.fetchone()[0])
    except (OperationalError, InterfaceError):
        health.mark_down(alias, "failed during a request")
        return False


@contextmanager
def replica_caught_up_to(position: str | None) -> Iterator[None]:
    """Inside a replica scope: reads in this block go to a standby only if it has replayed
    the primary's WAL up to `position` (`primary_position()` taken after a change; None:
    unknown, so the primary) — for a result that is kept until the next change (a cache),
    which a standby that has not replayed the change would keep stale. Outside a replica
    scope, reads are on the primary anyway."""
    outer = _scope.get()
    if outer is None:
        yield
        return
    inner = _Scope(primary_only=outer.primary_only, caught_up_to=position, needs_position=True)
    token = _scope.set(inner)
    try:
        yield
    finally:
        _scope.reset(token)
        outer.used = outer.used or inner.used
        outer.wrote = outer.wrote or inner.wrote


def replica_pin() -> None:
    """Mark the current request as a write: the rest of it reads the primary. (The
    middleware pins the client for any request that is not GET/HEAD/OPTIONS.)"""
    request = _request.get()
    if request is not None:
        request.wrote = True
    scope = _scope.get()
    if scope is not None:
        scope.wrote = True


# -- pinning a client that wrote --------------------------------------------------------


def _pin_cache_key(user_pk: object) -> str:
    return f"replicas:pin:{user_pk}"


def _client_pinned(request: HttpRequest) -> bool:
    if PIN_COOKIE in request.COOKIES:
        return True
    if "HTTP_AUTHORIZATION" not in request.META:
        return False
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    from django.core.cache import cache

    return bool(cache.get(_pin_cache_key(user.pk)))


class ReplicaMiddleware:
    """Tracks writes during a request and pins a client that wrote to the primary for
    REPLICA_PIN_SECONDS: a cookie, and for bearer-token clients (apps keep no cookies) a
    mark in the cache under their account."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not replica_aliases():
            return self.get_response(request)
        token = _request.set(_RequestState(request))
        try:
            response = self.get_response(request)
        finally:
            _request.reset(token)
        if request.method not in SAFE_METHODS:
            seconds = settings.REPLICA_PIN_SECONDS
            response.set_cookie(
                PIN_COOKIE,
                "1",
                max_age=seconds,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
            user = getattr(request, "user", None)
            if "HTTP_AUTHORIZATION" in request.META and user is not None and user.is_authenticated:
                from django.core.cache import cache

                cache.set(_pin_cache_key(user.pk), 1, seconds)
        return response


# -- replay lag -------------------------------------------------------------------------

# Seconds the standby's replay is behind the primary: 0 when it has replayed all it
# received (an idle primary; after a restart, the receiver reports the start of the
# segment it streams, behind what was replayed), else the age of the last transaction it
# replayed. Not in
# recovery (a promoted standby, or a copy used in tests): 0. `receiving`: the WAL receiver
# runs (without it an idle-looking standby may be cut off from the primary); its status
# needs pg_read_all_stats, the process's existence does not.
LAG_SQL = """
SELECT pg_is_in_recovery(),
       CASE WHEN NOT pg_is_in_recovery() THEN 0
            WHEN pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn() THEN 0
            ELSE EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())
       END,
       EXISTS (SELECT 1 FROM pg_stat_wal_receiver
               WHERE pid IS NOT NULL AND coalesce(status, 'streaming') = 'streaming')
"""


@dataclass
class ReplicaState:
    alias: str
    status: Literal["ok", "lagging", "unavailable", "unknown"] = "unknown"
    lag_seconds: float | None = None
    detail: str = ""
    checked_at: float = 0.0  # time.monotonic()
    down_until: float = 0.0


def replica_lag_measure(alias: str) -> ReplicaState:
    """Ask the standby `alias` how far behind it is (one query); never raises."""
    state = ReplicaState(alias, checked_at=time.monotonic())
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            if connection.vendor != "postgresql":
                # SQLite (tests): a second database has no replay to lag behind.
                cursor.execute("SELECT 1")
                in_recovery, lag, receiving = False, 0, False
            else:
                cursor.execute(LAG_SQL)
                in_recovery, lag, receiving = cursor.fetchone()
    except (OperationalError, InterfaceError) as exc:
        connection.close()
        state.status, state.detail = "unavailable", type(exc).__name__
        return state
    if in_recovery and not receiving:
        state.status, state.detail = "unavailable", "not receiving from the primary"
        return state
    if lag is None:
        state.status, state.detail = "lagging", "nothing replayed yet"
        return state
    state.lag_seconds = max(0.0, float(lag))
    state.status = "ok" if state.lag_seconds <= settings.REPLICA_MAX_LAG_SECONDS else "lagging"
    return state


@dataclass
class _Health:
    """This process's view of its standbys, refreshed by the requests that use them."""

    states: dict[str, ReplicaState] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def state(self, alias: str, *, refresh: bool = True) -> ReplicaState:
        now = time.monotonic()
        state = self.states.get(alias) or ReplicaState(alias)
        if not refresh or now < state.down_until:
            return state
        if now - state.checked_at < settings.REPLICA_LAG_CHECK_SECONDS:
            return state
        # One thread measures; the others use what is known meanwhile.
        if not self.lock.acquire(blocking=False):
            return state
        try:
            fresh = replica_lag_measure(alias)
            if fresh.status == "unavailable":
                fresh.down_until = fresh.checked_at + settings.REPLICA_RETRY_SECONDS
            self._record(state, fresh)
            self.states[alias] = fresh
            return fresh
        finally:
            self.lock.release()

    def pick(self) -> tuple[str | None, Reason]:
        """A usable standby, else None and why none."""
        aliases = replica_aliases()
        random.shuffle(aliases)
        reason: Reason = "unavailable"
        for alias in aliases:
            state = self.state(alias)
            if state.status == "ok":
                return alias, "replica"
            if state.status == "lagging":
                reason = "lagging"
        return None, reason

    def mark_down(self, alias: str, detail: str) -> None:
        now = time.monotonic()
        previous = self.states.get(alias) or ReplicaState(alias)
        state = ReplicaState(
            alias,
            status="unavailable",
            detail=detail,
            checked_at=now,
            down_until=now + settings.REPLICA_RETRY_SECONDS,
        )
        self._record(previous, state)
        self.states[alias] = state
        connections[alias].close()

    def forget(self) -> None:
        self.states.clear()

    @staticmethod
    def _record(previous: ReplicaState, fresh: ReplicaState) -> None:
        """One log line when a standby stops or starts being used, not one per check."""
        if previous.status != fresh.status and fresh.status != "ok":
            logger.warning(
                "replica %s %s (%s): reads go to the primary",
                fresh.alias,
                fresh.status,
                fresh.detail or f"lag {fresh.lag_seconds:.1f} s",
            )
        elif previous.status not in ("ok", "unknown") and fresh.status == "ok":
            logger.warning("replica %s usable again", fresh.alias)


health = _Health()


def replicas_readiness() -> dict[str, dict[str, Any]]:
    """Each standby measured now (for /readyz and /metrics)."""
    out: dict[str, dict[str, Any]] = {}
    for alias in replica_aliases():
        state = replica_lag_measure(alias)
        out[alias] = {
            "status": state.status,
            "lag_seconds": None if state.lag_seconds is None else round(state.lag_seconds, 3),
        }
    return out


def standbys_seen_by_primary(*, using: str = PRIMARY) -> list[tuple[str, str, float | None]]:
    """(application_name, state, replay lag in seconds) of each standby streaming from the
    primary (pg_stat_replication; the lag columns need pg_read_all_stats). Empty on SQLite."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT application_name, coalesce(state, ''), "
            "EXTRACT(EPOCH FROM coalesce(replay_lag, interval '0')) FROM pg_stat_replication"
        )
        return [(str(n), str(s), None if lag is None else float(lag)) for n, s, lag in cursor]
