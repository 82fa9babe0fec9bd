"""The national officer: scoped to every served province through the one scoping function;
a province's officers stay within their province (404 beyond it), in pages and the API."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction

from covidhub.accounts.models import Role, RoleAssignment
from covidhub.accounts.scoping import actor_scope, primary_role
from covidhub.accounts.services import role_assign
from covidhub.core.errors import InvalidInput

pytestmark = pytest.mark.django_db


@pytest.fixture
def national(make_staff: Any) -> Any:
    return make_staff("national", "national_officer")


@pytest.fixture
def officer_a(make_staff: Any, two_provinces: dict[str, Any]) -> Any:
    return make_staff("officer-a", "province_officer", two_provinces["province"])


@pytest.fixture
def officer_b(make_staff: Any, two_provinces: dict[str, Any]) -> Any:
    return make_staff("officer-b", "province_officer", two_provinces["other_province"])


@pytest.fixture
def person_a(make_person: Any, two_provinces: dict[str, Any]) -> Any:
    return make_person(full_name="Nguyễn Thị Hải Dương", commune=two_provinces["commune"])


@pytest.fixture
def person_b(make_person: Any, two_provinces: dict[str, Any]) -> Any:
    return make_person(full_name="Trần Văn Hà Nội", commune=two_provinces["other_province_commune"])


def test_a_national_role_has_no_area(national: Any, area_tree: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        role_assign(user=national, role=Role.NATIONAL_OFFICER, area=area_tree["province"])
    # Given twice, held once.
    role_assign(user=national, role=Role.NATIONAL_OFFICER)
    assert RoleAssignment.objects.filter(user=national).count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(user=national, role=Role.NATIONAL_OFFICER)
    # Only a national role may go without an area or a unit (the database says so too).
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(user=national, role=Role.PROVINCE_OFFICER)


def test_scope_is_every_served_province(
    national: Any, two_provinces: dict[str, Any], settings: Any
) -> None:
    scope = actor_scope(national)
    assert scope.area_paths == ("01/", "30/")
    assert scope.has_role(Role.PROVINCE_OFFICER) and scope.national
    assert primary_role(scope) == Role.NATIONAL_OFFICER  # what the audit names
    # The setting, not a row: a deployment that stops serving a province stops showing it.
    settings.PROVINCES = ["30"]
    del national._covidhub_scope  # the per-request copy
    assert actor_scope(national).area_paths == ("30/",)


def test_province_officer_scope_stays_in_the_province(officer_a: Any) -> None:
    scope = actor_scope(officer_a)
    assert scope.area_paths == ("30/",) and not scope.national
    assert primary_role(scope) == Role.PROVINCE_OFFICER


@pytest.mark.parametrize(
    ("who", "sees"),
    [("officer_a", {"a"}), ("officer_b", {"b"}), ("national", {"a", "b"})],
)
def test_person_pages_and_api_by_province(
    who: str, sees: set[str], request: Any, person_a: Any, person_b: Any
) -> None:
    from conftest import _verified_client

    client = _verified_client(request.getfixturevalue(who))
    for key, person in (("a", person_a), ("b", person_b)):
        page = client.get(f"/staff/people/{person.uuid}/")
        api = client.get(f"/api/v1/staff/people/{person.uuid}")
        expected = 200 if key in sees else 404
        assert (page.status_code, api.status_code) == (expected, expected), (who, key)
        if key not in sees:
            assert person.full_name.encode() not in page.content + api.content


def test_people_search_by_province(
    officer_a: Any, national: Any, person_a: Any, person_b: Any
) -> None:
    from covidhub.people.selectors import person_list_for_actor

    def names(actor: Any) -> set[str]:
        return {p.full_name for p in person_list_for_actor(actor=actor, query="")}

    assert names(officer_a) == {person_a.full_name}
    assert names(national) == {person_a.full_name, person_b.full_name}
