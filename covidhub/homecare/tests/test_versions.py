"""The configurable versions on staff pages: the province changes the care protocol, the
commune station its on-duty list; each change is a new row (the one in force is never
edited), bad input gets a message in vi and en and changes nothing, other roles and
areas get 404, every change is audited."""

from __future__ import annotations

from typing import Any

import pytest

from covidhub.audit.models import AuditEvent
from covidhub.homecare.models import CareAlert, CareProtocol, StationDuty
from covidhub.homecare.protocol import DEFAULT_RULES, protocol_active, rules_of
from covidhub.homecare.services.checks import self_check_submit
from covidhub.homecare.tests.conftest import check_data
from covidhub.notifications.models import Message

pytestmark = pytest.mark.django_db
PROTOCOL = "/staff/homecare/protocol/"
DUTY = "/staff/homecare/duty/"


@pytest.fixture
def province_officer(make_staff: Any, area_tree: dict[str, Any]) -> Any:
    return make_staff("tinh", "province_officer", area_tree["province"])


def _form(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        k: v for k, v in DEFAULT_RULES.as_dict().items() if not isinstance(v, bool | list)
    }
    data.update({k: "on" for k, v in DEFAULT_RULES.as_dict().items() if v is True})
    data["warning_symptoms"] = list(DEFAULT_RULES.warning_symptoms)
    data.update(changes)
    return data


def test_the_province_puts_a_new_protocol_version_in_force(login, province_officer, order, citizen):
    first = order.protocol
    client = login(province_officer)
    page = client.get(PROTOCOL)
    assert page.status_code == 200
    assert 'value="96"' in page.content.decode()  # the form starts from the version in force
    response = client.post(PROTOCOL, _form(spo2_below="94", note="QĐ 1000/QĐ-BYT"))
    assert response.status_code == 302
    current = protocol_active()
    assert current.version == first.version + 1
    assert rules_of(current).spo2_below == 94
    assert current.note == "QĐ 1000/QĐ-BYT" and current.created_by == province_officer
    first.refresh_from_db()
    assert first.state == CareProtocol.State.RETIRED
    assert first.rules["spo2_below"] == 96  # the old version is kept as it was
    event = AuditEvent.objects.get(action="homecare.protocol.activated")
    assert event.actor == province_officer and event.details["changed"] == ["spo2_below"]
    # The order opened before keeps its version: 95 % is no warning sign under it.
    check, _created = self_check_submit(actor=citizen, order=order, data=check_data(1, spo2="95"))
    assert "spo2_low" in check.warning_signs


