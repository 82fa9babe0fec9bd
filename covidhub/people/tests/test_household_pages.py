from __future__ import annotations

import pytest

from covidhub.core.testing import form_tokens_in
from covidhub.people.models import Person

pytestmark = pytest.mark.django_db

FORM = {
    "relationship": "parent",
    "full_name": "Trần Văn Ông",
    "birth": "1950",
    "sex": "M",
    "id_type": "",
    "id_number": "",
    "phone": "",
    "email": "",
    "commune": "10507",
    "address_line": "Thôn Đông",
}


def test_add_family_member_and_a_retried_post_creates_nothing_twice(citizen, login):
    client = login(citizen)
    page = client.get("/me/household/add/")
    [token] = form_tokens_in(page)
    first = client.post("/me/household/add/", {**FORM, "form_token": token})
    assert first.status_code == 302 and first["Location"] == "/me/household/"
    again = client.post("/me/household/add/", {**FORM, "form_token": token})
    assert again.status_code == 303 and again["Location"] == "/me/household/"
    assert Person.objects.filter(full_name="Trần Văn Ông").count() == 1
    member = Person.objects.get(full_name="Trần Văn Ông")
    assert member.managed_by == citizen and member.birth_date is None and member.birth_year == 1950
    assert "Trần Văn Ông" in client.get("/me/household/").content.decode()


def test_contradictory_cccd_is_refused_with_a_field_message(citizen, login):
    client = login(citizen)
    response = client.post(
        "/me/household/add/",
        {
            **FORM,
            "id_type": "cccd",
            "id_number": "030185000001",
            "birth": "1950",
            "sex": "M",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "does not match the sex" in html or "does not match the year" in html
    assert not Person.objects.filter(full_name="Trần Văn Ông").exists()


def test_nfd_name_is_stored_nfc(citizen, login):
    import unicodedata

    client = login(citizen)
    client.post(
        "/me/household/add/",
        {**FORM, "full_name": unicodedata.normalize("NFD", "Trần Văn Ông")},
    )
    person = Person.objects.get(relationship="parent")
    assert person.full_name == unicodedata.normalize("NFC", "Trần Văn Ông")
    assert person.icao_name == "TRAN<VAN<ONG" and person.search_name == "tran van ong"


def test_profile_creation_after_first_sign_in(area_tree, login):
    from covidhub.accounts.models import User

    user = User.objects.create(username="c-new", phone="+84912777777", kind="citizen")
    client = login(user)
    assert client.get("/me/household/").status_code == 200
    response = client.post(
        "/me/profile/",
        {
            **FORM,
            "full_name": "Vũ Thị Mới",
            "sex": "F",
            "birth": "01/01/1995",
        },
    )
    assert response.status_code == 302
    assert Person.objects.get(managed_by=user).relationship == "self"
    assert client.get("/me/profile/")["Location"] == "/me/household/"


def test_staff_cannot_use_citizen_pages(commune_officer, login):
    assert login(commune_officer).get("/me/household/")["Location"] == "/staff/"


def test_a_form_shown_again_with_errors_accepts_the_corrected_resubmission(citizen, login):
    client = login(citizen)
    [token] = form_tokens_in(client.get("/me/household/add/"))
    form = {**FORM, "form_token": token}
    bad = client.post("/me/household/add/", {**form, "birth": "31/02/1950"})
    assert bad.status_code == 200 and Person.objects.filter(full_name="Trần Văn Ông").count() == 0
    fixed = client.post("/me/household/add/", form)  # same token, corrected body
    assert fixed.status_code == 302
    assert Person.objects.filter(full_name="Trần Văn Ông").count() == 1
    assert client.post("/me/household/add/", form).status_code == 303  # a retry: replayed
    assert Person.objects.filter(full_name="Trần Văn Ông").count() == 1


def test_new_family_member_starts_from_the_household_commune_and_address(citizen, login):
    own = Person.objects.get(managed_by=citizen, relationship=Person.Relationship.SELF)
    Person.objects.filter(pk=own.pk).update(address_line="Số 12 Nguyễn Lương Bằng")
    html = login(citizen).get("/me/household/add/").content.decode()
    assert f'<option value="{own.commune.code}" selected>' in html
    assert 'value="Số 12 Nguyễn Lương Bằng"' in html
