"""Refused look-ups audited (and their bursts alerted); bulk look-ups of people by a staff
account throttled, audited and alerted; the alerts shown to province administrators only."""

from __future__ import annotations

from typing import Any

import pytest

from covidhub.audit.alerts import DENIED_ACTION, THROTTLED_ACTION
from covidhub.audit.models import AuditEvent, SecurityAlert


@pytest.fixture
def person(make_person: Any, area_tree: dict[str, Any]) -> Any:
    return make_person(full_name="Nguyễn Thị Được Tìm", commune=area_tree["commune"])


def test_a_refused_look_up_is_audited_in_pages_and_api(
    login: Any, neighbour_officer: Any, person: Any
) -> None:
    client = login(neighbour_officer)
    assert client.get(f"/staff/people/{person.uuid}/").status_code == 404
    assert client.get(f"/api/v1/staff/people/{person.uuid}").status_code == 404
    events = list(AuditEvent.objects.filter(action=DENIED_ACTION).order_by("id"))
    assert [(e.actor_id, e.details["kind"], e.details["id"]) for e in events] == [
        (neighbour_officer.pk, "person", str(person.uuid)),
        (neighbour_officer.pk, "person", str(person.uuid)),
    ]


def test_a_citizen_refused_another_households_person_is_audited(
    login: Any, citizen: Any, person: Any
) -> None:
    client = login(citizen)
    assert client.get(f"/me/household/{person.uuid}/").status_code == 404
    assert AuditEvent.objects.filter(action=DENIED_ACTION, actor=citizen).count() == 1


def test_anonymous_and_unrouted_404s_are_not_look_ups(
    client: Any, login: Any, commune_officer: Any, person: Any
) -> None:
    assert client.get(f"/api/v1/staff/people/{person.uuid}").status_code in (401, 404)
    assert login(commune_officer).get("/no/such/page/").status_code == 404
    assert not AuditEvent.objects.filter(action=DENIED_ACTION).exists()


def test_a_burst_of_refusals_raises_one_alert_for_the_province_admin(
    settings: Any,
    login: Any,
    neighbour_officer: Any,
    commune_officer: Any,
    province_admin: Any,
    make_person: Any,
) -> None:
    settings.DENIED_BURST_COUNT = 3
    client = login(neighbour_officer)
    for n in range(5):
        person = make_person(full_name=f"Người Thứ {'ABCDE'[n]}")
        assert client.get(f"/staff/people/{person.uuid}/").status_code == 404
    alerts = list(SecurityAlert.objects.all())
    assert [(a.kind, a.actor_id, a.count) for a in alerts] == [
        ("denied_burst", neighbour_officer.pk, 3)
    ]

    page = login(province_admin).get("/staff/security/alerts/")
    assert page.status_code == 200
    assert b"neighbour" in page.content
    # Only administrators (given at province level) see the page.
    assert login(commune_officer).get("/staff/security/alerts/").status_code == 404


def test_bulk_look_ups_are_throttled_audited_and_alerted(
    settings: Any, login: Any, commune_officer: Any, province_admin: Any, make_person: Any
) -> None:
    settings.STAFF_LOOKUPS_PER_HOUR = 2
    people = [make_person(full_name=f"Người Tra {'ABC'[n]}") for n in range(3)]
    client = login(commune_officer)
    assert client.get(f"/staff/people/{people[0].uuid}/").status_code == 200
    assert client.get(f"/api/v1/staff/people/{people[1].uuid}").status_code == 200
    # The same person again costs nothing.
    assert client.get(f"/staff/people/{people[0].uuid}/").status_code == 200

    page = client.get(f"/staff/people/{people[2].uuid}/")
    assert page.status_code == 429
    assert "Người Tra C".encode() not in page.content
    answer = client.get(f"/api/v1/staff/people/{people[2].uuid}")
    assert answer.status_code == 429
    assert answer.json()["code"] == "lookup_limit"

    assert AuditEvent.objects.filter(action=THROTTLED_ACTION, actor=commune_officer).count() == 2
    assert list(SecurityAlert.objects.values_list("kind", "actor_id")) == [
        ("bulk_lookup", commune_officer.pk)
    ]
    assert b"officer" in login(province_admin).get("/staff/security/alerts/").content


