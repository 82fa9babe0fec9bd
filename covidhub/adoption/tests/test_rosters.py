from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import Workbook

from covidhub.adoption.rosters import RosterFileInvalid, roster_parse
from covidhub.adoption.tests.conftest import HEADER, roster_csv, staff_row

pytestmark = pytest.mark.django_db


def test_good_csv_is_parsed_with_normalised_fields() -> None:
    parsed = roster_parse(data=roster_csv([staff_row(1), staff_row(2, sex="F")]), file_name="a.csv")
    assert parsed.row_count == 2
    assert parsed.errors == []
    first = parsed.rows[0]
    assert first["row"] == 2  # the spreadsheet's own numbering, heading on row 1
    assert first["id_type"] == "cccd"
    assert first["id_number"] == "030085000001"
    assert first["phone"] == "+84913000001"
    assert first["key"] == "id:030085000001"
    assert first["birth_date"] == "1985-03-15"


def test_bad_rows_are_reported_with_number_and_reason() -> None:
    rows = [
        staff_row(1),
        ["Trần Thị 2", "15/03/1985", "030085000002", "0913000002", "", ""],  # digit in name
        ["Lê Văn Bình", "31/02/1985", "030085000003", "0913000003", "", ""],  # no such date
        ["Phạm Văn Cường", "15/03/1990", "030085000004", "0913000004", "", ""],  # CCCD says 1985
        ["Hoàng Văn Dũng", "15/03/1985", "", "12345", "", ""],  # bad phone, no id
        ["Vũ Văn Em", "15/03/1985", "", "", "", ""],  # neither id nor phone
    ]
    parsed = roster_parse(data=roster_csv(rows), file_name="a.csv")
    assert [r["row"] for r in parsed.rows] == [2]
    by_row = {(e.row, e.field) for e in parsed.errors}
    assert (3, "full_name") in by_row
    assert (4, "birth") in by_row
    assert (5, "id_number") in by_row
    assert (6, "phone") in by_row
    assert (7, "id_number") in by_row
    assert all(e.message for e in parsed.errors)


def test_duplicate_identity_numbers_make_every_copy_bad() -> None:
    rows = [staff_row(1), staff_row(2), staff_row(1, name="Nguyễn Văn Khác")]
    parsed = roster_parse(data=roster_csv(rows), file_name="a.csv")
    assert [r["row"] for r in parsed.rows] == [3]
    assert {(e.row, e.field) for e in parsed.errors} == {(2, "id_number"), (4, "id_number")}
    assert "4" in next(e.message for e in parsed.errors if e.row == 2)
    assert "id:030085000001" in parsed.bad_keys


def test_wrong_columns_are_refused() -> None:
    data = roster_csv([["a", "b", "c"]], header=["Tên hàng", "Số lượng", "Đơn giá", "Ghi chú"])
    with pytest.raises(RosterFileInvalid) as exc:
        roster_parse(data=data, file_name="a.csv")
    assert "Missing" in str(exc.value.message) or "Thiếu" in str(exc.value.message)


def test_wrong_encoding_is_refused() -> None:
    text = (
        "Ho va ten,Ngay sinh,So CCCD,So dien thoai\nLê Văn Tâm,15/03/1985,030085000001,0913000001\n"
    )
    # What Excel on a Vietnamese Windows writes for "CSV (Comma delimited)".
    data = text.encode("cp1258")
    with pytest.raises(RosterFileInvalid) as exc:
        roster_parse(data=data, file_name="a.csv")
    assert "UTF-8" in str(exc.value.message)


def test_an_80_mb_file_is_refused_before_reading() -> None:
    data = b"Ho va ten,Ngay sinh,So CCCD,So dien thoai\n" + b"x" * (80 * 1024 * 1024)
    with pytest.raises(RosterFileInvalid) as exc:
        roster_parse(data=data, file_name="big.csv")
    assert "MB" in str(exc.value.message)


def test_old_excel_and_non_spreadsheets_are_refused() -> None:
    with pytest.raises(RosterFileInvalid):
        roster_parse(data=b"\xd0\xcf\x11\xe0" + b"\x00" * 100, file_name="a.xls")
    with pytest.raises(RosterFileInvalid):
        roster_parse(data=b"PK\x03\x04 not really a zip", file_name="a.xlsx")
    with pytest.raises(RosterFileInvalid):
        roster_parse(data=b"", file_name="a.csv")


def test_heading_only_is_refused() -> None:
    with pytest.raises(RosterFileInvalid):
        roster_parse(data=roster_csv([]), file_name="a.csv")


def test_xlsx_with_title_rows_numeric_cells_and_dates() -> None:
    import datetime

    workbook = Workbook()
    sheet: Any = workbook.active
    sheet.append(["DANH SÁCH CÁN BỘ, CÔNG CHỨC"])
    sheet.append([])
    sheet.append(HEADER)
    # Excel turned the CCCD and phone into numbers (leading zeros lost) and the date into a date.
    sheet.append(
        [
            1,
            "Nguyễn Văn An",
            datetime.datetime(1985, 3, 15),  # noqa: DTZ001 - a cell value
            30085000001,
            913000001,
            "",
            "",
        ]
    )
    sheet.append([2, "Trần Thị Bình", "02/11/1990", "030190000002", "0913 000 002", "", ""])
    out = io.BytesIO()
    workbook.save(out)
    parsed = roster_parse(data=out.getvalue(), file_name="a.xlsx")
    assert parsed.errors == []
    assert [(r["row"], r["id_number"], r["phone"]) for r in parsed.rows] == [
        (4, "030085000001", "+84913000001"),
        (5, "030190000002", "+84913000002"),
    ]


def test_semicolon_csv_with_bom_and_english_headings() -> None:
    text = "\ufeffFull name;Date of birth;Identity number;Phone number;Position;Unit\n"
    text += "Nguyễn Văn An;15/03/1985;030085000001;0913000001;Clerk;Office\n"
    parsed = roster_parse(data=text.encode("utf-8"), file_name="a.csv")
    assert parsed.errors == []
    assert parsed.rows[0]["position"] == "Clerk"
