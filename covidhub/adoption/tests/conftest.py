from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def agencies(area_tree: dict[str, Any]) -> dict[str, Any]:
    """UBND TP Hải Dương with two ward committees below it; a department beside it."""
    from covidhub.adoption.services import agency_create

    district = agency_create(
        actor=None,
        name="UBND thành phố Hải Dương",
        kind="district_committee",
        area=area_tree["district"],
    )
    ward = agency_create(
        actor=None,
        name="UBND phường Cẩm Thượng",
        kind="commune_committee",
        area=area_tree["commune"],
        parent=district,
    )
    ward2 = agency_create(
        actor=None,
        name="UBND phường Bình Hàn",
        kind="commune_committee",
        area=area_tree["neighbour_commune"],
        parent=district,
    )
    department = agency_create(
        actor=None,
        name="Sở Thông tin và Truyền thông",
        kind="department",
        area=area_tree["province"],
    )
    return {"district": district, "ward": ward, "ward2": ward2, "department": department}


@pytest.fixture
def head(make_staff: Callable[..., Any], agencies: dict[str, Any]) -> Any:
    """The head of the district People's Committee (sees the wards below it)."""
    return make_staff(
        "head", "agency_head", unit_kind="agency", unit_uuid=agencies["district"].uuid
    )


@pytest.fixture
def other_head(make_staff: Callable[..., Any], agencies: dict[str, Any]) -> Any:
    """The head of the department: a different subtree."""
    return make_staff(
        "otherhead", "agency_head", unit_kind="agency", unit_uuid=agencies["department"].uuid
    )


HEADER = ["STT", "Họ và tên", "Ngày sinh", "Số CCCD", "Số điện thoại", "Chức vụ", "Đơn vị"]


def roster_csv(rows: list[list[Any]], header: list[str] | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header or HEADER)
    for n, row in enumerate(rows, start=1):
        writer.writerow([n, *row])
    return out.getvalue().encode("utf-8")


def staff_row(n: int, *, name: str | None = None, year: int = 1985, sex: str = "M") -> list[Any]:
    """A valid row with a CCCD that matches the year and sex."""
    century = 0 if sex == "M" else 1
    cccd = f"030{century}{year % 100:02d}{n:06d}"
    return [
        name or "Nguyễn Văn Cán Bộ",
        f"15/03/{year}",
        cccd,
        f"0913{n:06d}",
        "Chuyên viên",
        "Văn phòng",
    ]


@pytest.fixture
def upload_roster(head: Any) -> Callable[..., Any]:
    """Check and import a roster file as the head; returns the upload."""
    from covidhub.adoption.services import roster_upload_apply, roster_upload_create

    def upload(agency: Any, rows: list[list[Any]], *, apply: bool = True, actor: Any = None) -> Any:
        result = roster_upload_create(
            actor=actor or head, agency=agency, data=roster_csv(rows), file_name="roster.csv"
        )
        if apply:
            result = roster_upload_apply(actor=actor or head, upload=result)
        return result

    return upload
