"""Nothing is lost when a gateway is down: the outbox retries and delivers exactly once."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from covidhub.core.testing import run_queued_tasks
from covidhub.notifications.models import Message
from covidhub.notifications.services import REDACTED, backoff_seconds, message_queue, message_sweep

pytestmark = pytest.mark.django_db


def run_due_tasks() -> None:
    """Run every queued task now, as the worker would once their time comes."""
    Message.objects.filter(status="pending").update(next_attempt_at=None)
    run_queued_tasks()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeGateway:
    """An SMS gateway on loopback that records what it receives and can be taken down."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.received: list[dict] = []
        self.server: ThreadingHTTPServer | None = None

    def up(self) -> None:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                body["auth"] = self.headers.get("Authorization")
                gateway.received.append(body)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def gateway(settings):
    port = free_port()
    settings.SMS_BACKEND = "http"
    settings.SMS_GATEWAY_URL = f"http://127.0.0.1:{port}/send"
    settings.SMS_GATEWAY_TOKEN = "s3cret"
    settings.SMS_GATEWAY_TIMEOUT = 2
    fake = FakeGateway(port)
    yield fake
    fake.down()


def test_default_configuration_keeps_sms_readable_in_the_outbox(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = message_queue(channel="sms", to="+84912345678", body="Xin chào", sensitive=True)
    run_due_tasks()
    message.refresh_from_db()
    assert message.status == Message.Status.HELD and message.body == "Xin chào"


def test_gateway_down_then_up_delivers_each_message_exactly_once(
    gateway, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        queued = [
            message_queue(
                channel="sms", to=f"+8491234567{n}", body=f"message {n}", sensitive=(n == 0)
            )
            for n in range(3)
        ]
    run_due_tasks()  # the gateway is down
    assert set(Message.objects.values_list("status", flat=True)) == {"pending"}
    assert all(m.attempts == 1 and m.last_error for m in Message.objects.all())
    run_due_tasks()  # still down: a second attempt, still nothing lost
    assert set(Message.objects.values_list("attempts", flat=True)) == {2}
    gateway.up()
    run_due_tasks()
    run_due_tasks()
    message_sweep()
    run_due_tasks()
    assert sorted(r["text"] for r in gateway.received) == ["message 0", "message 1", "message 2"]
    assert {r["id"] for r in gateway.received} == {str(m.uuid) for m in queued}
    assert all(r["auth"] == "Bearer s3cret" for r in gateway.received)
    assert set(Message.objects.values_list("status", flat=True)) == {"sent"}
    assert Message.objects.get(pk=queued[0].pk).body == REDACTED  # a sign-in code does not linger


def test_smtp_down_then_up_delivers_exactly_once(settings, django_capture_on_commit_callbacks):
    from aiosmtpd.controller import Controller

    received: list[str] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope.content.decode("utf-8", "replace"))
            return "250 OK"

    port = free_port()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 2},
        }
    }
    with django_capture_on_commit_callbacks(execute=True):
        message = message_queue(
            channel="email", to="an@example.org", subject="Kết quả", body="Âm tính", language="vi"
        )
    run_due_tasks()
    message.refresh_from_db()
    assert message.status == "pending" and message.attempts == 1
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        run_due_tasks()
        run_due_tasks()
    finally:
        controller.stop()
    message.refresh_from_db()
    assert message.status == "sent"
    assert len(received) == 1 and f"<{message.uuid}@covidhub>" in received[0]


def test_backoff_grows_exponentially_and_gives_up(
    settings, gateway, django_capture_on_commit_callbacks
):
    settings.NOTIFY_MAX_ATTEMPTS = 3
    assert [backoff_seconds(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    with django_capture_on_commit_callbacks(execute=True):
        message = message_queue(channel="sms", to="+84912345678", body="x")
    from covidhub.notifications.services import message_deliver

    before = timezone.now()
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == "pending"
    assert (message.next_attempt_at - before).total_seconds() >= 29
    assert message_deliver(message_id=message.pk) == "not_due"
    for _ in range(2):
        Message.objects.filter(pk=message.pk).update(next_attempt_at=None)
        message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == "failed" and message.attempts == 3


def test_dedupe_key_queues_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = message_queue(channel="inapp", body="a", dedupe_key="result:1")
        second = message_queue(channel="inapp", body="a", dedupe_key="result:1")
    assert first.pk == second.pk and Message.objects.count() == 1


def test_inbox_api_lists_only_my_messages_and_paginates(citizen, make_citizen, login):
    other = make_citizen("+84912999999")
    for n in range(25):
        message_queue(channel="inapp", user=citizen, subject=f"s{n}", body="b")
    message_queue(channel="inapp", user=other, subject="not yours", body="b")
    client = login(citizen)
    page = client.get("/api/v1/inbox").json()
    assert page["count"] == 25 and len(page["items"]) == 20
    assert all(item["subject"] != "not yours" for item in page["items"])
    capped = client.get("/api/v1/inbox?limit=1000")
    assert capped.status_code in (200, 422)
    if capped.status_code == 200:
        assert len(capped.json()["items"]) <= 100
