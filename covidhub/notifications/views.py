from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from covidhub.notifications.models import Message
from covidhub.notifications.sealing import message_text


@require_GET
def dev_outbox(request: HttpRequest) -> HttpResponse:
    """Demo only: the SMS kept in the outbox when no gateway is configured."""
    if settings.PRODUCTION or settings.SMS_BACKEND != "outbox":
        raise Http404
    outbox = Message.objects.filter(channel=Message.Channel.SMS).order_by("-created_at", "-id")[:30]
    # The demo shows the codes it kept sealed: there is no phone to receive them.
    rows = [(message, message_text(message)) for message in outbox]
    return render(request, "notifications/dev_outbox.html", {"outbox": rows})


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    messages = Message.objects.filter(
        user_id=int(request.user.pk or 0), channel=Message.Channel.INAPP
    )
    page = Paginator(messages, 20).get_page(request.GET.get("page"))
    unread = [m.pk for m in page if m.read_at is None]
    if unread:
        from django.utils import timezone

        Message.objects.filter(pk__in=unread).update(read_at=timezone.now())
    return render(request, "notifications/inbox.html", {"page": page})
