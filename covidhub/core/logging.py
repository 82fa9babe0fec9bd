"""Log records: a request id on each, no personal data in any, JSON in production.

What the application logs is written not to carry personal data (codes and ids, never a
name, phone number or identity number; see the test that reads every logging call). What
libraries log is not ours to word: a PostgreSQL error quotes the key it refused ("Key
(phone)=(0912000001) already exists"), an exception may quote an address. So every line
goes through `redact` at the end, whatever its source: key values, e-mail addresses and
runs of 9 or more digits (phone and identity numbers) are masked. A record Django makes
about a request names the route pattern instead of the path (tokens travel in paths).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from covidhub.core import request_context

_PATTERNS = [
    # PostgreSQL's DETAIL of a refused key: Key (phone)=(0912000001) / Key (a, b)=(x, y)
    (re.compile(r"(Key \([^)]*\)=\()[^)]*(\))"), r"\1…\2"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "<email>"),
    # A phone number written with spaces or dots (0912 000 001, +84 912.000.001).
    (re.compile(r"(?<![\w.])\+?\d{2,4}(?:[ .]\d{3,4}){2,3}(?![\w.])"), "<number>"),
    (re.compile(r"(?<!\w)\+?\d{9,}(?!\w)"), "<number>"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RequestIdFilter(logging.Filter):
    """Adds the request id to every record; the id, not personal data, ties logs to audit.
    A record about a request (django.request) names its route pattern, not its path."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = request_context.current()
        record.request_id = context.request_id if context else "-"
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "path"):
            from covidhub.core.monitoring import route_of

            route = route_of(request)
            message = record.getMessage().replace(request.path, route)
            record.msg, record.args = message, ()
            record.route = route
            record.request = None
        return True


class PlainFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonLinesFormatter(JsonFormatter):
    """One JSON object per line: time, level, logger, message, request_id, and the extra
    fields of the call (route, status, duration_ms ...), exception text included."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", ["levelname", "name", "message", "request_id"])
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", "time")
        kwargs.setdefault(
            "reserved_attrs",
            [*_RESERVED, "request", "server_time", "taskName", "color_message"],
        )
        super().__init__(*args, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


_RESERVED = [
    "args",
    "asctime",
    "created",
    "exc_info",
    "exc_text",
    "filename",
    "funcName",
    "levelname",
    "levelno",
    "lineno",
    "module",
    "msecs",
    "message",
    "msg",
    "name",
    "pathname",
    "process",
    "processName",
    "relativeCreated",
    "stack_info",
    "thread",
    "threadName",
]
