from __future__ import annotations

from typing import Any

import pytest

from covidhub.declarations.services import venue_register
from covidhub.declarations.validation import venue_input_clean


def answers(**overrides: Any) -> dict[str, Any]:
    data = {
        "phone": "0912 345 678",
        "commune": "10507",
        "address_line": "Số 5 Trần Hưng Đạo",
        "travelled": False,
        "travel_places": "",
        "symptoms": [],
        "no_symptoms": True,
        "other_symptoms": "",
        "contact_case": False,
        "contact_outbreak_area": False,
        "contact_symptomatic": False,
        "chronic_conditions": "",
        "consent": True,
    }
    data.update(overrides)
    return data


@pytest.fixture
def child(citizen, make_person, area_tree):
    return make_person(
        full_name="Nguyễn Minh Con",
        birth="2015",
        sex="F",
        managed_by=citizen,
        relationship="child",
        commune=area_tree["commune"],
    )


@pytest.fixture
def make_venue(area_tree):
    def make(*, actor, commune=None, name="Chợ Cẩm Thượng", **fields):
        raw = {
            "name": name,
            "kind": "market",
            "address_line": "Phố Cẩm Thượng",
            "commune": commune or area_tree["commune"],
            "contact_name": "Nguyễn Văn Chủ",
            "contact_phone": "0912 111 222",
            **fields,
        }
        return venue_register(actor=actor, data=venue_input_clean(raw))

    return make


@pytest.fixture
def owner(make_citizen):
    return make_citizen("+84912111222", full_name="Nguyễn Văn Chủ")


@pytest.fixture
def venue(make_venue, owner):
    return make_venue(actor=owner)
