"""Missed self-checks: the person is reminded once per missed slot (the station's list
flags them by the hours without a check: `selectors.station_day`)."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from covidhub.core.dates import date_text
from covidhub.homecare.models import CareOrder, CareProtocol
from covidhub.homecare.protocol import rules_of
from covidhub.notifications.language import notice_language
from covidhub.notifications.services import (
    OutboxItem,
    message_queue_many,
    person_notice_items,
)

CHUNK = 2000
# A slot's reminder is sent in the hours after it ends, not later (a worker down longer
# skips it: the next slot's reminder comes, and the station's list flags the person).
REMIND_WITHIN = datetime.timedelta(hours=3)


def check_slot(
    *, at: datetime.datetime, checks_per_day: int
) -> tuple[datetime.datetime, datetime.datetime]:
    """The slot of the day (local time) that `at` falls in: the day split into
    `checks_per_day` equal parts from midnight (two a day: 00–12 and 12–24)."""
    local = timezone.localtime(at)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    length = datetime.timedelta(days=1) / checks_per_day
    index = int((local - midnight) / length)
    start = midnight + index * length
    return start, start + length


def _reminder_items(order: Any, slot_start: datetime.datetime) -> list[OutboxItem]:
    person = order.person
    with notice_language(person) as language:
        body = _(
            "%(name)s: no health check was sent since %(time)s. Send it now in the app; "
            "call the station if breathing gets hard."
        ) % {
            "name": person.full_name,
            "time": "{} {}".format(
                timezone.localtime(slot_start).strftime("%H:%M"),
                date_text(timezone.localtime(slot_start).date()),
            ),
        }
        subject = _("A health check is missing")
    key = f"homecare:missed:{order.uuid}:{slot_start.isoformat()}"
    items = person_notice_items(
        person,
        subject=subject,
        body=body,
        language=language,
        link=reverse("homecare:check", kwargs={"order_uuid": order.uuid}),
        key=key,
    )
    return items


def missed_checks_remind(*, now: datetime.datetime | None = None) -> int:
    """Remind each person under care who sent no check in the slot that last ended (the
    day split by the protocol's checks a day), once per slot: the outbox's dedupe key is
    the order and the slot, so a task run again (a retry, two workers) queues nothing
    twice. Orders opened after that slot began are left alone, and so is a slot that
    ended more than `REMIND_WITHIN` ago. Returns the orders reminded (this run)."""
    now = now or timezone.now()
    reminded = 0
    open_orders = CareOrder.objects.filter(status=CareOrder.Status.OPEN)
    protocol_ids = set(open_orders.values_list("protocol_id", flat=True).distinct())
    for protocol in CareProtocol.objects.filter(pk__in=protocol_ids):
        rules = rules_of(protocol)
        current_start, _end = check_slot(at=now, checks_per_day=rules.checks_per_day)
        slot_end = current_start
        slot_start, _same = check_slot(
            at=slot_end - datetime.timedelta(seconds=1), checks_per_day=rules.checks_per_day
        )
        if now - slot_end > REMIND_WITHIN:
            continue
        missed = (
            open_orders.filter(protocol=protocol, created_at__lte=slot_start)
            .filter(Q(last_check_at__isnull=True) | Q(last_check_at__lt=slot_start))
            .select_related("person__managed_by")
            .order_by("id")
        )
        batch: list[OutboxItem] = []
        for order in missed.iterator(chunk_size=CHUNK):
            batch += _reminder_items(order, slot_start)
            reminded += 1
            if len(batch) >= CHUNK:
                message_queue_many(batch)
                batch = []
        if batch:
            message_queue_many(batch)
    return reminded
