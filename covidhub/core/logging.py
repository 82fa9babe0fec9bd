from __future__ import annotations

import logging

from covidhub.core import request_context


class RequestIdFilter(logging.Filter):
    """Adds the request id to every record; the id, not personal data, ties logs to audit."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = request_context.current()
        record.request_id = context.request_id if context else "-"
        return True
