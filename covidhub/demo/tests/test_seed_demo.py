from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from covidhub.accounts.models import RoleAssignment, User
from covidhub.people.models import Person

pytestmark = pytest.mark.django_db


def test_seed_demo_makes_a_plausible_province_and_is_idempotent():
    out = StringIO()
    call_command("seed_demo", "--people", "2000", stdout=out)
    text = out.getvalue()
    assert "xa2" in text and "HaiDuong@2021" in text and "0912 000 001" in text
    people = Person.objects.count()
    assert 2000 <= people <= 2000 + 10
    assert Person.objects.values("commune").distinct().count() > 100
    assert Person.objects.filter(full_name__startswith="Nguyễn").count() > people * 0.25
    assert (
        Person.objects.exclude(relationship="self").exclude(managed_by=None).count() > 500
    )  # families
    adults_with_cccd = Person.objects.filter(id_type="cccd").count()
    assert adults_with_cccd > people * 0.6
    roles = set(RoleAssignment.objects.values_list("role", flat=True))
    assert {
        "commune_officer",
        "district_officer",
        "province_officer",
        "administrator",
        "portal_editor",
    } <= roles
    counts = (Person.objects.count(), User.objects.count(), RoleAssignment.objects.count())
    call_command("seed_demo", "--people", "2000", stdout=StringIO())
    assert (Person.objects.count(), User.objects.count(), RoleAssignment.objects.count()) == counts


def test_generated_people_pass_the_same_validation_as_typed_ones():
    from covidhub.people.validation import person_input_clean

    call_command("seed_demo", "--people", "1000", "--quiet", stdout=StringIO())
    for person in Person.objects.filter(id_type="cccd").select_related("commune")[:300]:
        person_input_clean(
            {
                "full_name": person.full_name,
                "birth": person.birth.display(),
                "sex": person.sex,
                "commune": person.commune,
                "id_type": person.id_type,
                "id_number": person.id_number,
                "phone": person.phone,
            }
        )


@pytest.mark.postgres
def test_bulk_load_defers_and_rebuilds_the_secondary_indexes(monkeypatch):
    from django.db import connection

    from covidhub.demo import province

    def index_names():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename IN ('people_person', 'accounts_user')"
            )
            return sorted(row[0] for row in cursor.fetchall())

    call_command("load_areas", stdout=StringIO())
    before = index_names()
    monkeypatch.setattr(province, "BULK_THRESHOLD", 1000)
    result = province.province_generate(people=3000)
    assert result["people"] == 3000
    assert index_names() == before
    assert Person.objects.filter(search_name__startswith="nguyen").exists()


def test_cccd_numbers_stay_unique_and_valid_past_eight_million_people():
    """The province of birth cycled over 8 codes with a 6-digit serial: person 8,000,000
    got person 0's number. Every province of the tree now gives a million serials."""
    from covidhub.demo.province import _cccd, cccd_provinces
    from covidhub.people.identity import cccd_province_codes, identity_normalise

    assert len(cccd_provinces()) == 63 == len(set(cccd_provinces()))
    assert set(cccd_provinces()) == cccd_province_codes()
    assert cccd_provinces()[0] == "030"  # earlier databases keep their first numbers
    indexes = [
        province * 1_000_000 + serial
        for province in range(63)
        for serial in (0, 1, 499_999, 999_999)
    ]
    numbers = [_cccd(index, "F", 1985) for index in indexes]
    assert len(set(numbers)) == len(numbers)
    assert _cccd(0, "F", 1985) != _cccd(8_000_000, "F", 1985)
    assert _cccd(0, "M", 1990) == "030090000000"
    assert _cccd(20_000_000, "M", 2005)[:6] == f"{cccd_provinces()[20]}205"
    for number in numbers[::7]:
        assert identity_normalise(id_type="cccd", number=number, sex="F", birth_year=1985)
    with pytest.raises(ValueError, match="63 million"):
        _cccd(63_000_000, "F", 1985)


def test_household_phones_stay_valid_past_ten_million_people():
    from covidhub.core.phones import phone_normalise
    from covidhub.demo.province import _phone

    assert _phone(5) == "+84980000005"  # as earlier runs made them
    phones = [_phone(i) for i in (0, 9_999_999, 10_000_000, 19_999_999, 25_000_000)]
    assert len(set(phones)) == len(phones)
    for phone in phones:
        assert phone_normalise(phone) == phone


@pytest.mark.postgres
def test_bulk_sql_people_are_valid_unique_and_like_the_typed_ones(monkeypatch):
    """The set-based path (PostgreSQL, large loads) makes the rows generate_chunk makes:
    valid identity numbers that match sex and year, the search and ICAO forms of the name,
    households with one head who holds the account and the phone."""
    from covidhub.core.text import fold_ascii, icao_transliterate
    from covidhub.demo import province
    from covidhub.people.validation import person_input_clean

    call_command("load_areas", stdout=StringIO())
    monkeypatch.setattr(province, "BULK_THRESHOLD", 1000)
    result = province.province_generate(people=4000)
    assert result["people"] == 4000 == Person.objects.count()
    numbers = list(Person.objects.exclude(id_number="").values_list("id_number", flat=True))
    assert len(numbers) > 2000 and len(set(numbers)) == len(numbers)
    heads = Person.objects.filter(relationship="self")
    assert heads.count() == User.objects.filter(username__startswith="c-demo-").count()
    assert not heads.filter(phone="").exists()
    assert not Person.objects.exclude(relationship="self").exclude(phone="").exists()
    assert Person.objects.exclude(relationship="self").filter(managed_by=None).count() == 0
    for person in Person.objects.select_related("commune", "managed_by").order_by("id")[:300]:
        assert person.search_name == fold_ascii(person.full_name)
        assert person.icao_name == icao_transliterate(person.full_name)
        if person.relationship == "self":
            assert person.managed_by.phone == person.phone
        person_input_clean(
            {
                "full_name": person.full_name,
                "birth": person.birth.display(),
                "sex": person.sex,
                "commune": person.commune,
                "id_type": person.id_type,
                "id_number": person.id_number,
                "phone": person.phone,
            }
        )
    # The next run adds to it, with new accounts and numbers.
    assert province.province_generate(people=6000)["people"] == 2000
    assert Person.objects.exclude(id_number="").values("id_number").distinct().count() == (
        Person.objects.exclude(id_number="").count()
    )
