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
