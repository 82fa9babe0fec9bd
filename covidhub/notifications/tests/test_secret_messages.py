"""Sign-in codes never sit in clear in the outbox (issue 16, finding 14): the stored text has
the code masked, the full text is sealed until the gateway has it, and old rows are scrubbed."""

from __future__ import annotations

import re
from importlib import import_module

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client

from covidhub.accounts.services import phone_code_request
from covidhub.core.testing import run_queued_tasks
from covidhub.notifications.models import Message
from covidhub.notifications.sealing import message_text
from covidhub.notifications.services import message_queue
from covidhub.notifications.tests.test_outbox import gateway  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db
PHONE = "+84912345678"


def code_sent() -> tuple[Message, str]:
    with_code = Message.objects.get(channel="sms", to=PHONE)
    found = re.search(r"\b(\d{6})\b", message_text(with_code))
    assert found is not None
    return with_code, found.group(1)


def stored_text() -> str:
    """Every text column of the outbox, as a database reader or a backup sees it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT body, sealed, subject, last_error FROM notifications_message")
        return " ".join(str(value) for row in cursor.fetchall() for value in row)


def test_the_code_is_never_stored_in_clear_and_reaches_the_gateway(
    gateway,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    gateway.up()
    with django_capture_on_commit_callbacks(execute=True):
        phone_code_request(phone=PHONE, client_address="10.0.0.1", language="en")
    message, code = code_sent()
    assert code not in stored_text()
    assert message.body.startswith("•••••• is your covidhub sign-in code")
    run_queued_tasks()
    assert [sms["text"][:6] for sms in gateway.received] == [code]
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and message.sealed == ""
    assert code not in stored_text()


def test_a_message_given_up_on_forgets_its_secret(gateway, settings):  # noqa: F811
    settings.NOTIFY_MAX_ATTEMPTS = 1  # the gateway is down: one attempt, then failed
    message = message_queue(channel="sms", to=PHONE, body="123456 is it", secrets=["123456"])
    from covidhub.notifications.services import message_deliver

    assert message_deliver(message_id=message.pk) == "failed"
    message.refresh_from_db()
    assert message.sealed == "" and message.body == "•••••• is it"


def test_in_production_an_outbox_without_gateway_keeps_no_code(
    settings, django_capture_on_commit_callbacks
):
    settings.PRODUCTION = True
    with django_capture_on_commit_callbacks(execute=True):
        phone_code_request(phone=PHONE, client_address="10.0.0.1", language="vi")
    run_queued_tasks()
    message = Message.objects.get()
    assert message.status == Message.Status.HELD and message.sealed == ""
    assert not re.search(r"\d{6}", message_text(message))


def test_the_demo_outbox_still_shows_the_code(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        phone_code_request(phone=PHONE, client_address="10.0.0.1", language="vi")
    run_queued_tasks()
    _message, code = code_sent()
    assert code in Client().get("/dev/outbox/").content.decode()
    assert code not in stored_text()


def test_the_upgrade_scrubs_codes_already_stored():
    old = [
        Message.objects.create(
            channel="sms",
            to=PHONE,
            body="482913 is your covidhub sign-in code. It is valid for 5 minutes.",
            status="held",
        ),
        Message.objects.create(
            channel="sms",
            to=PHONE,
            body="551204 là mã đăng nhập covidhub của bạn, có hiệu lực trong 5 phút.",
            status="pending",
        ),
    ]
    other = Message.objects.create(channel="sms", to=PHONE, body="Lịch tiêm 123456", status="sent")
    migration = import_module("covidhub.notifications.migrations.0002_message_sealed")
    migration.scrub_sign_in_codes(apps, None)
    first, second = (Message.objects.get(pk=m.pk) for m in old)
    assert first.body.startswith("•••••• is your covidhub") and first.status == "held"
    assert second.body.startswith("•••••• là mã đăng nhập") and second.status == "failed"
    assert "482913" not in stored_text() and "551204" not in stored_text()
    assert Message.objects.get(pk=other.pk).body == "Lịch tiêm 123456"


def test_a_sealed_text_that_cannot_be_opened_is_not_sent_masked(gateway, settings):  # noqa: F811
    gateway.up()
    message = message_queue(channel="sms", to=PHONE, body="654321 is it", secrets=["654321"])
    settings.SECRET_KEY = "another secret key, as after a rotation " * 2
    from covidhub.notifications.services import message_deliver

    assert message_deliver(message_id=message.pk) == "failed"
    assert gateway.received == []
    message.refresh_from_db()
    assert message.sealed == "" and message.status == Message.Status.FAILED
