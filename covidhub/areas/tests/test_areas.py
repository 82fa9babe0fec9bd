from __future__ import annotations

import datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from covidhub.areas.models import Area
from covidhub.areas.selectors import area_current, area_list_valid_on, area_search, area_subtree
from covidhub.areas.services import UnitRow, area_dissolve, area_tree_load
from covidhub.areas.sources import rows_from_gso_file
from covidhub.core.errors import InvalidInput

DATA = Path(__file__).parent / "data"
pytestmark = pytest.mark.django_db


def test_load_hai_duong_from_package_is_complete_and_idempotent():
    out = StringIO()
    call_command("load_areas", stdout=out)
    assert "220 created" in out.getvalue()
    province = Area.objects.get(level=1, code="30")
    assert province.name == "Tỉnh Hải Dương"
    assert Area.objects.filter(level=2, parent=province).count() == 12
    assert Area.objects.filter(level=3, path__startswith=province.path).count() == 207
    out = StringIO()
    call_command("load_areas", stdout=out)
    assert "0 created, 0 updated, 220 unchanged" in out.getvalue()


def test_paths_codes_and_folded_names():
    call_command("load_areas", stdout=StringIO())
    ward = Area.objects.get(level=3, code="10507")
    assert ward.path == "30/288/10507/"
    assert ward.parent.code == "288"
    # Đ folds to D (Django's slugify would drop it)
    dong = Area.objects.filter(name__contains="Đ").first()
    assert dong is not None and "d" in dong.search_name and "đ" not in dong.search_name
    assert [a.code for a in area_search(query="cam thuong")] == ["10507"]
    assert area_subtree(area=ward.parent).filter(level=3).count() > 10


def test_gso_file_loads_units_valid_from_a_date_and_dissolves_missing(tmp_path):
    call_command("load_areas", stdout=StringIO())
    before = Area.objects.filter(level=3, dissolved_on__isnull=True).count()
    call_command(
        "load_areas",
        file=DATA / "gso_2021_sample.csv",
        valid_from="2021-01-01",
        dissolve_missing=True,
        stdout=StringIO(),
    )
    active = set(
        Area.objects.filter(level=3, dissolved_on__isnull=True).values_list("code", flat=True)
    )
    assert active == {"10507", "10510", "10513", "10864"}
    total = Area.objects.filter(level=3).count()
    assert Area.objects.filter(level=3, dissolved_on=datetime.date(2021, 1, 1)).count() == total - 4
    # The day before the list took effect, every unit loaded earlier was still valid,
    # and units new in the list (valid from 2021-01-01) were not yet.
    new_in_list = Area.objects.filter(level=3, valid_from=datetime.date(2021, 1, 1)).count()
    on_2020 = area_list_valid_on(day=datetime.date(2020, 12, 31)).filter(level=3).count()
    assert on_2020 == before == total - new_in_list
    # Loading the same list again changes nothing.
    out = StringIO()
    call_command(
        "load_areas",
        file=DATA / "gso_2021_sample.csv",
        valid_from="2021-01-01",
        dissolve_missing=True,
        stdout=out,
    )
    assert "0 created, 0 updated" in out.getvalue() and "0 dissolved" in out.getvalue()


def test_gso_file_with_bad_rows_loads_nothing(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "Tỉnh Thành Phố,Mã TP,Quận Huyện,Mã QH,Phường Xã,Mã PX\n"
        "Tỉnh Hải Dương,30,Thành phố Hải Dương,288,Phường Cẩm Thượng,10507\n"
        "Tỉnh Hải Dương,30,Thành phố Hải Dương,28X,Phường Bình Hàn,10510\n"
        "Tỉnh Hải Dương,30,Thành phố Hải Dương,288,,10513\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput) as excinfo:
        rows_from_gso_file(path=bad)
    assert len(excinfo.value.details["rows"]) == 2
    assert (
        "Row 3" in excinfo.value.details["rows"][0] or "Dòng 3" in excinfo.value.details["rows"][0]
    )
    with pytest.raises(CommandError):
        call_command("load_areas", file=bad, stdout=StringIO(), stderr=StringIO())
    assert not Area.objects.exists()


def test_gso_file_in_another_encoding_is_refused_clearly(tmp_path):
    bad = tmp_path / "latin.csv"
    bad.write_bytes("Tỉnh Thành Phố,Mã TP\n".encode("utf-16"))
    with pytest.raises(InvalidInput):
        rows_from_gso_file(path=bad)


def test_gso_xlsx_export(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Tỉnh / Thành Phố", "Mã TP", "Quận Huyện", "Mã QH", "Phường Xã", "Mã PX", "Cấp"])
    sheet.append(
        ["Tỉnh Hải Dương", "30", "Thành phố Hải Dương", "288", "Phường Cẩm Thượng", 10507, "Phường"]
    )
    path = tmp_path / "gso.xlsx"
    workbook.save(path)
    rows = rows_from_gso_file(path=path)
    assert {(r.level, r.code) for r in rows} == {(1, "30"), (2, "288"), (3, "10507")}


def test_unknown_parent_rolls_back_the_whole_load():
    with pytest.raises(InvalidInput):
        area_tree_load(
            rows=[
                UnitRow(1, "30", "Tỉnh Hải Dương"),
                UnitRow(3, "10507", "Phường Cẩm Thượng", parent_code="999"),
            ]
        )
    assert not Area.objects.exists()


def test_dissolved_unit_keeps_records_valid_and_points_to_successor(area_tree, make_person):
    person = make_person(commune=area_tree["neighbour_commune"])
    old = area_tree["neighbour_commune"]
    area_dissolve(area=old, successor=area_tree["commune"], on=datetime.date(2025, 7, 1))
    person.refresh_from_db()
    assert person.commune == old  # the record still points at the unit it was made with
    assert area_current(area=old) == area_tree["commune"]
    assert not old.is_valid_on(datetime.date(2025, 7, 1))
    assert old.is_valid_on(datetime.date(2025, 6, 30))
    with pytest.raises(InvalidInput):
        area_dissolve(
            area=area_tree["commune"], successor=area_tree["district"], on=datetime.date(2025, 7, 1)
        )