def test_identity_number_searches_count_as_look_ups(
    settings: Any, login: Any, commune_officer: Any, make_person: Any
) -> None:
    from covidhub.people.selectors import person_list_for_actor

    settings.STAFF_LOOKUPS_PER_HOUR = 1
    make_person(full_name="Người Có Số", id_type="cccd", id_number="030085000201")
    make_person(full_name="Người Số Hai", id_type="cccd", id_number="030085000202")
    assert len(person_list_for_actor(actor=commune_officer, query="030085000201")) == 1
    # Name searches list people without charging them.
    assert len(person_list_for_actor(actor=commune_officer, query="Người")) >= 2
    from covidhub.audit.alerts import LookupBudgetExceeded

    with pytest.raises(LookupBudgetExceeded):
        person_list_for_actor(actor=commune_officer, query="030085000202")


def test_without_a_limit_nothing_is_counted(
    settings: Any, login: Any, commune_officer: Any, person: Any
) -> None:
    from covidhub.audit.models import StaffLookup

    settings.STAFF_LOOKUPS_PER_HOUR = 0
    assert login(commune_officer).get(f"/staff/people/{person.uuid}/").status_code == 200
    assert not StaffLookup.objects.exists()


def test_the_look_up_budget_follows_the_role(
    settings: Any, make_staff: Any, area_tree: Any, commune_officer: Any, make_person: Any
) -> None:
    """Issue 16: one budget of 200 an hour for every staff account stopped a sampler at a
    mass-testing site mid-morning. Each role has its own (STAFF_LOOKUPS_PER_HOUR_BY_ROLE);
    an account with several roles gets the largest; the others keep the default."""
    import uuid

    from covidhub.accounts.services import role_assign
    from covidhub.audit.alerts import LookupBudgetExceeded, staff_lookup_charge, staff_lookup_limit

    settings.STAFF_LOOKUPS_PER_HOUR = 2
    settings.STAFF_LOOKUPS_PER_HOUR_BY_ROLE = {"sampler": 5, "portal_editor": 0}
    sampler = make_staff("laymau", "sampler", unit_kind="site", unit_uuid=uuid.uuid4())
    assert staff_lookup_limit(actor=sampler) == 5
    assert staff_lookup_limit(actor=commune_officer) == 2
    for _n in range(5):
        staff_lookup_charge(actor=sampler, person_uuid=uuid.uuid4())
    with pytest.raises(LookupBudgetExceeded):
        staff_lookup_charge(actor=sampler, person_uuid=uuid.uuid4())
    for _n in range(2):
        staff_lookup_charge(actor=commune_officer, person_uuid=uuid.uuid4())
    with pytest.raises(LookupBudgetExceeded):
        staff_lookup_charge(actor=commune_officer, person_uuid=uuid.uuid4())
    # A commune officer who also samples gets the sampler's budget.
    role_assign(user=commune_officer, role="sampler", unit_kind="site", unit_uuid=uuid.uuid4())
    commune_officer = type(commune_officer).objects.get(pk=commune_officer.pk)
    assert staff_lookup_limit(actor=commune_officer) == 5
    staff_lookup_charge(actor=commune_officer, person_uuid=uuid.uuid4())
    # A role set to 0 has no limit; the global 0 turns every limit off.
    editor = make_staff("bientap", "portal_editor", area_tree["province"])
    assert staff_lookup_limit(actor=editor) == 0
    settings.STAFF_LOOKUPS_PER_HOUR = 0
    assert staff_lookup_limit(actor=sampler) == 0


def test_the_role_limits_are_read_from_the_environment(monkeypatch: Any) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from config.env import env_int_map

    monkeypatch.setenv("STAFF_LOOKUPS_PER_HOUR_BY_ROLE", "sampler=800, vaccinator=0")
    assert env_int_map("STAFF_LOOKUPS_PER_HOUR_BY_ROLE", {"sampler": 600, "site_manager": 300}) == {
        "sampler": 800,
        "vaccinator": 0,
        "site_manager": 300,
    }
    monkeypatch.setenv("STAFF_LOOKUPS_PER_HOUR_BY_ROLE", "sampler:800")
    with pytest.raises(ImproperlyConfigured):
        env_int_map("STAFF_LOOKUPS_PER_HOUR_BY_ROLE", {})
