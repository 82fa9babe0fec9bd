"""Log lines: JSON with a request id, no personal data, the route instead of the path."""

from __future__ import annotations

import ast
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.urls import resolve

from covidhub.core import request_context
from covidhub.core.logging import JsonLinesFormatter, PlainFormatter, RequestIdFilter, redact

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def json_log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger writing through the production handler's filter and JSON formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonLinesFormatter())
    logger = logging.getLogger("covidhub.tests.json")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_json_line_carries_time_level_logger_message_and_request_id(json_log):
    logger, stream = json_log
    token = request_context.bind(request_context.RequestContext("a1b2c3d4e5f6", "127.0.0.1"))
    try:
        logger.info("certificates waiting: %s", "no_signing_key", extra={"queue": "pending"})
    finally:
        request_context.reset(token)
    logger.warning("outside a request")
    first, second = lines(stream)
    assert first["level"] == "INFO"
    assert first["logger"] == "covidhub.tests.json"
    assert first["message"] == "certificates waiting: no_signing_key"
    assert first["request_id"] == "a1b2c3d4e5f6"
    assert first["queue"] == "pending"
    assert first["time"].startswith("20")
    assert second["request_id"] == "-"
    assert "client_address" not in first and "127.0.0.1" not in stream.getvalue()


@pytest.mark.parametrize(
    "text",
    [
        "send to 0912000001 failed",
        "send to +84912000001 failed",
        "gateway said: 0912 000 001 unreachable",
        "gateway said: +84 912.000.001 unreachable",
        "identity number 001090012345 refused",
        "mail to nguyen.van.an@example.vn bounced",
        'duplicate key value violates unique constraint "x"\nDETAIL:  Key (phone)=(0912000001) already exists.',
        "DETAIL:  Key (identity_number, kind)=(001090012345, cccd) already exists.",
    ],
)
def test_personal_data_is_masked(text):
    masked = redact(text)
    for secret in ("0912000001", "912000001", "0912 000 001", "912.000.001", "001090012345"):
        assert secret not in masked
    assert "nguyen.van.an" not in masked


@pytest.mark.parametrize(
    "text",
    [
        "dose 3f1c2a9e-5b7d-4e1a-9c3b-2d4e6f8a0b1c: no certificate (no_signing_key)",
        "portal rollup 2026-12-01..2026-12-06: 4123 cells in 1.5 s",
        "request 64f63e19210e48f99ac2b490a8b1ce3d",
        "GET portal/districts/<str:code>/ 200 12.3 ms",
    ],
)
def test_what_is_not_personal_is_kept(text):
    assert redact(text) == text


def test_an_exception_is_masked_too(json_log):
    logger, stream = json_log
    try:
        raise ValueError("Key (phone)=(0912000001) already exists")
    except ValueError:
        logger.exception("message delivery failed")
    (line,) = lines(stream)
    assert "0912000001" not in stream.getvalue()
    assert "ValueError" in line["exc_info"]


def test_djangos_request_log_names_the_route_not_the_path(rf):
    from django.http import HttpResponse
    from django.utils.log import log_response

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(PlainFormatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        token = "eyJzaWduZWQiOiJ0b2tlbiJ9:1abc:secretpart"
        request = rf.get(f"/testing/lookup/pdf/{token}/")
        request.resolver_match = resolve(f"/testing/lookup/pdf/{token}/")
        log_response(
            "Server error: %s", request.path, response=HttpResponse(status=500), request=request
        )
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "testing/lookup/pdf/<str:token>/" in text
    assert token not in text


def test_each_request_writes_one_access_line_without_its_path(client, caplog, area_tree, settings):
    with caplog.at_level(logging.INFO, logger="covidhub.access"):
        client.get("/portal/districts/288/?q=0912000001", HTTP_X_REQUEST_ID="req-0123456789")
    (record,) = [r for r in caplog.records if r.name == "covidhub.access"]
    assert record.route == "portal/districts/<str:code>/"
    assert record.status == 200
    assert record.method == "GET"
    assert record.duration_ms > 0
    assert record.request_id == "req-0123456789"
    assert "288" not in record.getMessage() and "0912000001" not in record.getMessage()


PERSONAL_ATTRIBUTES = {
    "full_name",
    "name",
    "phone",
    "phone_number",
    "birth_date",
    "birth_year",
    "identity_number",
    "email",
    "address",
    "to",
    "body",
    "password",
}


def logging_calls_with_personal_data(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"debug", "info", "warning", "error", "exception", "critical"}
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in {"logger", "logging", "log"}
        ):
            continue
        for argument in [*node.args[1:], *(k.value for k in node.keywords)]:
            for part in ast.walk(argument):
                if isinstance(part, ast.Attribute) and part.attr in PERSONAL_ATTRIBUTES:
                    found.append(f"{path.relative_to(root)}:{node.lineno} .{part.attr}")
    return found


def test_no_logging_call_passes_personal_fields():
    """Our own log lines carry ids and codes, never a person's name, phone or number."""
    offenders = []
    for path in sorted((ROOT / "covidhub").rglob("*.py")):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        offenders += logging_calls_with_personal_data(path)
    assert offenders == []


def test_the_check_above_finds_a_name_in_a_log_call(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text('logger.warning("refused %s", person.full_name)\n', encoding="utf-8")
    assert logging_calls_with_personal_data(bad, tmp_path) == ["bad.py:1 .full_name"]
