"""The commune list (207 in the province) has a district filter in front of it. Without
JavaScript its button sends the form back: what was typed stays, nothing is saved, no
error shows, and the list holds that district's communes alone."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command

from covidhub.areas.models import Area
from covidhub.areas.served import served_communes
from covidhub.people.forms import DISTRICT_FIELD, DISTRICT_SHOW
from covidhub.people.models import Person

pytestmark = pytest.mark.django_db
ADD = "/me/household/add/"


def _options(html: str) -> list[str]:
    select = re.search(r'<select name="commune".*?</select>', html, re.S)
    assert select is not None
    return re.findall(r'<option value="(\d+)"', select.group(0))


def _member(**fields: str) -> dict[str, str]:
    return {
        "relationship": "child",
        "full_name": "Nguyễn Minh Con",
        "birth": "2015",
        "sex": "F",
        "id_type": "",
        "id_number": "",
        "phone": "",
        "email": "",
        "address_line": "Số 5 Trần Hưng Đạo",
        **fields,
    }


def test_the_filter_starts_at_the_households_district_and_lists_every_commune(
    citizen, login, area_tree
):
    html = login(citizen).get(ADD).content.decode()
    district = area_tree["district"]
    assert re.search(rf'<option value="{district.code}" selected>', html)
    assert f'name="{DISTRICT_SHOW}"' in html  # the button for browsers without JavaScript
    assert f'data-district="{district.code}"' in html
    # Without a script every commune stays choosable, grouped by district.
    assert set(_options(html)) == set(
        Area.objects.filter(level=Area.Level.COMMUNE).values_list("code", flat=True)
    )


def test_without_javascript_the_button_lists_the_district_and_keeps_what_was_typed(
    citizen, login, area_tree
):
    client = login(citizen)
    other = area_tree["other_district"]
    page = client.post(
        ADD, _member(**{DISTRICT_FIELD: other.code, DISTRICT_SHOW: "1", "commune": ""})
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert _options(html) == [area_tree["far_commune"].code]
    assert 'value="Nguyễn Minh Con"' in html and "Số 5 Trần Hưng Đạo" in html
    assert "error-summary" not in html and 'class="error"' not in html
    assert not Person.objects.filter(full_name="Nguyễn Minh Con").exists()
    # Then the form is sent with its own button: saved in the commune picked.
    done = client.post(
        ADD, _member(**{DISTRICT_FIELD: other.code, "commune": area_tree["far_commune"].code})
    )
    assert done.status_code == 302
    member = Person.objects.get(full_name="Nguyễn Minh Con")
    assert member.commune == area_tree["far_commune"]


def test_an_unknown_district_lists_every_commune_and_a_bad_commune_is_refused(
    citizen, login, area_tree
):
    client = login(citizen)
    page = client.post(ADD, _member(**{DISTRICT_FIELD: "<x>", DISTRICT_SHOW: "1"}))
    assert page.status_code == 200 and len(_options(page.content.decode())) == 3
    refused = client.post(ADD, _member(**{DISTRICT_FIELD: "288", "commune": "99999"}))
    assert refused.status_code == 200 and "error-summary" in refused.content.decode()
    assert not Person.objects.filter(full_name="Nguyễn Minh Con").exists()


def test_the_province_list_has_one_filter_option_per_district(citizen, login):
    call_command("load_areas", stdout=StringIO())
    html = login(citizen).get(ADD).content.decode()
    communes = served_communes()
    assert len(_options(html)) == communes.count() >= 200
    assert len({c.parent_id for c in communes}) >= 10
    districts = re.search(rf'<select name="{DISTRICT_FIELD}".*?</select>', html, re.S)
    assert districts is not None
    assert districts.group(0).count("<option") == 1 + len({c.parent_id for c in communes})


def test_the_declaration_and_venue_forms_have_the_filter_too(citizen, citizen_person, login):
    client = login(citizen)
    for url in (f"/declarations/{citizen_person.uuid}/new/", "/declarations/venues/new/"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert 'data-district-filter="id_commune"' in page.content.decode(), url
