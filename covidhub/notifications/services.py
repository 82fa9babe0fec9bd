"""The outbox: queue a message in the caller's transaction; the worker delivers it."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from covidhub.core.errors import NotFound
from covidhub.notifications import sealing
from covidhub.notifications.channels import DeliveryError, send
from covidhub.notifications.models import Message

BACKOFF_CAP_SECONDS = 3600
REDACTED = "[redacted after delivery]"
# Messages handed to one delivery task by `message_queue_many`.
DELIVER_BATCH = 50

logger = logging.getLogger(__name__)


def message_queue(
    *,
    channel: str,
    body: str,
    to: str = "",
    user: Any = None,
    subject: str = "",
    language: str = "vi",
    link: str = "",
    sensitive: bool = False,
    dedupe_key: str | None = None,
    secrets: Sequence[str] = (),
) -> Message:
    """Put a message in the outbox; with `dedupe_key` a repeated call queues nothing new.

    `secrets` (a sign-in code) are masked in the stored text; the full text is kept
    encrypted until the message is sent (covidhub.notifications.sealing).
    """
    if dedupe_key is not None:
        existing = Message.objects.filter(dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing
    status = Message.Status.SENT if channel == Message.Channel.INAPP else Message.Status.PENDING
    message = Message(
        channel=channel,
        to=to,
        user=user if getattr(user, "pk", None) else None,
        subject=subject[:200],
        body=body,
        link=link,
        language=language,
        sensitive=sensitive,
        dedupe_key=dedupe_key,
        status=status,
        sent_at=timezone.now() if status == Message.Status.SENT else None,
    )
    _seal(message, secrets)
    try:
        with transaction.atomic():
            message.save(force_insert=True)
    except IntegrityError:
        if dedupe_key is None:
            raise
        return Message.objects.get(dedupe_key=dedupe_key)
    if status == Message.Status.PENDING:
        transaction.on_commit(lambda: _enqueue(message.pk))
    return message


@dataclass(frozen=True)
class OutboxItem:
    """One message for `message_queue_many`: the arguments of `message_queue`."""

    channel: str
    body: str
    to: str = ""
    user: Any = None
    subject: str = ""
    language: str = "vi"
    link: str = ""
    sensitive: bool = False
    dedupe_key: str | None = None
    secrets: tuple[str, ...] = ()


def person_notice_items(
    person: Any, *, subject: str, body: str, language: str, link: str, key: str
) -> list[OutboxItem]:
    """A notice to a person on the channels that reach them: in the app of the account that
    manages them, and by SMS to their own phone or else that account's. `key` makes each
    channel's message once only (`<key>:inapp`, `<key>:sms`)."""
    account = person.managed_by
    items = []
    if account is not None:
        items.append(
            OutboxItem(
                channel="inapp",
                user=account,
                subject=subject,
                body=body,
                language=language,
                link=link,
                dedupe_key=f"{key}:inapp",
            )
        )
    phone = person.phone or getattr(account, "phone", "") or ""
    if phone:
        items.append(
            OutboxItem(
                channel="sms",
                to=phone,
                body=body,
                language=language,
                sensitive=True,
                dedupe_key=f"{key}:sms",
            )
        )
    return items


def _seal(message: Message, secrets: Sequence[str]) -> None:
    """Mask the secrets in the stored text, keep the full text sealed (in-app messages are
    read in the app, so they must not carry a secret at all)."""
    if not any(secrets):
        return
    if message.channel == Message.Channel.INAPP:
        raise ValueError("an in-app message cannot carry a secret")
    message.sealed = sealing.text_seal(message.body, message_uuid=str(message.uuid))
    message.body = sealing.text_mask(message.body, secrets)


def message_queue_many(items: Sequence[OutboxItem]) -> None:
    """Put many messages in the outbox, as `message_queue` would one by one.

    One query finds the dedupe keys already queued (those items queue nothing new), one
    insert writes the rest, and after the commit their deliveries are handed to the worker
    in tasks of `DELIVER_BATCH` messages, written in one transaction. Should another writer queue one of the keys meanwhile, the insert
    is undone and the items go through `message_queue` one by one.
    """
    keys = [item.dedupe_key for item in items if item.dedupe_key is not None]
    existing: set[str | None] = set()
    for start in range(0, len(keys), 5000):
        existing.update(
            Message.objects.filter(dedupe_key__in=keys[start : start + 5000]).values_list(
                "dedupe_key", flat=True
            )
        )
    now = timezone.now()
    fresh: list[Message] = []
    for item in items:
        if item.dedupe_key is not None:
            if item.dedupe_key in existing:
                continue
            existing.add(item.dedupe_key)
        sent = item.channel == Message.Channel.INAPP
        fresh.append(
            message := Message(
                channel=item.channel,
                to=item.to,
                user=item.user if getattr(item.user, "pk", None) else None,
                subject=item.subject[:200],
                body=item.body,
                link=item.link,
                language=item.language,
                sensitive=item.sensitive,
                dedupe_key=item.dedupe_key,
                status=Message.Status.SENT if sent else Message.Status.PENDING,
                sent_at=now if sent else None,
            )
        )
        _seal(message, item.secrets)
    if not fresh:
        return
    try:
        with transaction.atomic():
            created = Message.objects.bulk_create(fresh, batch_size=1000)
    except IntegrityError:
        for item in items:
            message_queue(
                channel=item.channel,
                body=item.body,
                to=item.to,
                user=item.user,
                subject=item.subject,
                language=item.language,
                link=item.link,
                sensitive=item.sensitive,
                dedupe_key=item.dedupe_key,
                secrets=item.secrets,
            )
        return
    pending = [message.pk for message in created if message.status == Message.Status.PENDING]
    if pending:
        transaction.on_commit(lambda: _enqueue_many(pending))


