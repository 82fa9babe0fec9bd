"""Missed self-checks: the person is reminded (in the app and by SMS, through the outbox)
once per missed slot — never twice, however often the task runs — and the station's list
flags them."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from covidhub.homecare import selectors
from covidhub.homecare.models import CareOrder
from covidhub.homecare.services.checks import self_check_submit
from covidhub.homecare.services.reminders import check_slot, missed_checks_remind
from covidhub.homecare.tests.conftest import check_data
from covidhub.notifications.models import Message

pytestmark = pytest.mark.django_db


def _yesterday_at(hour: int) -> datetime.datetime:
    day = timezone.localdate() - datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@pytest.fixture
def older_order(order: Any) -> Any:
    """The order as if opened three days ago (before yesterday's slots)."""
    CareOrder.objects.filter(pk=order.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=3)
    )
    order.refresh_from_db()
    return order


def _reminders(order: Any) -> list[Message]:
    return list(
        Message.objects.filter(dedupe_key__startswith=f"homecare:missed:{order.uuid}:").order_by(
            "channel"
        )
    )


def test_the_slots_split_the_day_from_midnight():
    at = _yesterday_at(13)
    start, end = check_slot(at=at, checks_per_day=2)
    assert (timezone.localtime(start).hour, timezone.localtime(end).hour) == (12, 0)
    start, end = check_slot(at=_yesterday_at(5), checks_per_day=3)
    assert (timezone.localtime(start).hour, timezone.localtime(end).hour) == (0, 8)


def test_a_missed_slot_is_reminded_once_in_the_app_and_by_sms(older_order, citizen):
    now = _yesterday_at(13)  # the morning slot (00–12) ended an hour ago
    assert missed_checks_remind(now=now) == 1
    sent = _reminders(older_order)
    assert [m.channel for m in sent] == ["inapp", "sms"]
    assert sent[0].user == citizen
    assert sent[1].to == older_order.person.phone or sent[1].to == citizen.phone
    language = citizen.language or "vi"
    words = "chưa gửi phiếu theo dõi" if language == "vi" else "no health check was sent"
    assert words in sent[0].body and sent[0].body == sent[1].body
    # The task runs again (a retry, the next quarter hour): nothing new.
    missed_checks_remind(now=now)
    missed_checks_remind(now=now + datetime.timedelta(minutes=15))
    assert len(_reminders(older_order)) == 2
    # The next slot missed too: its own reminder.
    assert missed_checks_remind(now=now + datetime.timedelta(hours=12)) == 1
    assert len(_reminders(older_order)) == 4


def test_a_check_in_the_slot_or_after_it_means_no_reminder(older_order, citizen):
    self_check_submit(
        actor=citizen,
        order=older_order,
        data=check_data(1, measured_at=_yesterday_at(9).isoformat()),
    )
    assert missed_checks_remind(now=_yesterday_at(13)) == 0
    assert _reminders(older_order) == []


def test_no_reminder_for_an_order_opened_during_the_slot_nor_long_after_it(order):
    assert missed_checks_remind(now=_yesterday_at(13)) == 0  # opened just now
    CareOrder.objects.filter(pk=order.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=3)
    )
    # Four hours after the slot ended: too late for this slot's reminder.
    assert missed_checks_remind(now=_yesterday_at(16)) == 0
    assert _reminders(order) == []


def test_released_orders_are_not_reminded(older_order):
    CareOrder.objects.filter(pk=older_order.pk).update(
        status=CareOrder.Status.RELEASED,
        released_at=timezone.now(),
        release_reason=CareOrder.ReleaseReason.DAYS,
    )
    assert missed_checks_remind(now=_yesterday_at(13)) == 0


def test_the_station_list_flags_a_missed_check(older_order, commune_officer):
    CareOrder.objects.filter(pk=older_order.pk).update(
        last_check_at=timezone.now() - datetime.timedelta(hours=15)
    )
    commune = selectors.commune_of_actor(actor=commune_officer, code=None)
    row = selectors.station_day(actor=commune_officer, commune=commune).rows[0]
    assert row.missed and row.needs_call
    CareOrder.objects.filter(pk=older_order.pk).update(
        last_check_at=timezone.now() - datetime.timedelta(hours=2)
    )
    row = selectors.station_day(actor=commune_officer, commune=commune).rows[0]
    assert not row.missed


def test_the_reminder_is_a_periodic_task():
    from covidhub.core import schedule

    assert "homecare.missed_checks.remind" in {job.name for job in schedule.jobs()}
