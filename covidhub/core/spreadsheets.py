"""Reading and writing the spreadsheets that staff upload and download.

Every import (lab results, registration lists, staff rosters, the GSO list of units)
reads its file through `sheet_read`, which holds the limits in one place:

- the file's size, the zip members' unpacked sizes and their compression ratio are
  checked *before* anything is parsed (a 1.6 KB zip can unpack to gigabytes);
- the `<dimension>` a worksheet claims is never used: rows and cells are taken as they
  come from the XML, so a sheet claiming `A1:XFD20000` costs what its few cells cost;
- a value beyond the row or column limit refuses the file; a deadline stops a slow read;
- CSV gets the same row, column and time limits.

Every refusal is a `SpreadsheetRefused` (400) with a translated message under the
`file` field, never a 500. Exports write cells through `xlsx_set` and `csv_safe`, so a
value such as `=HYPERLINK(...)` is stored as text, never as a live formula.
"""

from __future__ import annotations

import csv
import io
import time
import zipfile
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from covidhub.core.errors import DomainError

MB = 1024 * 1024


@dataclass(frozen=True)
class SheetLimits:
    """What one import accepts. `max_rows` counts spreadsheet rows including headings."""

    max_bytes: int = 10 * MB
    max_rows: int = 20_010
    max_columns: int = 64
    max_unpacked: int = 64 * MB
    # XML of real sheets packs 5-20×; a zip bomb packs hundreds or thousands of times.
    max_ratio: int = 150
    max_seconds: float = 30.0
    max_members: int = 500


class SpreadsheetRefused(DomainError):
    """A file that cannot be read within the limits; nothing was imported."""

    code = "file_refused"
    status = 400
    default_message = gettext_lazy("The file could not be read.")

    def __init__(self, message: str, *, reason: str = "invalid") -> None:
        super().__init__(message, details={"fields": {"file": [message]}, "reason": reason})
        self.reason = reason


def _refuse_unreadable() -> SpreadsheetRefused:
    return SpreadsheetRefused(
        _("The spreadsheet could not be read. Save it again as .xlsx or as CSV UTF-8."),
        reason="unreadable",
    )


def _refuse_rows(limits: SheetLimits) -> SpreadsheetRefused:
    return SpreadsheetRefused(
        _("The file has more than %(rows)s rows. Split it into several files.")
        % {"rows": f"{limits.max_rows:,}"},
        reason="too_many_rows",
    )


def _refuse_columns(limits: SheetLimits) -> SpreadsheetRefused:
    return SpreadsheetRefused(
        _("The file has more than %(columns)s columns. Keep only the columns of the list.")
        % {"columns": limits.max_columns},
        reason="too_many_columns",
    )


