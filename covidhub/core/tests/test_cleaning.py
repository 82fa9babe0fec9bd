"""The one input-cleaning step: NFC in, control / format / surrogate / private-use
characters and piles of combining marks out; through every door (API bodies and queries,
page forms and queries, paths) a refused text is a 400, 404 or 413 with a translated
message, never a server error."""

from __future__ import annotations

import json
import unicodedata

import pytest
from django.conf import settings as django_settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from covidhub.core.cleaning import InvalidText, data_clean, text_clean, text_problem
from covidhub.people.models import Person

MEMBER = {
    "full_name": "Nguyễn Minh Khoa",
    "birth": "2015",
    "sex": "M",
    "commune": "10507",
    "relationship": "child",
}
REFUSED = ["\x00", "\x07", "\x1b", "\x7f", "\u200b", "\u200d", "\u202e", "\ufeff", "\ud800",
           "\udfff", "\ue000", "\U000f0000", "\ufffe"]  # fmt: skip
REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}


def _refused_char(char: str) -> bool:
    return unicodedata.category(char) in REFUSED_CATEGORIES and char not in "\t\n\r"


# --- the function -------------------------------------------------------------------------


@given(st.text())
def test_a_cleaned_text_is_nfc_holds_no_refused_character_and_cleans_to_itself(value):
    try:
        cleaned = text_clean(value)
    except InvalidText:
        normalised = unicodedata.normalize("NFC", value)
        assert text_problem(normalised) is not None
        return
    assert cleaned == unicodedata.normalize("NFC", cleaned)
    assert not any(_refused_char(char) for char in cleaned)
    assert text_clean(cleaned) == cleaned


# Letters (with Vietnamese ones in NFD, as some phones send them), digits, punctuation, spaces.
TYPED = st.text(
    st.characters(categories=["L", "Nd", "P", "Zs", "Sm", "Sc"])
    | st.sampled_from(list(unicodedata.normalize("NFD", "ẮẰẲẴẶắằẳẵặỆệỢợỮữĐđ"))),
    max_size=40,
)


@given(TYPED)
def test_what_people_type_is_kept_in_nfc(value):
    # Combining marks come only from the NFD letters above: at most two per letter.
    assert text_clean(value) == unicodedata.normalize("NFC", value)


@given(TYPED, st.sampled_from(REFUSED), st.integers(min_value=0, max_value=40))
def test_one_refused_character_anywhere_refuses_the_text(value, bad, at):
    with pytest.raises(InvalidText):
        text_clean(value[:at] + bad + value[at:])


def test_combining_marks_are_capped():
    assert text_clean("a\u0301\u0323") == unicodedata.normalize("NFC", "a\u0301\u0323")
    with pytest.raises(InvalidText) as refused:
        text_clean("a" + "\u0301\u0300\u0303\u0309\u0323" * 3, field="full_name")
    assert "full_name" in refused.value.details["fields"]


def test_json_values_and_keys_are_cleaned_throughout():
    nfd = unicodedata.normalize("NFD", "Đặng Thị Hà")
    assert data_clean({"a": [nfd, 1, None, {"b": nfd}]}) == {
        "a": ["Đặng Thị Hà", 1, None, {"b": "Đặng Thị Hà"}]
    }
    with pytest.raises(InvalidText) as refused:
        data_clean({"people": [{"full_name": "x\u202ey"}]})
    assert "people.0.full_name" in refused.value.details["fields"]
    with pytest.raises(InvalidText):
        data_clean({"bad\x00key": 1})


# --- the API ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["\ud800", "Nguyễn\x00Khoa", "Nguyễn\u200bKhoa", "Khoa\u202e"])
def test_the_api_refuses_a_bad_name_with_400_and_saves_nothing(citizen, login, name):
    client = login(citizen)
    response = client.post(
        "/api/v1/household",
        {**MEMBER, "full_name": name},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="vi",
    )
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid_text" and "full_name" in body["details"]["fields"]
    assert "ký tự" in body["message"]  # translated
    assert not Person.objects.filter(managed_by=citizen, relationship="child").exists()


@pytest.mark.django_db
def test_the_api_stores_names_in_nfc(citizen, login):
    response = login(citizen).post(
        "/api/v1/household",
        {**MEMBER, "full_name": unicodedata.normalize("NFD", "Nguyễn Minh Khoa")},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert Person.objects.filter(full_name="Nguyễn Minh Khoa").exists()


@pytest.mark.django_db
def test_a_nul_in_an_api_query_is_400(commune_officer, login):
    response = login(commune_officer).get("/api/v1/areas", {"q": "Bình\x00"})
    assert response.status_code == 400 and response.json()["code"] == "invalid_text"


@pytest.mark.django_db
def test_a_json_body_over_the_limit_is_413(citizen, login):
    body = json.dumps({**MEMBER, "full_name": "a" * (django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE)})
    response = login(citizen).post(
        "/api/v1/household", body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 413
    assert response.json() == {
        "code": "too_large",
        "message": "The request is too large.",
        "details": {},
    }


@pytest.mark.django_db
@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.text(max_size=30))
def test_no_name_makes_the_api_fail(citizen, login, name):
    response = login(citizen).post(
        "/api/v1/household", {**MEMBER, "full_name": name}, content_type="application/json"
    )
    assert response.status_code in (201, 400, 422), (name, response.content)


# --- pages and paths ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/portal/communes/%00/", "/portal/communes/%E2%80%AE10507/"])
def test_a_refused_character_in_a_path_is_404(client, path):
    response = client.get(path)
    assert response.status_code == 404


@pytest.mark.django_db
def test_a_page_form_with_an_invisible_character_is_refused_with_a_message(citizen, login):
    client = login(citizen)
    response = client.post(
        "/me/household/add/",
        {
            "relationship": "parent",
            "full_name": "Trần\u200bVăn Ông",
            "birth": "1950",
            "sex": "M",
            "commune": "10507",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert "invisible or control characters" in response.content.decode()
    assert not Person.objects.filter(relationship="parent").exists()


@pytest.mark.django_db
def test_a_nul_in_a_page_query_is_400_not_a_server_error(commune_officer, login):
    response = login(commune_officer).get("/staff/people/", {"q": "Nguy\x00"})
    assert response.status_code == 400


@pytest.mark.django_db
def test_a_page_post_over_the_limit_is_413(client):
    big = "a" * django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = client.post("/signin/", {"phone": big})
    assert response.status_code == 413


@pytest.mark.django_db
def test_person_input_refuses_a_bad_text_as_that_fields_only_error(area_tree):
    """What imports call: the refusal is a field error among the others, not an exception."""
    from covidhub.core.errors import InvalidInput
    from covidhub.people.validation import person_input_clean

    with pytest.raises(InvalidInput) as refused:
        person_input_clean(
            {
                "full_name": "Lê\x00Văn",
                "birth": "1990",
                "sex": "M",
                "commune": "10507",
                "address_line": "Thôn\u2066 Đông",
            }
        )
    fields = refused.value.details["fields"]
    assert set(fields) == {"full_name", "address_line"}
    assert len(fields["full_name"]) == 1
