"""The verdicts of the cluster drill (deploy/drill/load.py) on made-up outcomes: the drill
itself runs by hand (docs/scale.md), its arithmetic here."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from types import ModuleType

import pytest

DRILL = Path(__file__).resolve().parents[3] / "deploy" / "drill"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("drill_load", DRILL / "load.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["drill_load"] = module
    spec.loader.exec_module(module)
    return module


load = _load()


def outcome(kind: str, status: int, uuid: str = "", sent: float = 0.0, took: float = 0.1):
    return load.Outcome(
        kind=kind,
        phase="x",
        status=status,
        uuid=uuid,
        sent=sent,
        answered=sent + took,
        attempts=1,
    )


def test_every_acknowledged_write_must_have_its_row():
    outcomes = [
        outcome("declaration", 201, "d1"),
        outcome("declaration", 201, "d2"),
        outcome("booking", 201, "b1"),
        outcome("booking", 409),  # refused: nothing to find
        outcome("checkin", 0),  # no answer: not acknowledged, not counted as lost
        outcome("lookup", 404),  # a read
    ]

    result = load.reconcile(outcomes, {"declaration": {"d1"}, "booking": {"b1"}})

    assert result.acknowledged == 3
    assert result.found == 2
    assert result.missing == [("declaration", "d2")]
    assert result.lost == 1
    assert result.by_kind == {"declaration": (2, 1), "booking": (1, 1)}


def test_all_rows_found_is_zero_lost():
    outcomes = [outcome("dose", 201, "x1"), outcome("checkin", 201, "c1")]
    result = load.reconcile(outcomes, {"dose": {"x1"}, "checkin": {"c1", "other"}})
    assert result.lost == 0 and result.found == 2


def test_a_2xx_without_a_uuid_counts_as_lost():
    # An answer we could not read proves nothing: it must not pass as found.
    result = load.reconcile([outcome("declaration", 201, "")], {"declaration": {""}})
    assert result.lost == 1


def test_window_counts_failures_and_latency_of_the_requests_sent_in_it():
    outcomes = [
        outcome("declaration", 201, "a", sent=10, took=0.1),
        outcome("lookup", 404, sent=11, took=0.3),
        outcome("checkin", 502, sent=12, took=0.2),
        outcome("booking", 0, sent=13, took=5.0),
        outcome("declaration", 201, "b", sent=30, took=9.0),  # outside
    ]

    w = load.window(outcomes, 10, 20)

    assert w.requests == 4
    assert w.ok == 2  # the 201 and the look-up's 404
    assert w.failed == 2  # the 502 and the unanswered one
    assert w.p50_ms == pytest.approx(250)
    assert w.statuses == {0: 1, 201: 1, 404: 1, 502: 1}


def test_rto_is_the_first_write_answered_after_the_failure():
    outcomes = [
        outcome("declaration", 201, "a", sent=5, took=0.1),  # before
        outcome("lookup", 404, sent=10.5, took=0.1),  # a read does not end the outage
        outcome("checkin", 201, "c", sent=11, took=6.0),  # retried through the failover
        outcome("booking", 201, "b", sent=14, took=0.2),
    ]
    assert load.first_ok_write_after(outcomes, 10) == pytest.approx(14.2)
    assert load.first_ok_write_after(outcomes, 20) is None


def test_bookings_and_doses_use_each_fixture_row_once():
    fixture = load.Fixture(
        citizens=[{"token": "t1", "person": "p1"}, {"token": "t2", "person": "p2"}],
        venues=["V1"],
        booking_session="s",
        dose_bookings=["bk1"],
        lot="l",
        staff_cookie="sessionid=x",
        csrf="c",
    )
    rng = random.Random(1)
    people = {load.request_for("booking", fixture, rng)[2]["person_uuid"] for _ in range(2)}
    assert people == {"p1", "p2"}
    assert load.request_for("booking", fixture, rng) is None
    assert load.request_for("dose", fixture, rng)[0].endswith("/bk1/dose")
    assert load.request_for("dose", fixture, rng) is None


def test_table_is_markdown():
    text = load.table([["a", 1], ["b", 2]], ["name", "n"])
    assert text.splitlines() == ["| name | n |", "|---|---|", "| a | 1 |", "| b | 2 |"]


def test_each_sign_in_code_answered_needs_one_sms_that_reached_the_gateway():
    outcomes = [
        outcome("code", 202, "+84581000001"),
        outcome("code", 202, "+84581000002"),
        outcome("code", 202, "+84581000003"),
        outcome("code", 429),  # refused: no message owed
    ]
    messages = {
        "+84581000001": [("m1", "sent")],
        "+84581000002": [("m2", "sent"), ("m2b", "sent")],  # queued twice
        "+84581000003": [("m3", "pending")],  # never reached the gateway
    }
    received = {"m1": 2, "m2": 1, "m2b": 1}  # m1 resent after a worker died

    verdict = load.notifications_check(outcomes, messages, received)

    assert verdict.acknowledged == 3
    assert verdict.lost == ["+84581000003"]
    assert verdict.doubled == ["+84581000002"]
    assert verdict.unsent == ["m3"]
    assert verdict.repeats == 1


def test_a_code_is_found_by_its_phone_in_e164():
    assert load.created_key("code", {"phone": "0581000001"}, b"") == "+84581000001"
    assert load.created_key("checkin", {}, b'[{"uuid": "u1"}]') == "u1"
    assert load.created_key("declaration", {}, b"not json") == ""
