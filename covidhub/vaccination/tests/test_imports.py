"""Registration lists (staff and resident lists): bounded reading, scoping of every row,
an audit row per person changed."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from covidhub.core.testing import xlsx_crafted
from covidhub.vaccination.models import Registration

pytestmark = pytest.mark.django_db

API = "/api/v1/vaccination"
HEADER = ["Họ và tên", "Ngày sinh", "Giới tính", "Số CCCD", "Mã xã", "Nhóm ưu tiên"]


def _pentest_file() -> bytes:
    return xlsx_crafted(
        rows=[HEADER, ["Nguyễn Văn Một", "15/03/1985", "Nam", "030085000101", "10507", "1"]],
        dimension="A1:XFD20000",
        far_cells=("XFD20000",),
    )


def test_the_pentest_xlsx_is_a_400_in_the_api_and_a_form_error_on_the_page(
    commune_officer: Any, login: Any
) -> None:
    client = login(commune_officer)
    r = client.post(
        f"{API}/staff/registrations/import",
        {"file": SimpleUploadedFile("list.xlsx", _pentest_file()), "source": "commune"},
    )
    assert r.status_code == 400, r.content
    assert r.json()["code"] == "file_refused"
    page = client.post(
        "/staff/vaccination/import/",
        {
            "file": SimpleUploadedFile("list.xlsx", _pentest_file()),
            "source": "commune",
            "only_good_rows": "0",
        },
        HTTP_ACCEPT_LANGUAGE="vi",
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "64 cột" in html, html[html.find("<main") :][:3000]
    assert not Registration.objects.exists()