@pytest.mark.parametrize(
    ("language", "changes", "field", "words"),
    [
        ("en", {"spo2_below": "150"}, "spo2_below", "Enter a number from 80 to 100."),
        ("vi", {"spo2_below": "150"}, "spo2_below", "Nhập một số từ 80 đến 100."),
        ("en", {"f0_days": "abc"}, "f0_days", "Enter a number."),
        ("en", {"f0_days": "12"}, "f0_days", "cannot exceed the days without"),
        ("en", {}, None, "Nothing is changed"),
        ("vi", {}, None, "Không có thay đổi"),
    ],
)
def test_bad_protocol_input_is_refused_with_a_message_and_changes_nothing(
    login, province_officer, language, changes, field, words
):
    protocol_active()
    client = login(province_officer)
    response = client.post(PROTOCOL, _form(**changes), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 400
    assert words in response.content.decode()
    if field:
        assert words in " ".join(response.context["form"].errors[field])
    assert CareProtocol.objects.count() == 1
    assert not AuditEvent.objects.filter(action="homecare.protocol.activated").exists()


def test_other_roles_get_404_on_the_protocol(login, commune_officer, district_officer, citizen):
    for user in (commune_officer, district_officer):
        client = login(user)
        assert client.get(PROTOCOL).status_code == 404
        assert client.post(PROTOCOL, _form(spo2_below="94")).status_code == 404
    assert login(citizen).get(PROTOCOL).status_code in (302, 403, 404)
    assert CareProtocol.objects.filter(version__gt=1).count() == 0


def test_the_station_keeps_its_duty_list_as_versions(
    login, commune_officer, make_staff, area_tree, order, citizen
):
    colleague = make_staff("colleague", "commune_officer", area_tree["commune"])
    client = login(commune_officer)
    assert client.get(DUTY).status_code == 200
    response = client.post(
        DUTY, {"commune": "10507", "action": "set", "officer": str(colleague.uuid), "phone": ""}
    )
    assert response.status_code == 302
    response = client.post(
        DUTY,
        {
            "commune": "10507",
            "action": "set",
            "officer": str(colleague.uuid),
            "phone": "0912 345 678",
        },
    )
    assert response.status_code == 302
    rows = list(StationDuty.objects.filter(user=colleague).order_by("id"))
    assert [r.active for r in rows] == [False, True]  # a change is a new row
    assert rows[0].ended_by == commune_officer and rows[0].ended_at is not None
    assert rows[1].phone == "+84912345678" and rows[1].created_by == commune_officer
    # An alert goes to the list in force.
    self_check_submit(actor=citizen, order=order, data=check_data(1, spo2="90"))
    alert = CareAlert.objects.get(order=order)
    assert Message.objects.filter(
        channel="sms", to="+84912345678", dedupe_key__startswith=f"homecare:alert:{alert.uuid}"
    ).exists()
    # Off the list: the row is ended, nobody is on duty.
    response = client.post(
        DUTY, {"commune": "10507", "action": "end", "officer": str(colleague.uuid)}
    )
    assert response.status_code == 302
    assert not StationDuty.objects.filter(active=True).exists()
    assert AuditEvent.objects.filter(action="homecare.duty.set", actor=commune_officer).count() == 2
    assert AuditEvent.objects.filter(action="homecare.duty.ended").count() == 1
    page = client.get(DUTY).content.decode()
    assert "colleague".title() in page  # the earlier versions are listed


@pytest.mark.parametrize(
    ("language", "phone", "words"),
    [("en", "12", "phone"), ("vi", "12", "điện thoại")],
)
def test_a_bad_duty_phone_is_refused_with_a_message(login, commune_officer, language, phone, words):
    response = login(commune_officer).post(
        DUTY,
        {"commune": "10507", "action": "set", "officer": str(commune_officer.uuid), "phone": phone},
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 400
    assert words in " ".join(response.context["form"].errors["phone"]).lower()
    assert not StationDuty.objects.exists()


def test_an_officer_of_another_commune_cannot_be_put_on_duty(
    login, commune_officer, neighbour_officer
):
    response = login(commune_officer).post(
        DUTY, {"commune": "10507", "action": "set", "officer": str(neighbour_officer.uuid)}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["officer"]
    assert not StationDuty.objects.exists()


def test_the_duty_list_outside_the_area_is_404(
    login, commune_officer, neighbour_officer, district_officer
):
    neighbour = login(neighbour_officer)
    assert neighbour.get(DUTY, {"commune": "10507"}).status_code == 404
    response = neighbour.post(
        DUTY, {"commune": "10507", "action": "set", "officer": str(commune_officer.uuid)}
    )
    assert response.status_code == 404
    assert not StationDuty.objects.exists()
    # The district officer reaches the communes below.
    assert login(district_officer).get(DUTY, {"commune": "10507"}).status_code == 200


def test_each_served_province_sets_its_own_protocol(
    login, make_staff, make_person, two_provinces, commune_officer
):
    """A deployment serving two provinces: each one's officers change their own rules,
    never the neighbour's (404); an order opens under its person's province's version; a
    national officer picks the province on the page."""
    from covidhub.homecare.services.orders import order_open_case

    home = make_staff("tinh-hd", "province_officer", two_provinces["province"])
    other = make_staff("tinh-hn", "province_officer", two_provinces["other_province"])
    national = make_staff("quoc-gia", "national_officer")
    hanoi_officer = make_staff("xa-hn", "commune_officer", two_provinces["other_province_commune"])

    hd = login(home)
    assert hd.post(PROTOCOL, _form(spo2_below="94")).status_code == 302
    assert protocol_active("30").version == 2 and rules_of(protocol_active("30")).spo2_below == 94
    assert protocol_active("01").version == 1 and rules_of(protocol_active("01")).spo2_below == 96
    # Not the neighbour's page, nor a change to it.
    assert hd.get(PROTOCOL, {"province": "01"}).status_code == 404
    assert hd.post(f"{PROTOCOL}?province=01", _form(spo2_below="93")).status_code == 404
    assert rules_of(protocol_active("01")).spo2_below == 96
    hn = login(other)
    page = hn.get(PROTOCOL)
    assert page.status_code == 200 and "Thành phố Hà Nội" in page.content.decode()
    assert 'id="id_province_pick"' not in page.content.decode()  # one province: no choice
    assert hn.get(PROTOCOL, {"province": "30"}).status_code == 404
    assert hn.post(PROTOCOL, _form(f0_days="8")).status_code == 302
    assert protocol_active("01").version == 2 and protocol_active("30").version == 2

    # Orders open under their own province's version.
    in_hd = order_open_case(actor=commune_officer, person=make_person())
    in_hn = order_open_case(
        actor=hanoi_officer,
        person=make_person(commune=two_provinces["other_province_commune"]),
    )
    assert (in_hd.protocol.province_code, in_hd.protocol.version) == ("30", 2)
    assert (in_hn.protocol.province_code, in_hn.protocol.version) == ("01", 2)

    # A national officer sets either, choosing on the page.
    nat = login(national)
    page = nat.get(PROTOCOL, {"province": "01"}).content.decode()
    assert 'id="id_province_pick"' in page and "Tỉnh Hải Dương" in page
    response = nat.post(f"{PROTOCOL}?province=01", _form(spo2_below="95", note="Hà Nội"))
    assert response.status_code == 302 and response["Location"].endswith("?province=01")
    assert protocol_active("01").version == 3 and protocol_active("30").version == 2
    events = AuditEvent.objects.filter(action="homecare.protocol.activated").order_by("id")
    assert [e.details["province"] for e in events] == ["30", "01", "01"]
