"""The provinces a deployment serves (COVIDHUB_PROVINCES): their areas are loaded, and a
commune outside them is refused wherever a commune is typed or chosen."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import translation

from covidhub.areas.models import Area
from covidhub.areas.served import commune_refusal, served_communes
from covidhub.core.errors import InvalidInput

pytestmark = pytest.mark.django_db


def test_two_served_provinces_load_both(settings: Any) -> None:
    settings.PROVINCES = ["30", "33"]
    out = StringIO()
    call_command("load_areas", stdout=out)
    # Hải Dương: 1 + 12 + 207; Hưng Yên: 1 + 10 + 139 (the official pre-2025 lists).
    assert "370 created" in out.getvalue()
    assert list(Area.objects.filter(level=1).order_by("code").values_list("code", "name")) == [
        ("30", "Tỉnh Hải Dương"),
        ("33", "Tỉnh Hưng Yên"),
    ]
    hung_yen = Area.objects.get(level=1, code="33")
    assert Area.objects.filter(level=3, path__startswith=hung_yen.path).count() == 139
    out = StringIO()
    call_command("load_areas", stdout=out)
    assert "0 created, 0 updated, 370 unchanged" in out.getvalue()
    assert served_communes().count() == 207 + 139


def test_one_more_province_by_code() -> None:
    call_command("load_areas", province=["33"], stdout=StringIO())
    assert list(Area.objects.filter(level=1).values_list("code", flat=True)) == ["33"]


@pytest.fixture
def hanoi_not_served(area_tree: dict[str, Any], settings: Any) -> Area:
    """Hà Nội is in the tree, but the deployment serves Hải Dương only."""
    from conftest import second_province_build

    settings.PROVINCES = ["30"]
    return second_province_build()["other_province_commune"]  # type: ignore[no-any-return]


def test_person_in_a_commune_not_served_is_refused_in_both_languages(
    hanoi_not_served: Area,
) -> None:
    from covidhub.people.validation import person_input_clean

    raw = {"full_name": "Vũ Văn Khách", "birth": "1990", "sex": "M", "commune": "00001"}
    for language, message in (
        ("vi", "Xã, phường này thuộc một tỉnh mà nền tảng không phục vụ."),
        ("en", "This commune is in a province that this platform does not serve."),
    ):
        with translation.override(language), pytest.raises(InvalidInput) as caught:
            person_input_clean(raw)
        assert caught.value.details["fields"]["commune"] == [message]
    assert commune_refusal(Area.objects.get(level=3, code="10507")) is None


def test_declaration_and_venue_in_a_commune_not_served_are_refused(
    hanoi_not_served: Area,
) -> None:
    from covidhub.declarations.validation import declaration_input_clean, venue_input_clean

    with pytest.raises(InvalidInput) as caught:
        declaration_input_clean({"phone": "0912000123", "commune": "00001"})
    assert "commune" in caught.value.details["fields"]
    with translation.override("en"), pytest.raises(InvalidInput) as caught:
        venue_input_clean({"name": "Chợ", "kind": "market", "commune": hanoi_not_served})
    assert caught.value.details["fields"]["commune"] == [
        "This commune is in a province that this platform does not serve."
    ]


def test_forms_and_the_areas_api_offer_served_communes_only(
    hanoi_not_served: Area, client: Any, settings: Any
) -> None:
    from covidhub.people.forms import commune_choices

    codes = {code for _group, items in commune_choices() for code, _name in items}
    assert codes == {"10507", "10510", "10546"}
    found = client.get("/api/v1/areas", {"q": "phuc xa"}).json()
    items = found["items"] if isinstance(found, dict) else found
    assert items == []
    settings.PROVINCES = ["30", "01"]
    groups = dict(commune_choices())
    assert groups["Quận Ba Đình – Thành phố Hà Nội"] == [("00001", "Phường Phúc Xá")]
    found = client.get("/api/v1/areas", {"q": "phuc xa"}).json()
    items = found["items"] if isinstance(found, dict) else found
    assert [a["code"] for a in items] == ["00001"]
