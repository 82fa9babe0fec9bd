"""Property tests for the parsers people's input goes through."""

from __future__ import annotations

import datetime
import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from covidhub.core.dates import InvalidDate, partial_date_parse
from covidhub.core.phones import InvalidPhone, phone_display, phone_normalise
from covidhub.core.text import fold_ascii, icao_transliterate, nfc
from covidhub.people.identity import (
    InvalidIdentity,
    cccd_facts,
    cccd_province_codes,
    identity_normalise,
)

VIETNAMESE_LETTERS = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
)
name_part = st.text(alphabet=VIETNAMESE_LETTERS, min_size=1, max_size=8).map(str.capitalize)
names = st.lists(name_part, min_size=2, max_size=4).map(" ".join)


@given(names)
def test_nfd_and_nfc_spellings_are_the_same_name(name):
    decomposed = unicodedata.normalize("NFD", name)
    assert nfc(decomposed) == nfc(name) == unicodedata.normalize("NFC", name)
    assert fold_ascii(decomposed) == fold_ascii(name)
    assert fold_ascii(name).isascii()
    icao = icao_transliterate(decomposed)
    assert icao == icao_transliterate(name)
    assert set(icao) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ<")


def test_known_names():
    assert fold_ascii("Đặng Thị  Hà") == "dang thi ha"
    assert icao_transliterate("Nguyễn Văn Đức") == "NGUYEN<VAN<DUC"
    assert nfc("  Trần\u0300  Bình ") == unicodedata.normalize("NFC", "Trần\u0300 Bình")


subscriber = st.integers(min_value=0, max_value=9_999_999).map(lambda n: f"{n:07d}")
mobile_prefix = st.sampled_from(
    ["91", "94", "88", "98", "97", "96", "86", "32", "33", "90", "93", "70", "79", "77", "81", "85"]
)


@given(
    mobile_prefix,
    subscriber,
    st.sampled_from(
        [
            "0{p}{s}",
            "+84{p}{s}",
            "84{p}{s}",
            "+84 {p} {s}",
            "0{p}.{s}",
            "(+84) {p}-{s}",
            "0084{p}{s}",
        ]
    ),
)
def test_every_common_spelling_of_a_mobile_number(prefix, number, template):
    e164 = f"+84{prefix}{number}"
    assert phone_normalise(template.format(p=prefix, s=number)) == e164
    assert phone_normalise(phone_display(e164)) == e164


@given(st.text(max_size=25))
def test_junk_is_never_a_phone_number_or_a_crash(text):
    try:
        result = phone_normalise(text)
    except InvalidPhone:
        return
    assert result.startswith("+") and result[1:].isdigit()


@pytest.mark.parametrize(
    "bad", ["", "12345", "0912", "091234567890123", "abc", "+84 000 000 000", "0012"]
)
def test_bad_phone_numbers(bad):
    with pytest.raises(InvalidPhone):
        phone_normalise(bad)


@given(
    st.sampled_from(sorted(cccd_province_codes())),
    st.sampled_from("MF"),
    st.integers(1900, 2024),
    st.integers(0, 999_999),
)
def test_cccd_agrees_with_sex_and_year(province, sex, year, serial):
    digit = {1900: 0, 2000: 2}[year // 100 * 100] + (1 if sex == "F" else 0)
    number = f"{province}{digit}{year % 100:02d}{serial:06d}"
    assert identity_normalise(id_type="cccd", number=number, sex=sex, birth_year=year) == number
    facts = cccd_facts(number)
    assert (facts.sex, facts.birth_year, facts.province_code) == (sex, year, province)
    other_sex = "F" if sex == "M" else "M"
    with pytest.raises(InvalidIdentity):
        identity_normalise(id_type="cccd", number=number, sex=other_sex, birth_year=year)
    with pytest.raises(InvalidIdentity):
        identity_normalise(id_type="cccd", number=number, sex=sex, birth_year=year + 1)


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_cccd_with_unknown_province_is_refused(number):
    assume(number[:3] not in cccd_province_codes())
    with pytest.raises(InvalidIdentity):
        identity_normalise(id_type="cccd", number=number)


@pytest.mark.parametrize(
    ("id_type", "number", "ok"),
    [
        ("cmnd", "142345678", True),
        ("cmnd", "14234567", False),
        ("cccd", "03008500000", False),
        ("cccd", "030 085 000 001", True),
        ("passport", "c1234567", True),
        ("passport", "C12", False),
        ("", "123456789", False),
    ],
)
def test_identity_documents(id_type, number, ok):
    if ok:
        assert identity_normalise(id_type=id_type, number=number)
    else:
        with pytest.raises(InvalidIdentity):
            identity_normalise(id_type=id_type, number=number)


@given(st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2021, 8, 17)))
def test_partial_dates_in_every_form(day):
    today = datetime.date(2021, 8, 17)
    for text in (
        f"{day:%d/%m/%Y}",
        day.isoformat(),
        f"{day.day}/{day.month}/{day.year}",
        f"{day:%d.%m.%Y}",
    ):
        parsed = partial_date_parse(text, today=today)
        assert parsed.as_date() == day
    year_only = partial_date_parse(str(day.year), today=today)
    assert (
        year_only.as_date() is None
        and year_only.year == day.year
        and year_only.iso() == str(day.year)
    )


@pytest.mark.parametrize(
    "bad", ["31/02/1990", "1990-13-01", "12/1889", "tomorrow", "", "01/01/2999", "99999"]
)
def test_bad_dates(bad):
    with pytest.raises(InvalidDate):
        partial_date_parse(bad, today=datetime.date(2021, 8, 17))