def _enqueue_many(message_ids: list[int]) -> None:
    from covidhub.notifications.tasks import message_deliver_many

    task = message_deliver_many.using(queue_name="notifications")
    with transaction.atomic():
        for start in range(0, len(message_ids), DELIVER_BATCH):
            task.enqueue(message_ids[start : start + DELIVER_BATCH])


def message_deliver_many(*, message_ids: list[int]) -> dict[str, int]:
    """Deliver several messages in turn, each as `message_deliver` does; how many ended how.

    One message's unexpected error does not hold back the others: it is logged, and the
    message (left `sending`) is queued again by the sweep, as after a lost task.
    """
    outcomes: dict[str, int] = {}
    for message_id in message_ids:
        try:
            outcome = message_deliver(message_id=message_id)
        except Exception:
            logger.exception("message delivery failed", extra={"message_id": message_id})
            outcome = "error"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def _enqueue(message_id: int, run_after: datetime.datetime | None = None) -> None:
    from covidhub.notifications.tasks import message_deliver

    task = message_deliver.using(queue_name="notifications")
    if run_after is not None:
        task = task.using(run_after=run_after)
    task.enqueue(message_id)


def backoff_seconds(attempts: int) -> int:
    return int(
        min(BACKOFF_CAP_SECONDS, settings.NOTIFY_BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
    )


def message_deliver(*, message_id: int) -> str:
    """Send one message if it is due; on a temporary failure schedule the next attempt.

    The row is claimed (pending → sending) in a short transaction before the network call,
    so that two workers never send the same message.
    """
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.status != Message.Status.PENDING:
            return "skipped"
        if message.next_attempt_at and message.next_attempt_at > now:
            return "not_due"
        message.status = Message.Status.SENDING
        message.attempts += 1
        message.save(update_fields=["status", "attempts", "updated_at"])
    if message.sealed and sealing.text_open(message.sealed, message_uuid=str(message.uuid)) is None:
        # Sealed under another SECRET_KEY: sending the masked text would send dots for a code.
        message.status = Message.Status.FAILED
        message.sealed = ""
        message.last_error = "the sealed text could not be opened (SECRET_KEY changed)"
        message.save(update_fields=["status", "sealed", "last_error", "updated_at"])
        return "failed"
    try:
        outcome = send(message)
    except DeliveryError as exc:
        message.last_error = str(exc)[:300]
        if message.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
            message.status = Message.Status.FAILED
            message.next_attempt_at = None
        else:
            message.status = Message.Status.PENDING
            message.next_attempt_at = timezone.now() + datetime.timedelta(
                seconds=backoff_seconds(message.attempts)
            )
        fields = ["status", "next_attempt_at", "last_error", "updated_at"]
        if message.status == Message.Status.FAILED and message.sealed:
            message.sealed = ""  # given up: the secret goes too
            fields.append("sealed")
        message.save(update_fields=fields)
        if message.status == Message.Status.PENDING and message.next_attempt_at:
            _enqueue(message.pk, run_after=message.next_attempt_at)
        return "retry" if message.status == Message.Status.PENDING else "failed"
    message.status = outcome
    message.sent_at = timezone.now()
    message.last_error = ""
    fields = ["status", "sent_at", "last_error", "updated_at"]
    if message.sensitive and outcome == Message.Status.SENT:
        # Health news has no business staying in the database once it left.
        message.body = REDACTED
        fields.append("body")
    if message.sealed and (outcome == Message.Status.SENT or settings.PRODUCTION):
        # Left (or held where nobody can read it): the secret is no longer needed. Only the
        # demo outbox keeps it, to show the code on its page.
        message.sealed = ""
        fields.append("sealed")
    message.save(update_fields=fields)
    return str(outcome)


def message_sweep() -> int:
    """Re-enqueue due messages whose task was lost (a worker killed mid-send, a crash)."""
    now = timezone.now()
    stuck = now - datetime.timedelta(seconds=settings.NOTIFY_SENDING_STUCK_SECONDS)
    Message.objects.filter(status=Message.Status.SENDING, updated_at__lt=stuck).update(
        status=Message.Status.PENDING, next_attempt_at=now
    )
    due = list(
        Message.objects.filter(status=Message.Status.PENDING)
        .filter(next_attempt_at__isnull=True, created_at__lt=now - datetime.timedelta(minutes=2))
        .values_list("pk", flat=True)[:1000]
    ) + list(
        Message.objects.filter(status=Message.Status.PENDING, next_attempt_at__lte=now).values_list(
            "pk", flat=True
        )[:1000]
    )
    for pk in due:
        _enqueue(pk)
    return len(due)


def inbox_mark_read(*, user: Any, message_uuid: str) -> None:
    """Mark one of the user's in-app messages read; another's is NotFound (404), like
    every object outside an actor's reach, rather than a silent success."""
    mine = Message.objects.filter(user=user, uuid=message_uuid, channel=Message.Channel.INAPP)
    if not mine.filter(read_at__isnull=True).update(read_at=timezone.now()) and not mine.exists():
        raise NotFound()
