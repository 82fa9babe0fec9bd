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


CSV_HEADER = "Họ và tên,Ngày sinh,Giới tính,Số CCCD,Mã xã,Nhóm ưu tiên\n"


def _csv(*rows: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("list.csv", (CSV_HEADER + "".join(rows)).encode(), "text/csv")


def _import(client: Any, *rows: str, good_rows: bool = False, source: str = "commune") -> Any:
    data: dict[str, Any] = {"file": _csv(*rows), "source": source}
    if good_rows:
        data["only_good_rows"] = "true"
    return client.post(f"{API}/staff/registrations/import", data, HTTP_ACCEPT_LANGUAGE="en")


def test_a_row_with_the_cccd_of_a_person_in_another_commune_changes_nothing(
    commune_officer: Any, login: Any, make_person: Any, area_tree: dict[str, Any], register: Any
) -> None:
    """Finding 3: the row names the officer's own commune but the CCCD of someone in the
    neighbouring commune. Before, it merged into that person (priority group g05 → g01)."""
    elsewhere = make_person(
        full_name="Trần Văn Xa",
        id_type="cccd",
        id_number="030085000201",
        commune=area_tree["neighbour_commune"],
    )
    register(elsewhere, "g05")
    # In the officer's commune, a person whose name differs from the row: also refused.
    mine = make_person(
        full_name="Lê Thị Gần",
        sex="F",
        birth="02/11/1990",
        id_type="cccd",
        id_number="030190000202",
    )
    client = login(commune_officer)
    rows = (
        "Trần Văn Xa,15/03/1985,Nam,030085000201,10507,1\n",
        "Ai Đó Khác,02/11/1990,Nữ,030190000202,10507,1\n",
        "Phạm Văn Mới,01/01/1970,Nam,030070000203,10507,2\n",
    )
    r = _import(client, *rows)
    assert r.status_code == 422, r.content
    errors = r.json()["details"]["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [(2, "id_number"), (3, "id_number")]
    # The same words for the person elsewhere and for the mismatch at home, and nothing
    # that names the other commune.
    assert errors[0]["message"] == errors[1]["message"]
    assert "Bình Hàn" not in r.content.decode()
    r = _import(client, *rows, good_rows=True)
    assert r.status_code == 200, r.content
    assert r.json()["imported"] == 1 and r.json()["created_people"] == 1
    assert Registration.objects.get(person=elsewhere).priority_group == "g05"
    assert not Registration.objects.filter(person=mine).exists()
    elsewhere.refresh_from_db()
    assert (elsewhere.full_name, elsewhere.commune_path) == (
        "Trần Văn Xa",
        area_tree["neighbour_commune"].path,
    )


def test_the_neighbouring_officers_list_cannot_touch_the_communes_people(
    commune_officer: Any,
    neighbour_officer: Any,
    login: Any,
    make_person: Any,
    register: Any,
) -> None:
    person = make_person(full_name="Nguyễn Văn Một", id_type="cccd", id_number="030085000101")
    register(person, "g05")
    row = "Nguyễn Văn Một,15/03/1985,Nam,030085000101,{commune},1\n"
    client = login(neighbour_officer)
    for commune in ("10507", "10510"):  # naming the person's commune, or the neighbour's own
        r = _import(client, row.format(commune=commune), good_rows=True)
        assert r.status_code == 200, r.content
        assert r.json()["imported"] == 0 and len(r.json()["errors"]) == 1
    assert Registration.objects.get(person=person).priority_group == "g05"
    # The commune's own officer may: the same row merges, with an audit row for the person.
    r = _import(login(commune_officer), row.format(commune="10507"))
    assert r.status_code == 200 and r.json()["merged"] == 1
    assert Registration.objects.get(person=person).priority_group == "g01"


def test_an_agency_list_adds_people_but_never_changes_an_existing_one(
    make_staff: Any, login: Any, make_person: Any, register: Any
) -> None:
    import uuid

    head = make_staff("truong-phong", "agency_head", unit_kind="agency", unit_uuid=uuid.uuid4())
    person = make_person(full_name="Nguyễn Văn Một", id_type="cccd", id_number="030085000101")
    register(person, "g05")
    r = _import(
        login(head),
        "Nguyễn Văn Một,15/03/1985,Nam,030085000101,10507,1\n",
        "Phạm Văn Mới,01/01/1970,Nam,030070000203,10546,1\n",
        good_rows=True,
        source="agency",
    )
    assert r.status_code == 200, r.content
    assert r.json()["imported"] == 1 and r.json()["errors"][0]["row"] == 2
    assert Registration.objects.get(person=person).priority_group == "g05"


def test_every_person_changed_by_an_import_gets_an_audit_row(
    commune_officer: Any, login: Any, make_person: Any, register: Any
) -> None:
    from covidhub.audit.models import AuditEvent
    from covidhub.people.models import Person

    known = make_person(full_name="Nguyễn Văn Một", id_type="cccd", id_number="030085000101")
    register(known, "g05")
    r = _import(
        login(commune_officer),
        "Nguyễn Văn Một,15/03/1985,Nam,030085000101,10507,1\n",
        "Phạm Văn Mới,01/01/1970,Nam,030070000203,10507,2\n",
    )
    assert r.status_code == 200, r.content
    new = Person.objects.get(id_number="030070000203")
    rows = AuditEvent.objects.filter(action__startswith="vaccination.registration.")
    by_person = {e.person_uuid: e.action for e in rows if e.person_uuid}
    assert by_person == {
        known.uuid: "vaccination.registration.updated",
        new.uuid: "vaccination.registration.created",
    }
