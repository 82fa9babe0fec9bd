"""Telling people their results (in their language, in the app, by SMS and e-mail), and
telling commune officers of positive cases. Runs in the task worker after the commit."""

from __future__ import annotations

import logging
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from covidhub.accounts.models import Role, RoleAssignment
from covidhub.areas.models import Area
from covidhub.core.dates import date_text
from covidhub.notifications.language import account_language, notice_language
from covidhub.notifications.services import (
    OutboxItem,
    message_queue,
    message_queue_many,
    person_notice_items,
)
from covidhub.people.models import Person
from covidhub.testing.codes import appointment_code_display
from covidhub.testing.models import Appointment, Result, TestType
from covidhub.testing.signals import positive_result_released, result_released

logger = logging.getLogger(__name__)


def _text(result: Result, person: Person, retest_code: str | None) -> tuple[str, str]:
    day = date_text(result.collected_at)
    kind = TestType(result.test_type).label
    values = {"name": person.full_name, "date": day, "test": kind}
    if result.outcome == Result.Outcome.NEGATIVE:
        body = (
            _("COVID-19 test (%(test)s) of %(name)s, sample taken on %(date)s: NEGATIVE.") % values
        )
    elif result.outcome == Result.Outcome.POSITIVE:
        body = (
            _(
                "COVID-19 test (%(test)s) of %(name)s, sample taken on %(date)s: POSITIVE. "
                "Stay at home and avoid contact; your commune health station will call you."
            )
            % values
        )
    elif result.outcome == Result.Outcome.POOL_POSITIVE:
        body = _(
            "COVID-19 test (%(test)s) of %(name)s, sample taken on %(date)s: the pooled "
            "sample is positive, an individual retest is required. Stay at home and go to a "
            "sampling site with the retest code %(code)s."
        ) % {**values, "code": appointment_code_display(retest_code or "")}
    else:
        body = _(
            "COVID-19 test (%(test)s) of %(name)s, sample taken on %(date)s: the sample "
            "could not be analysed; a new sample is required. Your new appointment code is "
            "%(code)s."
        ) % {**values, "code": appointment_code_display(retest_code or "")}
    if result.version > 1:
        body = _("Correction: %(text)s") % {"text": body}
    subject = (
        _("Correction of a COVID-19 test result")
        if result.version > 1
        else _("COVID-19 test result")
    )
    return subject, body


def result_messages(
    result: Result, person: Person, retest_code: str | None, *, link: str
) -> list[OutboxItem]:
    """The notice of one result version on every channel the person can be reached."""
    with notice_language(person) as language:
        subject, body = _text(result, person, retest_code)
    key = f"testing:result:{result.uuid}:v{result.version}"
    items = person_notice_items(
        person, subject=subject, body=body, language=language, link=link, key=key
    )
    if person.email:
        items.append(
            OutboxItem(
                channel="email",
                to=person.email,
                subject=subject,
                body=body,
                language=language,
                sensitive=True,
                dedupe_key=f"{key}:email",
            )
        )
    return items


def results_notify_pending(*, limit: int = 500) -> int:
    """Notify a chunk of results whose current version nobody was told of yet; send the
    signals for them. Chunks are claimed with SKIP LOCKED so that workers share them;
    a subscriber's failure rolls the chunk back and it is tried again (at least once).
    The chunk's messages are queued with one insert."""
    with transaction.atomic():
        qs = Result.objects.filter(notified_version__lt=F("version")).order_by("id")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        results = list(qs[:limit])
        if not results:
            return 0
        people = Person.objects.select_related("managed_by").in_bulk({r.person_id for r in results})
        retest_codes = dict(
            Appointment.objects.filter(
                retest_of_id__in=[r.pk for r in results if r.needs_retest],
                status=Appointment.Status.BOOKED,
            ).values_list("retest_of_id", "code")
        )
        link = reverse("testing:my_results")
        messages: list[OutboxItem] = []
        for result in results:
            person = people[result.person_id]
            messages += result_messages(result, person, retest_codes.get(result.pk), link=link)
            result_released.send(sender=Result, result=result, person=person)
            if result.outcome == Result.Outcome.POSITIVE:
                positive_result_released.send(
                    sender=Result, person=person, collected_at=result.collected_at
                )
        message_queue_many(messages)
        Result.objects.filter(pk__in=[r.pk for r in results]).update(notified_version=F("version"))
    return len(results)


def officers_tell_cases(*, commune_id: int, count: int, key: str) -> None:
    """An in-app notice to each officer of the commune: no names, a link to the list."""
    officers = RoleAssignment.objects.filter(
        role=Role.COMMUNE_OFFICER, area_id=commune_id
    ).select_related("user")
    commune = Area.objects.get(pk=commune_id)
    for assignment in officers:
        user = assignment.user
        language = account_language(user)
        with translation.override(language):
            body = _(
                "%(count)s new positive COVID-19 result(s) in %(commune)s. Open the list of "
                "positive cases to follow them up."
            ) % {"count": count, "commune": commune.name}
            subject = _("New positive cases")
        message_queue(
            channel="inapp",
            user=user,
            subject=subject,
            body=body,
            language=language,
            link=reverse("testing:staff_cases"),
            dedupe_key=f"testing:cases:{key}:{commune_id}:{user.pk}",
        )


def shipment_tell_discrepancy(*, user: Any, missing: int, unexpected: int, key: str) -> None:
    language = account_language(user)
    with translation.override(language):
        body = _(
            "Shipment received with differences: %(missing)s tube(s) missing, "
            "%(unexpected)s unexpected tube(s)."
        ) % {"missing": missing, "unexpected": unexpected}
        subject = _("Tubes missing or unexpected")
    message_queue(
        channel="inapp",
        user=user,
        subject=subject,
        body=body,
        language=language,
        dedupe_key=f"testing:shipment:{key}:{user.pk}",
    )
    logger.info("shipment discrepancy reported", extra={"shipment": key})
