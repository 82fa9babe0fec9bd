"""Helpers for tests of code that queues tasks."""

from __future__ import annotations

import contextlib
import http.client
import json as jsonlib
import threading
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone


def run_queued_tasks(*, include_future: bool = True, limit: int = 10_000) -> int:
    """Run queued tasks in this process, as the worker would, without closing the test's
    database connection (the worker's loop does, which breaks a test transaction)."""
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    if include_future:
        DBTaskResult.objects.filter(status="READY", run_after__gt=timezone.now()).update(
            run_after=timezone.now()
        )
    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
        excluded_queue_names=[],
    )
    ran = 0
    while ran < limit:
        with transaction.atomic():
            task = DBTaskResult.objects.ready().filter(backend_name="default").get_locked()
            if task is None:
                break
            task.claim("test")
        worker.run_task(task)
        ran += 1
    return ran


# Racing real requests against a live server.


@dataclass(frozen=True)
class HttpResult:
    status: int
    body: Any
    headers: dict[str, str]


def http_request(
    method: str,
    url: str,
    *,
    json: Any = None,
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
) -> HttpResult:
    """One real HTTP request (a new connection), for tests that race a live server; the
    body is `json`, or `form` sent as a page form would be."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(
        parts.hostname or "127.0.0.1", parts.port, timeout=timeout
    )
    body = None if json is None else jsonlib.dumps(json).encode()
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if form is not None:
        body = urllib.parse.urlencode(form).encode()
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(
            method,
            parts.path + (f"?{parts.query}" if parts.query else ""),
            body=body,
            headers=all_headers,
        )
        response = connection.getresponse()
        raw = response.read()
        content_type = response.getheader("Content-Type", "")
        parsed: Any = (
            jsonlib.loads(raw) if "json" in content_type and raw else raw.decode("utf-8", "replace")
        )
        return HttpResult(response.status, parsed, {k.lower(): v for k, v in response.getheaders()})
    finally:
        connection.close()


def session_headers(client: Any) -> dict[str, str]:
    """A signed-in test client's session as a browser sends it with a raced request: its
    session cookie, and a fresh CSRF token as cookie and header."""
    from django.middleware.csrf import _get_new_csrf_string

    csrf = _get_new_csrf_string()
    return {
        "Cookie": f"sessionid={client.cookies['sessionid'].value}; csrftoken={csrf}",
        "X-CSRFToken": csrf,
        "Referer": "http://127.0.0.1/",
    }


def race[T](calls: list[Callable[[], T]], *, workers: int = 32) -> list[T]:
    """Run the calls in parallel threads released together by a barrier."""
    barrier = threading.Barrier(min(workers, len(calls)))

    def run(call: Callable[[], T]) -> T:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, calls))


# -- Crafted spreadsheets (the files of the penetration test, built in memory) -----------

_XLSX_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
_XLSX_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_XLSX_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_XLSX_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)


def xlsx_crafted(
    *,
    rows: list[list[str]],
    dimension: str = "",
    far_cells: tuple[str, ...] = (),
    padding: int = 0,
) -> bytes:
    """A hand-written XLSX: `rows` as inline strings from A1, a `<dimension>` that may lie,
    cells at far coordinates ("XFD20000"), and `padding` bytes of zeros packed into the
    sheet (a zip bomb: megabytes that compress to a few kilobytes)."""
    import io
    import zipfile
    from xml.sax.saxutils import escape

    from openpyxl.utils import get_column_letter
    from openpyxl.utils.cell import coordinate_from_string

    body = []
    for r, values in enumerate(rows, start=1):
        cells = "".join(
            f'<c r="{get_column_letter(c)}{r}" t="inlineStr"><is><t>{escape(v)}</t></is></c>'
            for c, v in enumerate(values, start=1)
        )
        body.append(f'<row r="{r}">{cells}</row>')
    for ref in far_cells:
        _col, row = coordinate_from_string(ref)
        body.append(f'<row r="{row}"><c r="{ref}" t="inlineStr"><is><t>x</t></is></c></row>')
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + (f'<dimension ref="{dimension}"/>' if dimension else "")
        + "<sheetData>"
        + "".join(body)
        + "</sheetData>"
        + (f"<!--{'0' * padding}-->" if padding else "")
        + "</worksheet>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _XLSX_TYPES)
        archive.writestr("_rels/.rels", _XLSX_RELS)
        archive.writestr("xl/workbook.xml", _XLSX_WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _XLSX_WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    return out.getvalue()


# Page forms ----------------------------------------------------------------------------


def form_tokens_in(response: Any) -> list[str]:
    """The `form_token` values of the forms on a rendered page, in page order."""
    import re

    return re.findall(r'name="form_token" value="([^"]+)"', response.content.decode())


def post_form_twice(client: Any, page: str, data: dict[str, Any], *, action: str = "") -> Any:
    """Render `page`, send its first form twice with the same token (a double tap or a
    retried request); returns (first, second) responses."""
    [token, *_others] = form_tokens_in(client.get(page))
    body = {**data, "form_token": token}
    first = client.post(action or page, body)
    second = client.post(action or page, body)
    return first, second
