from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from covidhub.adoption.models import RosterMember
from covidhub.adoption.tests.conftest import roster_csv, staff_row

pytestmark = pytest.mark.django_db


def test_upload_check_apply_and_report_through_the_api(
    agencies: dict[str, Any], head: Any, login: Any, django_assert_max_num_queries: Any
) -> None:
    client = login(head)
    bad = staff_row(2)
    bad[3] = "abc"
    response = client.post(
        f"/api/v1/adoption/agencies/{agencies['ward'].uuid}/rosters",
        {"file": SimpleUploadedFile("r.csv", roster_csv([staff_row(1), bad]), "text/csv")},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["good_count"], body["bad_count"]) == (1, 1)
    assert body["errors"][0]["row"] == 3 and body["errors"][0]["field"] == "phone"
    applied = client.post(f"/api/v1/adoption/rosters/{body['uuid']}/apply")
    assert applied.json()["joined_count"] == 1
    again = client.post(f"/api/v1/adoption/rosters/{body['uuid']}/apply")
    assert again.status_code == 409 and again.json()["code"] == "roster_upload_decided"
    assert RosterMember.objects.count() == 1
    with django_assert_max_num_queries(12):
        report = client.get("/api/v1/adoption/report?limit=100").json()["items"]
    ward = next(r for r in report if r["uuid"] == str(agencies["ward"].uuid))
    assert ward["total"]["staff"] == 1 and ward["parent_uuid"] == str(agencies["district"].uuid)
    detail = client.get(f"/api/v1/adoption/agencies/{agencies['ward'].uuid}").json()
    assert detail["indicators"][0]["suppressed"] is True  # one person: never shown


def test_bad_file_through_the_api_is_400(agencies: dict[str, Any], head: Any, login: Any) -> None:
    response = login(head).post(
        f"/api/v1/adoption/agencies/{agencies['ward'].uuid}/rosters",
        {"file": SimpleUploadedFile("r.csv", b"a,b\n1,2\n", "text/csv")},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "roster_file_invalid"


def test_other_agency_head_gets_404_through_the_api(
    agencies: dict[str, Any], upload_roster: Any, other_head: Any, login: Any
) -> None:
    upload = upload_roster(agencies["ward"], [staff_row(1)], apply=False)
    client = login(other_head)
    assert client.get(f"/api/v1/adoption/agencies/{agencies['ward'].uuid}").status_code == 404
    assert client.get(f"/api/v1/adoption/rosters/{upload.uuid}").status_code == 404
    assert client.post(f"/api/v1/adoption/rosters/{upload.uuid}/apply").status_code == 404
    assert [r["name"] for r in client.get("/api/v1/adoption/report").json()["items"]] == [
        "Sở Thông tin và Truyền thông"
    ]


def test_citizens_cannot_use_the_adoption_api(citizen: Any, login: Any) -> None:
    assert login(citizen).get("/api/v1/adoption/report").status_code == 401


def test_the_pentest_xlsx_roster_is_a_400(agencies: dict[str, Any], head: Any, login: Any) -> None:
    from covidhub.adoption.tests.conftest import HEADER
    from covidhub.core.testing import xlsx_crafted

    content = xlsx_crafted(rows=[HEADER], dimension="A1:XFD20000", far_cells=("XFD20000",))
    response = login(head).post(
        f"/api/v1/adoption/agencies/{agencies['ward'].uuid}/rosters",
        {"file": SimpleUploadedFile("r.xlsx", content)},
    )
    assert response.status_code == 400
    assert response.json()["details"]["reason"] == "too_many_columns"
