"""Delivery over each channel. A channel raises DeliveryError when it should be retried."""

from __future__ import annotations

import json
import smtplib
import urllib.error
import urllib.request

from django.conf import settings
from django.core.mail import EmailMessage

from covidhub.notifications.models import Message
from covidhub.notifications.sealing import message_text


class DeliveryError(Exception):
    """A temporary failure: the message stays in the outbox and is retried."""


def send_sms(message: Message) -> Message.Status:
    if settings.SMS_BACKEND == "outbox":
        return Message.Status.HELD
    payload = json.dumps(
        {
            "id": str(message.uuid),
            "to": message.to,
            "text": message_text(message),
            "sender": settings.SMS_SENDER,
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - the URL is the operator's own setting
        settings.SMS_GATEWAY_URL,
        data=payload,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Idempotency-Key": str(message.uuid),
            **(
                {"Authorization": f"Bearer {settings.SMS_GATEWAY_TOKEN}"}
                if settings.SMS_GATEWAY_TOKEN
                else {}
            ),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.SMS_GATEWAY_TIMEOUT) as response:  # noqa: S310
            if not 200 <= response.status < 300:
                raise DeliveryError(f"gateway answered {response.status}")
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"gateway answered {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        raise DeliveryError(f"gateway unreachable: {type(exc).__name__}") from exc
    return Message.Status.SENT


def send_email(message: Message) -> Message.Status:
    email = EmailMessage(
        subject=message.subject or settings.PLATFORM_NAME,
        body=message_text(message),
        to=[message.to],
        headers={"Message-ID": f"<{message.uuid}@covidhub>"},
    )
    try:
        email.send(fail_silently=False)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"smtp: {type(exc).__name__}") from exc
    return Message.Status.SENT


def send(message: Message) -> Message.Status:
    if message.channel == Message.Channel.SMS:
        return send_sms(message)
    if message.channel == Message.Channel.EMAIL:
        return send_email(message)
    return Message.Status.SENT  # in-app: stored is delivered
