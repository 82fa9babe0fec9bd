"""Follow-up: reminders before the next dose is due."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from covidhub.core.dates import date_text
from covidhub.notifications.language import notice_language
from covidhub.notifications.services import message_queue
from covidhub.vaccination.models import PersonVaccination

REMIND_DAYS_BEFORE = 3


def reminders_send(*, today: datetime.date | None = None, limit: int = 50_000) -> int:
    """Remind everyone whose next dose falls due within the next days, once per dose."""
    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=REMIND_DAYS_BEFORE)
    due = (
        PersonVaccination.objects.filter(next_due_on__isnull=False, next_due_on__lte=horizon)
        .select_related("person__managed_by")
        .order_by("next_due_on", "person_id")
    )
    sent = 0
    for status in due.iterator(chunk_size=500):
        if sent >= limit:
            break
        key = f"{status.doses + 1}:{status.next_due_on:%Y%m%d}"
        if status.reminded_for == key:
            continue
        person = status.person
        account = person.managed_by
        with transaction.atomic(), notice_language(person) as language:
            text = _(
                "Reminder: dose %(dose)s of COVID-19 vaccine for %(name)s is due from %(date)s. "
                "Book a session in the app or wait for your commune's invitation."
            ) % {
                "dose": status.doses + 1,
                "name": person.full_name,
                "date": date_text(status.next_earliest_on or horizon),
            }
            dedupe = f"vaccination:remind:{person.uuid}:{key}"
            if account is not None:
                message_queue(
                    channel="inapp",
                    user=account,
                    subject=_("Your next vaccine dose"),
                    body=text,
                    language=language,
                    link=reverse("vaccination:my_vaccinations"),
                    dedupe_key=f"{dedupe}:inapp",
                    sensitive=True,
                )
            phone = person.phone or (account.phone if account is not None else "") or ""
            if phone:
                message_queue(
                    channel="sms",
                    to=phone,
                    body=text,
                    language=language,
                    sensitive=True,
                    dedupe_key=f"{dedupe}:sms",
                )
            PersonVaccination.objects.filter(pk=status.pk).update(reminded_for=key)
        sent += 1
    return sent
