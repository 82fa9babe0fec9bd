"""Finding 7 of issue 16: CCCD squatting and the existence oracle.

Adding a household member with an identity number another record holds answered
`identity_taken`, and whoever registered a real CCCD first locked its owner out. Now the
answer is the same whether the number exists or not, a clash goes to the commune as a
claim, and every number entered counts towards a per-account limit kept in the database.
"""

from __future__ import annotations

import pytest
from django.test import Client

from covidhub.audit.models import AuditEvent
from covidhub.people.models import Person

pytestmark = pytest.mark.django_db

HELD = "030085000123"  # belongs to someone already registered
FREE = "030085000456"  # belongs to nobody yet


def _bearer(user) -> Client:
    from covidhub.accounts.services import api_token_issue

    client = Client()
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {api_token_issue(user=user).token}"
    return client


def _member(number: str) -> dict[str, str]:
    """A family member to add (POST /household)."""
    return {"relationship": "parent", **_identity(number)}


def _identity(number: str) -> dict[str, str]:
    """A person's fields as PUT /household/{uuid} takes them (no relationship)."""
    return {
        "full_name": "Phạm Văn Chủ",
        "birth": "15/03/1985",
        "sex": "M",
        "commune": "10507",
        "id_type": "cccd",
        "id_number": number,
    }


@pytest.fixture
def holder(make_person, area_tree):
    return make_person(
        full_name="Người Giữ Số", id_type="cccd", id_number=HELD, commune=area_tree["far_commune"]
    )


@pytest.fixture
def two_citizens(make_citizen):
    return make_citizen("+84912000001"), make_citizen("+84912000002")


def _without_ids(payload: object) -> object:
    if isinstance(payload, list):
        return [_without_ids(item) for item in payload]
    if isinstance(payload, dict):
        return {k: _without_ids(v) for k, v in payload.items() if k != "uuid"}
    return payload


def test_answers_for_an_existing_and_a_free_cccd_are_indistinguishable(
    holder, two_citizens, commune_officer, login
):
    first, second = two_citizens
    held = _bearer(first).post("/api/v1/household", _member(HELD), content_type="application/json")
    free = _bearer(second).post("/api/v1/household", _member(FREE), content_type="application/json")
    assert held.status_code == free.status_code == 201
    held_body, free_body = held.json(), free.json()
    assert held_body["id_number_masked"] == "••••••••0123"
    assert free_body["id_number_masked"] == "••••••••0456"
    held_body.pop("id_number_masked"), free_body.pop("id_number_masked")
    assert _without_ids(held_body) == _without_ids(free_body)
    assert set(held.headers) == set(free.headers)
    # Later reads say nothing either: the household, the edit form, the requests, the trail.
    households = [
        _without_ids(_bearer(user).get("/api/v1/household").json()["items"])
        for user in two_citizens
    ]
    for household in households:
        for person in household:
            person.pop("id_number_masked")
    assert households[0] == households[1]
    for user in two_citizens:
        assert _bearer(user).get("/api/v1/household/corrections").json()["items"] == []
    trails = [
        sorted(
            row["action"]
            for row in _bearer(user).get("/api/v1/household/access-log").json()["items"]
        )
        for user in two_citizens
    ]
    assert trails[0] == trails[1]
    claimant = Person.objects.get(managed_by=first, relationship="parent")
    form = login(first).get(f"/me/household/{claimant.uuid}/").content.decode()
    assert f'value="{HELD}"' in form
    # An officer opening the queue and the claim leaves the claimant's trail as it was.
    officer = login(commune_officer)
    queue = officer.get("/api/v1/staff/people/corrections").json()["items"]
    assert officer.get(f"/staff/corrections/{queue[0]['uuid']}/").status_code == 200
    after = [
        sorted(
            row["action"]
            for row in _bearer(user).get("/api/v1/household/access-log").json()["items"]
        )
        for user in two_citizens
    ]
    assert after == trails
    assert AuditEvent.objects.filter(action="people.identity_claim.listed").count() == 1
    # The web form answers alike as well.
    pages = []
    for user, number in ((first, HELD), (second, FREE)):
        response = login(user).post(
            "/me/household/add/",
            {**_member(number), "full_name": "Phạm Thị Hai", "sex": "M", "idempotency_key": ""},
            follow=True,
            HTTP_ACCEPT_LANGUAGE="en",
        )
        pages.append(response)
    assert [p.status_code for p in pages] == [200, 200]
    assert [p.redirect_chain for p in pages] == [[("/me/household/", 302)]] * 2
    messages = [[str(m) for m in p.context["messages"]] for p in pages]
    assert messages[0] == messages[1] == [["The family member is added."]][0]


