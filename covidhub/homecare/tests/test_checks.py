"""Self-checks: idempotent by client key, bad vitals refused with clear messages, warning
signs raise an alert and the station's SMS in the same transaction (SMS down loses
nothing), one closer per alert, release with a paper, the status card follows."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from covidhub.core.errors import InvalidInput, NotFound
from covidhub.homecare.errors import AlertAlreadyClosed, ReleaseNotDue
from covidhub.homecare.models import CareAlert, CareOrder, SelfCheck
from covidhub.homecare.services.checks import self_check_submit
from covidhub.homecare.services.orders import order_release
from covidhub.homecare.services.station import alert_close, alert_take
from covidhub.homecare.tests.conftest import check_data
from covidhub.homecare.validation import self_check_clean

pytestmark = pytest.mark.django_db


def test_a_replayed_check_is_recorded_once(order, citizen):
    first, created = self_check_submit(actor=citizen, order=order, data=check_data(1))
    again, created_again = self_check_submit(actor=citizen, order=order, data=check_data(1))
    assert created and not created_again
    assert first.pk == again.pk
    assert SelfCheck.objects.filter(order=order).count() == 1
    order.refresh_from_db()
    assert order.last_check_at == first.measured_at


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("spo2", "150", "from 50 to 100"),
        ("temperature", "3", "3 °C is not possible"),
        ("measured_at", "2999-01-01T08:00", "in the future"),
        ("pulse", "abc", "Enter a number"),
    ],
)
def test_bad_vitals_are_refused_with_a_message(field, value, words):
    from django.utils import translation

    with translation.override("en"), pytest.raises(InvalidInput) as refused:
        self_check_clean({"client_key": "test-key-0001", "temperature": "37", field: value})
    assert words in refused.value.details["fields"][field][0]


def test_bad_vitals_in_vietnamese_on_the_page(order, citizen, login):
    client = login(citizen)
    response = client.post(
        f"/homecare/orders/{order.uuid}/check/",
        {"client_key": "test-key-0002", "spo2": "150", "temperature": "3"},
        HTTP_ACCEPT_LANGUAGE="vi",
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "SpO2" in text and "50" in text and "100" in text
    assert "3 °C" in text
    assert not SelfCheck.objects.exists()


def test_someone_elses_household_gets_404(order, make_citizen):
    stranger = make_citizen("+84912999888", full_name="Người Lạ")
    with pytest.raises(NotFound):
        self_check_submit(actor=stranger, order=order, data=check_data(3))


def test_a_warning_sign_raises_an_alert_and_an_sms_even_with_sms_down(
    order, citizen, commune_officer, settings, django_capture_on_commit_callbacks
):
    from covidhub.core.testing import run_queued_tasks
    from covidhub.notifications.models import Message

    commune_officer.phone = "+84912555666"
    commune_officer.save(update_fields=["phone"])
    settings.SMS_BACKEND = "http"
    settings.SMS_GATEWAY_URL = "http://127.0.0.1:9/down"  # nothing listens: the gateway is down
    with django_capture_on_commit_callbacks(execute=True):
        check, _ = self_check_submit(
            actor=citizen, order=order, data=check_data(4, spo2="93", breathing_rate="28")
        )
    assert check.warning_signs == ["spo2_low", "breathing_fast"]
    alert = CareAlert.objects.get(self_check=check)
    assert alert.status == CareAlert.Status.OPEN
    assert alert.due_at > timezone.now()
    sms = Message.objects.get(channel="sms", to="+84912555666")
    assert Message.objects.filter(channel="inapp", user=commune_officer).exists()
    run_queued_tasks(include_future=False)
    sms.refresh_from_db()
    # The SMS failed, stays in the outbox and is tried again; the alert is there regardless.
    assert sms.status == Message.Status.PENDING
    assert sms.attempts == 1 and sms.next_attempt_at is not None
    assert "unreachable" in sms.last_error
    assert CareAlert.objects.filter(pk=alert.pk, status="open").exists()


def test_an_alert_has_one_closer(order, citizen, commune_officer, district_officer):
    from covidhub.audit.models import AuditEvent

    check, _ = self_check_submit(
        actor=citizen, order=order, data=check_data(5, symptoms=["chest_pain"])
    )
    alert = CareAlert.objects.get(self_check=check)
    alert_take(actor=commune_officer, alert=alert)
    alert_close(actor=commune_officer, alert=alert, outcome="called", note="Đã gọi")
    with pytest.raises(AlertAlreadyClosed):
        alert_close(actor=district_officer, alert=alert, outcome="visited")
    alert.refresh_from_db()
    assert alert.closed_by == commune_officer and alert.owner == commune_officer
    assert AuditEvent.objects.filter(action="homecare.alert.closed").count() == 1


def test_the_neighbouring_officer_cannot_close(order, citizen, neighbour_officer):
    check, _ = self_check_submit(actor=citizen, order=order, data=check_data(6, spo2="90"))
    with pytest.raises(NotFound):
        alert_close(actor=neighbour_officer, alert=check.alert, outcome="called")


def test_release_follows_the_protocol_and_the_status_card_follows(
    citizen_person, citizen, commune_officer, make_result
):
    from covidhub.certificates.status_rules import person_status
    from covidhub.homecare.services.orders import order_open_case

    before = person_status(person=citizen_person)
    start = timezone.localdate() - datetime.timedelta(days=8)
    order = order_open_case(actor=commune_officer, person=citizen_person, start=start)
    card = person_status(person=citizen_person)
    assert card.colour == "red" and card.reason_code == "confirmed_case"
    with pytest.raises(ReleaseNotDue):
        order_release(actor=commune_officer, order=order)
    # A negative test from day 7 and checks without symptoms for the last days.
    make_result(citizen_person, "negative", timezone.now() - datetime.timedelta(hours=9))
    for n in range(3):
        self_check_submit(
            actor=citizen,
            order=order,
            data=check_data(
                10 + n,
                measured_at=(timezone.now() - datetime.timedelta(days=n, hours=1)).isoformat(),
                no_symptoms=True,
            ),
        )
    released = order_release(actor=commune_officer, order=order)
    assert released.status == CareOrder.Status.RELEASED
    assert released.release_reason == CareOrder.ReleaseReason.NEGATIVE_TEST
    after = person_status(person=citizen_person)
    assert after.reason_code not in ("confirmed_case", "isolating")
    assert after.colour == before.colour


def test_the_release_paper_verifies(order, commune_officer, citizen, login):
    from covidhub.homecare.document import release_pdf, verification_token

    CareOrder.objects.filter(pk=order.pk).update(
        status="released", released_at=timezone.now(), release_reason="days"
    )
    order.refresh_from_db()
    assert release_pdf(order).startswith(b"%PDF")
    client = login(citizen)
    assert client.get(f"/homecare/orders/{order.uuid}/release.pdf").status_code == 200
    page = client.get(f"/homecare/verify/{verification_token(order)}/")
    assert page.status_code == 200
    assert order.person.full_name not in page.content.decode()
    assert client.get("/homecare/verify/forged/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_check_without_a_warning_is_one_statement_with_its_audit(order, citizen):
    """Outside a transaction (a request), a check without a warning sign is written by one
    statement on PostgreSQL: the check, the order's last check-in (never moved back) and the
    audit row; a replay writes nothing."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from covidhub.audit.models import AuditEvent

    later = check_data(11, measured_at=timezone.now() - datetime.timedelta(minutes=5))
    with CaptureQueriesContext(connection) as queries:
        check, created = self_check_submit(actor=citizen, order=order, data=later)
    assert created
    if connection.vendor == "postgresql":
        assert len(queries.captured_queries) == 1
    earlier = check_data(12, measured_at=timezone.now() - datetime.timedelta(hours=3))
    self_check_submit(actor=citizen, order=order, data=earlier)
    order.refresh_from_db()
    assert order.last_check_at == later.measured_at
    audited = AuditEvent.objects.filter(
        action="homecare.check.recorded", person_uuid=order.person.uuid
    )
    assert set(audited.values_list("object_id", flat=True)) == {
        str(check.uuid),
        str(SelfCheck.objects.get(order=order, client_key=earlier.client_key).uuid),
    }
    again, created = self_check_submit(actor=citizen, order=order, data=later)
    assert (again.pk, created) == (check.pk, False)
    assert SelfCheck.objects.filter(order=order).count() == 2
    assert audited.count() == 2


def test_a_replay_after_the_release_is_answered_a_new_check_refused(order, citizen):
    from covidhub.homecare.errors import OrderNotOpen

    check, _ = self_check_submit(actor=citizen, order=order, data=check_data(21))
    CareOrder.objects.filter(pk=order.pk).update(
        status=CareOrder.Status.RELEASED,
        released_at=timezone.now(),
        release_reason=CareOrder.ReleaseReason.DAYS,
    )
    order.refresh_from_db()
    again, created = self_check_submit(actor=citizen, order=order, data=check_data(21))
    assert (again.pk, created) == (check.pk, False)
    with pytest.raises(OrderNotOpen):
        self_check_submit(actor=citizen, order=order, data=check_data(22))
