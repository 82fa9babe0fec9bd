"""Self-checks and the alerts their warning signs raise, in one transaction."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from covidhub.accounts.models import Role, RoleAssignment
from covidhub.audit.services import audit_event_new, audit_record
from covidhub.core.errors import InvalidInput, NotFound
from covidhub.homecare.errors import OrderNotOpen
from covidhub.homecare.models import CareAlert, CareOrder, SelfCheck, StationDuty
from covidhub.homecare.protocol import WARNING_TEXT, rules_of, warning_signs
from covidhub.homecare.services.common import may_submit_for, role_of
from covidhub.homecare.statements import check_store, single_statement_supported, stored_check
from covidhub.homecare.validation import SelfCheckInput
from covidhub.notifications.language import account_language
from covidhub.notifications.services import OutboxItem, message_queue_many


def self_check_submit(
    *, actor: Any, order: CareOrder, data: SelfCheckInput
) -> tuple[SelfCheck, bool]:
    """Record a self-check once per client key: a replay (a queue flushed twice, a double
    tap) returns the first and records nothing. Warning signs raise an alert, with its
    messages to the station, in the same transaction. Returns (check, created).

    A check without a warning sign is one statement on PostgreSQL (`statements`), its own
    transaction: the morning wave's checks are nearly all of that kind."""
    person = order.person
    if not may_submit_for(actor, person):
        raise NotFound()
    if order.status != CareOrder.Status.OPEN:
        return _replayed(order, data, OrderNotOpen())
    start = timezone.make_aware(datetime.datetime.combine(order.start_date, datetime.time.min))
    if data.measured_at < start:
        return _replayed(
            order,
            data,
            InvalidInput(
                details={
                    "fields": {
                        "measured_at": [
                            _("The measurement was taken before home care or quarantine began.")
                        ]
                    }
                }
            ),
        )
    rules = rules_of(order.protocol)
    signs = warning_signs(
        rules,
        age=person.age_on(timezone.localdate(data.measured_at)),
        temperature=float(data.temperature) if data.temperature is not None else None,
        spo2=data.spo2,
        pulse=data.pulse,
        breathing_rate=data.breathing_rate,
        symptoms=data.symptoms,
    )
    check = SelfCheck(
        order=order,
        measured_at=data.measured_at,
        temperature=data.temperature,
        spo2=data.spo2,
        pulse=data.pulse,
        breathing_rate=data.breathing_rate,
        symptoms=data.symptoms,
        client_key=data.client_key,
        warning_signs=signs,
        submitted_by=actor if getattr(actor, "pk", None) else None,
    )
    event = audit_event_new(
        actor=actor,
        actor_role=role_of(actor),
        action="homecare.check.recorded",
        obj=check,
        person_uuid=person.uuid,
        details={"signs": signs},
    )
    database = connections[DEFAULT_DB_ALIAS]
    if not signs and single_statement_supported() and not database.in_atomic_block:
        created = check_store(check=check, event=event)
    else:
        with transaction.atomic():
            created = check_store(check=check, event=event)
            if created and signs:
                alert_raise(
                    order=order, check=check, signs=signs, sla_minutes=rules.alert_sla_minutes
                )
    if not created:
        return stored_check(order.pk, data.client_key), False
    return check, True


def _replayed(order: CareOrder, data: SelfCheckInput, error: Exception) -> tuple[SelfCheck, bool]:
    """A check already recorded under the key is answered as recorded (a phone's queue
    flushed after the order closed); a new one is refused with `error`."""
    existing = SelfCheck.objects.filter(order=order, client_key=data.client_key).first()
    if existing is None:
        raise error
    return existing, False


def duty_recipients(order: CareOrder) -> list[tuple[Any, str]]:
    """(user, phone) of the station's on-duty list; without one, the commune's officers."""
    duties = list(
        StationDuty.objects.filter(commune_id=order.commune_id, active=True).select_related("user")
    )
    if duties:
        return [(d.user, d.phone or d.user.phone or "") for d in duties]
    officers = RoleAssignment.objects.filter(
        role=Role.COMMUNE_OFFICER, area_id=order.commune_id
    ).select_related("user")
    return [(a.user, a.user.phone or "") for a in officers]


def alert_raise(
    *, order: CareOrder, check: SelfCheck | None, signs: list[str], sla_minutes: int
) -> CareAlert:
    """An alert for the station, with an in-app notice to each officer on duty and an SMS
    to their phones, queued in the caller's transaction: the outbox delivers and retries
    them after the commit, so an SMS outage delays the SMS but never loses the alert."""
    now = timezone.now()
    alert = CareAlert.objects.create(
        order=order,
        self_check=check,
        commune_path=order.commune_path,
        signs=signs,
        due_at=now + datetime.timedelta(minutes=sla_minutes),
    )
    audit_record(
        actor=None,
        actor_role="system",
        action="homecare.alert.raised",
        obj=alert,
        person_uuid=order.person.uuid,
        details={"signs": signs},
    )
    link = reverse("homecare:alert_detail", kwargs={"alert_uuid": alert.uuid})
    items = []
    for user, phone in duty_recipients(order):
        language = account_language(user)
        with translation.override(language):
            signs_text = ", ".join(str(WARNING_TEXT.get(s, s)) for s in signs)
            body = _(
                "Warning signs in home care: %(name)s (%(phone)s), %(signs)s. Act by %(time)s."
            ) % {
                "name": order.person.full_name,
                "phone": order.person.phone or "—",
                "signs": signs_text,
                "time": timezone.localtime(alert.due_at).strftime("%H:%M"),
            }
            subject = _("Warning signs: act now")
        key = f"homecare:alert:{alert.uuid}:{user.pk}"
        items.append(
            OutboxItem(
                channel="inapp",
                user=user,
                subject=subject,
                body=body,
                language=language,
                link=link,
                dedupe_key=f"{key}:inapp",
            )
        )
        if phone:
            items.append(
                OutboxItem(
                    channel="sms",
                    to=phone,
                    user=user,
                    body=body,
                    language=language,
                    sensitive=True,
                    dedupe_key=f"{key}:sms",
                )
            )
    message_queue_many(items)
    return alert
