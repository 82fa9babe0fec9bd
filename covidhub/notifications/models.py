from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Message(models.Model):
    """The outbox: every SMS, e-mail and in-app message, delivered by the task worker.

    A message is written in the same transaction as the event that causes it, so nothing
    is lost when a gateway is down; the worker retries with exponential backoff. The UUID
    goes to the gateway as the message id (and to SMTP as the Message-ID) so that a
    gateway can drop a repeat if the worker dies between sending and recording it.
    """

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("E-mail")
        INAPP = "inapp", _("In the app")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        HELD = "held", _("Kept in the outbox (no gateway configured)")
        FAILED = "failed", _("Failed")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="messages",
    )
    to = models.CharField(_("to"), max_length=254, blank=True)
    language = models.CharField(max_length=5, default="vi")
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"))
    link = models.CharField(max_length=300, blank=True)
    sensitive = models.BooleanField(default=False)
    # The full text of a message whose `body` has its secrets masked, encrypted, until it is
    # sent (covidhub.notifications.sealing).
    sealed = models.TextField(blank=True, default="", editable=False)
    dedupe_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["user", "channel", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.uuid}"
