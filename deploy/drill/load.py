"""The drill's load: threads sending a bounded mix of citizen and staff requests through
the proxy, each write with an Idempotency-Key (retried with the same key when no answer
came back), every answer recorded; and the checks made on what was recorded.

Pure functions (`reconcile`, `window`, `table`) hold the verdicts, so that the unit tests
can prove them on made-up outcomes (covidhub/core/tests/test_drill.py).
"""

from __future__ import annotations

import http.client
import itertools
import json
import random
import statistics
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

# The rows each kind of write leaves, by the UUID its 2xx answer names.
TABLES = {
    "declaration": "declarations_declaration",
    "checkin": "declarations_checkin",
    "booking": "vaccination_booking",
    "dose": "vaccination_dose",
}
# Sign-in codes are writes checked by their SMS (one per code asked for), not by a row UUID.
NOTIFYING = {"code"}
WEIGHTS = {"declaration": 3, "checkin": 3, "lookup": 2, "booking": 1, "dose": 1, "code": 1}
RETRY_STATUSES = {0, 500, 502, 503, 504}
LOOKUP_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


@dataclass
class Outcome:
    kind: str
    phase: str
    status: int  # the last answer's status; 0 when none came back
    uuid: str  # of the row a 2xx answer created
    sent: float  # time.time() of the first attempt
    answered: float
    attempts: int

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300 or (self.kind == "lookup" and self.status == 404)

    @property
    def write(self) -> bool:
        return self.kind in TABLES


@dataclass
class Fixture:
    citizens: list[dict[str, str]]
    venues: list[str]
    booking_session: str
    dose_bookings: list[str]
    lot: str
    staff_cookie: str
    csrf: str
    _phones: Iterator[int] = field(init=False)
    _bookers: Iterator[dict[str, str]] = field(init=False)
    _doses: Iterator[str] = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self._bookers = iter(list(self.citizens))
        self._doses = iter(list(self.dose_bookings))
        self._phones = itertools.count(1_000_000)

    def next_phone(self) -> str:
        """A new mobile number each time (058 …), so that no per-phone limit applies."""
        with self._lock:
            return f"058{next(self._phones):07d}"

    def next_booker(self) -> dict[str, str] | None:
        with self._lock:
            return next(self._bookers, None)

    def next_dose(self) -> str | None:
        with self._lock:
            return next(self._doses, None)


def request_for(
    kind: str, fixture: Fixture, rng: random.Random
) -> tuple[str, dict[str, str], dict[str, Any]] | None:
    """(path, headers, body) of one request of `kind`; None when its fixture is used up."""
    citizen = rng.choice(fixture.citizens)
    bearer = {"Authorization": f"Bearer {citizen['token']}"}
    if kind == "declaration":
        return (
            "/api/v1/declarations/declarations",
            bearer,
            {
                "person": citizen["person"],
                "phone": "0912345678",
                "commune": "10507",
                "address_line": "Số 1 Phố Diễn Tập",
                "travelled": False,
                "symptoms": [],
                "no_symptoms": True,
                "contact_case": False,
                "contact_outbreak_area": False,
                "contact_symptomatic": False,
                "consent": True,
            },
        )
    if kind == "checkin":
        return (
            "/api/v1/declarations/checkins",
            bearer,
            {"venue_code": rng.choice(fixture.venues), "people": [citizen["person"]]},
        )
    if kind == "lookup":
        # Another citizen each time (the load stands for a CDN the servers trust), so that
        # the look-up's failure limits per address do not refuse the drill.
        client = f"203.0.113.{rng.randrange(1, 255)}"
        code = "".join(rng.choice(LOOKUP_ALPHABET) for _ in range(8))
        return (
            "/api/v1/testing/lookup",
            {"X-Forwarded-For": client},
            {"code": code, "birth": "01/01/1990"},
        )
    if kind == "code":
        return (
            "/api/v1/auth/code",
            {"X-Forwarded-For": f"198.51.100.{rng.randrange(1, 255)}"},
            {"phone": fixture.next_phone(), "language": "vi"},
        )
    if kind == "booking":
        booker = fixture.next_booker()
        if booker is None:
            return None
        return (
            "/api/v1/vaccination/me/bookings",
            {"Authorization": f"Bearer {booker['token']}"},
            {"person_uuid": booker["person"], "session": fixture.booking_session},
        )
    if kind == "dose":
        booking = fixture.next_dose()
        if booking is None:
            return None
        return (
            f"/api/v1/vaccination/staff/bookings/{booking}/dose",
            {
                "Cookie": f"{fixture.staff_cookie}; csrftoken={fixture.csrf}",
                "X-CSRFToken": fixture.csrf,
            },
            {"lot": fixture.lot},
        )
    raise ValueError(kind)


def created_key(kind: str, sent: dict[str, Any], body: bytes) -> str:
    """What to look for after a 2xx: the row's UUID, or the phone a code was sent to."""
    if kind == "code":
        return "+84" + str(sent["phone"])[1:]
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    if isinstance(data, list):  # check-ins answer a list (one per person)
        data = data[0] if data else {}
    return str(data.get("uuid", "")) if isinstance(data, dict) else ""