def test_a_clash_goes_to_the_commune_and_approval_moves_the_number(
    holder, two_citizens, commune_officer, neighbour_officer, district_officer, login
):
    first, _second = two_citizens
    response = _bearer(first).post(
        "/api/v1/household", _member(HELD), content_type="application/json"
    )
    claimant = Person.objects.get(uuid=response.json()["uuid"])
    assert claimant.id_number == ""  # the holder keeps it until the commune decides
    holder.refresh_from_db()
    assert holder.id_number == HELD
    from covidhub.people.models import CorrectionRequest

    claim = CorrectionRequest.objects.get(person=claimant)
    assert claim.kind == "claim" and claim.proposed["id_number"] == HELD
    opened = AuditEvent.objects.get(action="people.identity_claim.opened")
    assert opened.actor == first and opened.person_uuid is None
    # The claimant's commune sees the claim, learns only that the holder is elsewhere.
    queue = login(commune_officer).get("/api/v1/staff/people/corrections").json()["items"]
    assert [row["kind"] for row in queue] == ["claim"]
    assert queue[0]["number_held_elsewhere"] is True and queue[0]["holder_uuid"] is None
    assert login(neighbour_officer).get("/api/v1/staff/people/corrections").json()["items"] == []
    page = login(commune_officer).get(
        f"/staff/corrections/{claim.uuid}/", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "held by a record outside your area" in page.content.decode()
    approved = login(commune_officer).post(
        f"/api/v1/staff/people/corrections/{claim.uuid}/approve",
        {"evidence_note": "CCCD gốc của ông Chủ đã kiểm tra tại trạm"},
        content_type="application/json",
    )
    assert approved.status_code == 200, approved.content
    claimant.refresh_from_db()
    holder.refresh_from_db()
    assert claimant.id_number == HELD and holder.id_number == ""
    released = AuditEvent.objects.get(action="people.identity.released")
    assert released.person_uuid == holder.uuid and released.actor == commune_officer


def test_a_rejected_claim_leaves_the_number_with_its_holder(holder, two_citizens, commune_officer):
    from covidhub.people.corrections import correction_reject
    from covidhub.people.models import CorrectionRequest

    first, _second = two_citizens
    _bearer(first).post("/api/v1/household", _member(HELD), content_type="application/json")
    claim = CorrectionRequest.objects.get()
    correction_reject(actor=commune_officer, request=claim, reason="Không trình được CCCD gốc")
    holder.refresh_from_db()
    assert holder.id_number == HELD
    assert not Person.objects.filter(managed_by=first, id_number=HELD).exists()


def test_identity_numbers_are_limited_per_account_without_redis(settings, holder, two_citizens):
    settings.IDENTITY_NUMBERS_PER_ACCOUNT_PER_DAY = 3
    first, _second = two_citizens
    client = _bearer(first)
    numbers = ["030085000001", HELD, "030085000002"]
    for number in numbers:
        response = client.post(
            "/api/v1/household", _member(number), content_type="application/json"
        )
        assert response.status_code == 201
    refused = client.post(
        "/api/v1/household", _member("030085000003"), content_type="application/json"
    )
    assert refused.status_code == 429
    assert refused.json()["code"] == "identity_rate_limited"
    # The same refusal for a held number: the limit is no oracle either.
    held_again = client.post("/api/v1/household", _member(HELD), content_type="application/json")
    assert held_again.status_code == 429 and held_again.json() == refused.json()
    assert Person.objects.filter(managed_by=first).count() == 4  # self + three members
    from covidhub.people.models import IdentityAttempt

    assert IdentityAttempt.objects.filter(account=first).count() == 3
    assert (
        AuditEvent.objects.filter(action="people.identity.rate_limited", actor=first).count() == 2
    )
    # Editing without typing a new number is not an attempt.
    member = Person.objects.filter(managed_by=first, relationship="parent").first()
    ok = client.put(
        f"/api/v1/household/{member.uuid}",
        {**_identity(member.id_number or HELD), "address_line": "Thôn Bắc"},
        content_type="application/json",
    )
    assert ok.status_code == 200, ok.content


def test_changing_a_number_to_a_held_one_is_a_claim_too(holder, citizen, citizen_person):
    response = _bearer(citizen).put(
        f"/api/v1/household/{citizen_person.uuid}",
        {**_identity(HELD), "full_name": citizen_person.full_name},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["id_number_masked"] == "••••••••0123"
    citizen_person.refresh_from_db()
    assert citizen_person.id_number == ""
    from covidhub.people.models import CorrectionRequest

    assert CorrectionRequest.objects.get(person=citizen_person).kind == "claim"
    # Saving the form again with the number shown is not a second claim.
    again = _bearer(citizen).put(
        f"/api/v1/household/{citizen_person.uuid}",
        {**_identity(HELD), "full_name": citizen_person.full_name, "address_line": "Ngõ 3"},
        content_type="application/json",
    )
    assert again.status_code == 200 and CorrectionRequest.objects.count() == 1


def test_the_officers_queue_costs_the_same_queries_for_one_or_many_requests(
    make_person, make_citizen, commune_officer, login, monkeypatch
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from covidhub.accounts import middleware

    # The staff session's last activity is written at most every 30 s: on a slow machine the
    # two claims between the counted requests can take longer, and that one session write
    # would be counted against the queue. The queue's cost is what is compared here.
    monkeypatch.setattr(middleware, "ACTIVITY_RESOLUTION_SECONDS", 3600)
    from covidhub.people.claims import identity_claim_open
    from covidhub.people.validation import person_input_clean

    client = login(commune_officer)

    def claim(n: int) -> None:
        account = make_citizen(f"+8491300000{n}")
        person = make_person(full_name=f"Người Nhận {chr(65 + n)}", managed_by=account)
        make_person(full_name="Người Giữ", id_type="cccd", id_number=f"03008500020{n}")
        data = person_input_clean(
            {
                "full_name": person.full_name,
                "birth": "15/03/1985",
                "sex": "M",
                "commune": person.commune,
                "id_type": "cccd",
                "id_number": f"03008500020{n}",
            }
        )
        identity_claim_open(account=account, person=person, data=data)

    claim(0)
    client.get("/api/v1/staff/people/corrections")  # the session's first request warms caches
    with CaptureQueriesContext(connection) as one:
        assert len(client.get("/api/v1/staff/people/corrections").json()["items"]) == 1
    claim(1), claim(2)
    with CaptureQueriesContext(connection) as three:
        rows = client.get("/api/v1/staff/people/corrections").json()["items"]
    assert len(rows) == 3 and all(row["number_held_elsewhere"] for row in rows)
    assert all(row["holder_uuid"] for row in rows)  # the holders are in the officer's area
    assert len(three) == len(one)
