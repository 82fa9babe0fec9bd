"""In Chromium: an agency head uploads a roster with one bad row, imports only the good
rows and reads the report; the pages pass automated accessibility checks."""

from __future__ import annotations

import re
from typing import Any

import pytest

from conftest import _verified_client, axe_violations
from covidhub.adoption.models import RosterMember
from covidhub.adoption.tests.conftest import roster_csv, staff_row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Any, user: Any, live_server: Any) -> None:
    client = _verified_client(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def test_agency_head_uploads_a_roster_with_one_bad_row_and_reads_the_report(
    page: Any, live_server: Any, agencies: dict[str, Any], head: Any, make_citizen: Any
) -> None:
    make_citizen("+84913000001", full_name="Nguyễn Văn Một")  # one member has an account
    _sign_in(page, head, live_server)
    ward = agencies["ward"]
    page.goto(f"/staff/adoption/agencies/{ward.uuid}/")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Tải lên danh sách").click()
    page.wait_for_url("**/roster/upload/")
    assert axe_violations(page) == []

    bad = staff_row(2)
    bad[1] = "30/02/1990"  # no such day
    data = roster_csv([staff_row(1), bad, staff_row(3), staff_row(4)])
    page.get_by_label("Tệp danh sách").set_input_files(
        {"name": "danh-sach.csv", "mimeType": "text/csv", "buffer": data}
    )
    page.get_by_role("button", name="Kiểm tra tệp").click()
    page.wait_for_url("**/staff/adoption/uploads/**")
    errors = page.get_by_role("table", name="Các dòng có lỗi")
    assert errors.is_visible()
    assert errors.locator("tbody tr").count() == 1
    assert errors.locator("tbody tr td").first.inner_text() == "3"
    assert axe_violations(page) == []
    assert RosterMember.objects.count() == 0

    page.get_by_role("button", name=re.compile("Chỉ nhập 3 dòng hợp lệ")).click()
    page.wait_for_load_state("load")
    assert page.get_by_text("Đã nhập danh sách.").is_visible()
    assert RosterMember.objects.filter(left_at__isnull=True).count() == 3

    page.goto("/staff/adoption/")
    table = page.get_by_role("table", name="Cơ quan, đơn vị")
    ward_row = table.get_by_role("row", name=re.compile("UBND phường Cẩm Thượng"))
    assert "33,3%" in ward_row.inner_text() or "33.3%" in ward_row.inner_text()
    assert axe_violations(page) == []
    page.get_by_role("link", name="Trang in").click()
    page.wait_for_url("**/print/")
    assert page.get_by_role("columnheader", name="Xếp hạng").is_visible()