class Load:
    """`rate` requests per second in all, from `threads` threads, until `stop()`."""

    def __init__(
        self, host: str, port: int, fixture: Fixture, *, rate: float = 6, threads: int = 4
    ) -> None:
        self.host, self.port, self.fixture = host, port, fixture
        self.rate, self.threads = rate, threads
        self.phase = "warm-up"
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for number in range(self.threads):
            thread = threading.Thread(target=self._loop, args=(number,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=40)

    def _send(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=20)
        try:
            connection.request(
                "POST",
                path,
                body=json.dumps(body),
                headers={"Content-Type": "application/json", "Host": self.host, **headers},
            )
            response = connection.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            return 0, b""
        finally:
            connection.close()

    def _loop(self, number: int) -> None:
        rng = random.Random(number)
        kinds = [k for k, w in WEIGHTS.items() for _ in range(w)]
        interval = self.threads / self.rate
        while not self._stop.is_set():
            started = time.monotonic()
            kind = rng.choice(kinds)
            request = request_for(kind, self.fixture, rng)
            if request is not None:
                self._one(kind, *request)
            self._stop.wait(max(0.0, interval - (time.monotonic() - started)))

    def _one(self, kind: str, path: str, headers: dict[str, str], body: dict[str, Any]) -> None:
        phase, sent = self.phase, time.time()
        writes = kind in TABLES or kind in NOTIFYING
        if writes:
            headers = {**headers, "Idempotency-Key": f"drill-{uuid.uuid4()}"}
        status, answer, attempts = 0, b"", 0
        # A write whose answer did not come back is sent again with the same key, for up
        # to 30 s (a failover): the server either did it (and answers the same) or not.
        while attempts == 0 or (status in RETRY_STATUSES and time.time() - sent < 30):
            if attempts:
                time.sleep(0.5)
            attempts += 1
            status, answer = self._send(path, headers, body)
            if not writes:
                break
        outcome = Outcome(
            kind=kind,
            phase=phase,
            status=status,
            uuid=created_key(kind, body, answer) if 200 <= status < 300 else "",
            sent=sent,
            answered=time.time(),
            attempts=attempts,
        )
        with self._lock:
            self.outcomes.append(outcome)


# Verdicts ---------------------------------------------------------------------------------


@dataclass
class Reconciliation:
    acknowledged: int  # writes answered 2xx
    found: int  # of those, rows found
    missing: list[tuple[str, str]]  # (kind, uuid) answered 2xx without a row
    by_kind: dict[str, tuple[int, int]]  # kind: (acknowledged, found)

    @property
    def lost(self) -> int:
        return len(self.missing)


def reconcile(outcomes: Iterable[Outcome], present: dict[str, set[str]]) -> Reconciliation:
    """Every write answered 2xx against the rows found (`present`: kind → UUIDs)."""
    missing: list[tuple[str, str]] = []
    by_kind: dict[str, tuple[int, int]] = {}
    for outcome in outcomes:
        if not outcome.write or not 200 <= outcome.status < 300:
            continue
        acknowledged, found = by_kind.get(outcome.kind, (0, 0))
        hit = bool(outcome.uuid) and outcome.uuid in present.get(outcome.kind, set())
        by_kind[outcome.kind] = (acknowledged + 1, found + hit)
        if not hit:
            missing.append((outcome.kind, outcome.uuid))
    acknowledged = sum(a for a, _f in by_kind.values())
    return Reconciliation(acknowledged, acknowledged - len(missing), missing, by_kind)


@dataclass
class Notifications:
    acknowledged: int  # codes answered 2xx
    lost: list[str]  # of those, phones without a message the gateway received
    doubled: list[str]  # phones with more than one message for one code
    unsent: list[str]  # message UUIDs not "sent"
    repeats: int  # messages the gateway received more than once (same UUID)


def notifications_check(
    outcomes: Iterable[Outcome],
    messages: dict[str, list[tuple[str, str]]],
    received: dict[str, int],
) -> Notifications:
    """Each code answered 2xx has one message (`messages`: phone → [(UUID, status)]),
    sent and received by the gateway (`received`: UUID → times)."""
    phones = [o.uuid for o in outcomes if o.kind == "code" and 200 <= o.status < 300]
    lost, doubled = [], []
    for phone in phones:
        mine = messages.get(phone, [])
        if not any(received.get(u, 0) for u, _s in mine):
            lost.append(phone)
        if len(mine) > 1:
            doubled.append(phone)
    unsent = [u for mine in messages.values() for u, status in mine if status != "sent"]
    repeats = sum(1 for mine in messages.values() for u, _s in mine if received.get(u, 0) > 1)
    return Notifications(len(phones), lost, doubled, unsent, repeats)


@dataclass
class Window:
    requests: int
    ok: int
    failed: int  # no answer, or 5xx
    p50_ms: float
    p95_ms: float
    statuses: dict[int, int]


def window(outcomes: Sequence[Outcome], start: float, end: float) -> Window:
    """The requests sent in [start, end): how many, answered well, failed, latencies."""
    chosen = [o for o in outcomes if start <= o.sent < end]
    latencies = sorted((o.answered - o.sent) * 1000 for o in chosen)
    statuses: dict[int, int] = {}
    for o in chosen:
        statuses[o.status] = statuses.get(o.status, 0) + 1
    failed = sum(1 for o in chosen if o.status == 0 or o.status >= 500)
    return Window(
        requests=len(chosen),
        ok=sum(1 for o in chosen if o.ok),
        failed=failed,
        p50_ms=statistics.median(latencies) if latencies else 0.0,
        p95_ms=latencies[int(0.95 * (len(latencies) - 1))] if latencies else 0.0,
        statuses=dict(sorted(statuses.items())),
    )


def first_ok_write_after(outcomes: Iterable[Outcome], moment: float) -> float | None:
    """When the first write sent after `moment` was answered 2xx (for the RTO)."""
    times = [o.answered for o in outcomes if o.write and o.sent >= moment and 200 <= o.status < 300]
    return min(times) if times else None


def table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
