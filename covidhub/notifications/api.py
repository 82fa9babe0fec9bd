from __future__ import annotations

import datetime
import uuid

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Schema, Status

from covidhub.accounts.api_auth import request_user
from covidhub.core.api_base import Router
from covidhub.notifications.models import Message
from covidhub.notifications.services import inbox_mark_read

router = Router(tags=["inbox"])


class MessageOut(Schema):
    uuid: uuid.UUID
    subject: str
    body: str
    link: str
    created_at: datetime.datetime
    read_at: datetime.datetime | None


@router.get("/inbox", response=list[MessageOut], summary="In-app messages")
def inbox(request: HttpRequest) -> QuerySet[Message]:
    return Message.objects.filter(user=request_user(request), channel=Message.Channel.INAPP)


@router.post("/inbox/{uuid:message_uuid}/read", response={204: None})
def mark_read(request: HttpRequest, message_uuid: uuid.UUID) -> Status[None]:
    inbox_mark_read(user=request_user(request), message_uuid=str(message_uuid))
    return Status(204, None)