def _refuse_unpacked(limits: SheetLimits) -> SpreadsheetRefused:
    return SpreadsheetRefused(
        _(
            "The spreadsheet unpacks to more than %(size)s MB or is packed abnormally. "
            "Save it again from Excel, or split it into several files."
        )
        % {"size": limits.max_unpacked // MB},
        reason="too_large_unpacked",
    )


class _Clock:
    def __init__(self, limits: SheetLimits) -> None:
        self.deadline = time.monotonic() + limits.max_seconds

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise SpreadsheetRefused(
                _("The file took too long to read. Split it into several smaller files."),
                reason="too_slow",
            )


def sheet_read(
    *, content: bytes, limits: SheetLimits | None = None, legacy_encoding: str | None = None
) -> list[list[Any]]:
    """The rows of an XLSX workbook's first sheet, or of a CSV file, within `limits`.

    Row `i` of the result is spreadsheet row `i + 1` (missing rows are empty lists), so
    that errors can name the row the user sees. XLSX cells keep their type (str, int,
    float, datetime, bool, None); CSV cells are strings. Trailing empty cells are dropped.
    `legacy_encoding` (e.g. cp1258) is tried for a CSV that is not UTF-8.
    """
    limits = limits or SheetLimits()
    if not content or not content.strip():
        raise SpreadsheetRefused(_("The file is empty."), reason="empty")
    if len(content) > limits.max_bytes:
        raise SpreadsheetRefused(
            _("The file is larger than %(size)s MB. Split it into several files.")
            % {"size": limits.max_bytes // MB},
            reason="too_large",
        )
    clock = _Clock(limits)
    if content.startswith(b"PK\x03\x04"):
        rows = _xlsx_rows(content, limits, clock)
    elif content.startswith(b"\xd0\xcf\x11\xe0"):
        raise SpreadsheetRefused(
            _("Old Excel files (.xls) are not accepted. Save the file as .xlsx or as CSV UTF-8."),
            reason="xls",
        )
    elif content[:5] == b"%PDF-" or content.startswith(b"PK"):
        raise SpreadsheetRefused(
            _("The file is not a spreadsheet or a CSV file."), reason="not_a_sheet"
        )
    else:
        rows = _csv_rows(content, limits, clock, legacy_encoding)
    while rows and not rows[-1]:
        rows.pop()
    if not rows:
        raise SpreadsheetRefused(_("The file is empty."), reason="empty")
    return rows


def _trimmed(cells: list[Any]) -> list[Any]:
    end = len(cells)
    while end and (cells[end - 1] is None or cells[end - 1] == ""):
        end -= 1
    return cells[:end]


def _zip_check(archive: zipfile.ZipFile, limits: SheetLimits) -> None:
    """Refuse before parsing: the declared sizes bound what zipfile will ever unpack."""
    members = archive.infolist()
    if len(members) > limits.max_members:
        raise _refuse_unreadable()
    total = 0
    for info in members:
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _refuse_unreadable()
        total += info.file_size
        if info.file_size > MB and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise _refuse_unpacked(limits)
    if total > limits.max_unpacked:
        raise _refuse_unpacked(limits)


def _xlsx_rows(content: bytes, limits: SheetLimits, clock: _Clock) -> list[list[Any]]:
    from openpyxl import load_workbook
    from openpyxl.worksheet._reader import WorkSheetParser

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            _zip_check(archive, limits)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise _refuse_unreadable() from exc
    try:
        workbook: Any = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except SpreadsheetRefused:
        raise
    except Exception as exc:  # openpyxl raises many kinds for a malformed workbook
        raise _refuse_unreadable() from exc
    rows: list[list[Any]] = []
    try:
        if not workbook.worksheets:
            raise _refuse_unreadable()
        sheet: Any = workbook.worksheets[0]
        # The sheet's own XML, parsed as a stream: openpyxl's read-only iter_rows would
        # pad every row to the claimed <dimension> and fill every missing row up to it.
        with sheet._get_source() as source:
            parser = WorkSheetParser(
                source,
                sheet._shared_strings,
                data_only=True,
                epoch=workbook.epoch,
                date_formats=workbook._date_formats,
                timedelta_formats=workbook._timedelta_formats,
            )
            for number, cells in parser.parse():
                clock.check()
                values = [(cell["column"], cell["value"]) for cell in cells]
                values = [(c, v) for c, v in values if v is not None and v != ""]
                if not values:
                    continue
                if number > limits.max_rows:
                    raise _refuse_rows(limits)
                if max(c for c, _v in values) > limits.max_columns:
                    raise _refuse_columns(limits)
                if number <= len(rows):
                    continue  # rows out of order: not written by any spreadsheet program
                rows.extend([] for _ in range(number - 1 - len(rows)))
                row: list[Any] = [None] * max(c for c, _v in values)
                for column, value in values:
                    row[column - 1] = value
                rows.append(row)
    except SpreadsheetRefused:
        raise
    except Exception as exc:
        raise _refuse_unreadable() from exc
    finally:
        workbook.close()
    return rows


def _decode(content: bytes, legacy_encoding: str | None) -> str:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ["utf-16"]
    else:
        encodings = ["utf-8-sig", *([legacy_encoding] if legacy_encoding else [])]
    for encoding in encodings:
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            raise SpreadsheetRefused(
                _("The file is not a spreadsheet or a CSV file."), reason="not_a_sheet"
            )
        return text
    raise SpreadsheetRefused(
        _(
            "The file is not in UTF-8 encoding, so Vietnamese letters would be garbled. "
            "In Excel choose Save As → “CSV UTF-8 (Comma delimited)”, or upload the .xlsx file."
        ),
        reason="encoding",
    )


# No spreadsheet program writes more columns than Excel's 16,384, trailing empty ones included.
CSV_MAX_FIELDS = 16_384


def _csv_line_widths_check(text: str, delimiter: str, limits: SheetLimits, clock: _Clock) -> None:
    """Refuse a line of more separators than any spreadsheet writes, before the CSV reader
    splits it: one line of 9 million commas (a "far cell") became a list of 9 million cells,
    275 MB for a 9 MB file, before the column limit saw it. Counted in place, no copies."""
    newline = "\n" if "\n" in text else "\r"
    start, lines = 0, 0
    while start < len(text):
        end = text.find(newline, start)
        end = len(text) if end < 0 else end
        if text.count(delimiter, start, end) >= CSV_MAX_FIELDS:
            raise _refuse_columns(limits)
        start, lines = end + 1, lines + 1
        if lines % 4096 == 0:
            clock.check()


def _csv_rows(
    content: bytes, limits: SheetLimits, clock: _Clock, legacy_encoding: str | None
) -> list[list[Any]]:
    text = _decode(content, legacy_encoding)
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    _csv_line_widths_check(text, getattr(dialect, "delimiter", ","), limits, clock)
    rows: list[list[Any]] = []
    try:
        for number, raw in enumerate(csv.reader(io.StringIO(text, newline=""), dialect), 1):
            if number % 256 == 0:
                clock.check()
            cells = _trimmed([cell.strip() for cell in raw])
            if not cells:
                rows.append([])
                continue
            if number > limits.max_rows:
                raise _refuse_rows(limits)
            if len(cells) > limits.max_columns:
                raise _refuse_columns(limits)
            rows.append(cells)
    except csv.Error as exc:
        raise SpreadsheetRefused(_("The CSV file is malformed."), reason="malformed") from exc
    return rows


# -- Exports ---------------------------------------------------------------------------

# Excel, LibreOffice and Google Sheets start a formula (or DDE call) with any of these.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_safe(value: Any) -> Any:
    """A value for an exported CSV cell: a string that a spreadsheet would run as a formula
    gets a leading apostrophe, so that Excel and LibreOffice show it as text.

    Numbers, dates and None pass unchanged (a negative number is a number, not a formula).
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def xlsx_set(sheet: Any, *, row: int, column: int, value: Any) -> Any:
    """Write one exported cell; return it. A string is always stored as text: openpyxl
    would store '=…' as a formula, and the quote-prefix style keeps Excel from turning
    '+…', '-…' or '@…' into one when the cell is edited."""
    cell = sheet.cell(row=row, column=column, value=value)
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell
