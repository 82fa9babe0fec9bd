"""Writes of the portal: official case entries, announcements, images, support tickets."""

from __future__ import annotations

import datetime
import io
import re
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from covidhub.accounts.scoping import OFFICER_ROLES, actor_scope, primary_role
from covidhub.areas.models import Area
from covidhub.audit.services import audit_record
from covidhub.core.errors import InvalidInput, NotFound
from covidhub.core.phones import InvalidPhone, phone_normalise
from covidhub.core.text import fold_ascii, nfc
from covidhub.notifications.services import message_queue
from covidhub.portal import cache as portal_cache
from covidhub.portal.errors import (
    AnnouncementState,
    TicketClosed,
    TicketJunk,
    TicketRateLimited,
)
from covidhub.portal.models import (
    Announcement,
    Category,
    OfficialCaseCount,
    PortalImage,
    SupportTicket,
    TicketReply,
)
from covidhub.portal.sanitise import plain_text_clean, rich_text_clean

EDITOR_ROLES = ("portal_editor", "administrator")
SUPPORT_ROLES = ("portal_editor", "administrator")
MAX_CASES_PER_ENTRY = 1_000_000
IMAGE_MAX_BYTES = 2 * 1024 * 1024
IMAGE_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}
TICKETS_PER_ADDRESS_PER_HOUR = 5


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(details={"fields": {field: [message]}})


def _bump_on_commit() -> None:
    transaction.on_commit(portal_cache.bump)


# Official case counts ------------------------------------------------------------------


def official_count_enter(
    *, actor: Any, area: Area, day: datetime.date, cases: int, source: str
) -> OfficialCaseCount:
    """Record (or correct) the official number of new cases of an area on a day.

    Officers enter figures only for their own area (a commune officer for their commune, a
    district officer for their district and its communes); the entry is audited and the
    days it touches are rolled up again at once.
    """
    scope = actor_scope(actor)
    if not scope.has_role(*OFFICER_ROLES) or not scope.covers_path(area.path):
        raise NotFound()
    source = nfc(source or "")
    errors: dict[str, list[str]] = {}
    if day > timezone.localdate():
        errors["day"] = [_("The day cannot be in the future.")]
    if not 0 <= cases <= MAX_CASES_PER_ENTRY:
        errors["cases"] = [_("Enter a number of cases from 0 to 1,000,000.")]
    if len(source) < 3:
        errors["source"] = [_("Say where the figure comes from (for example the bulletin).")]
    if errors:
        raise InvalidInput(details={"fields": errors})
    with transaction.atomic():
        entry = OfficialCaseCount.objects.select_for_update().filter(area=area, day=day).first()
        previous = entry.cases if entry else None
        if entry is None:
            try:
                with transaction.atomic():
                    entry = OfficialCaseCount.objects.create(
                        area=area, day=day, cases=cases, source=source, entered_by=actor
                    )
            except IntegrityError:
                entry = OfficialCaseCount.objects.select_for_update().get(area=area, day=day)
                previous = entry.cases
        if previous is not None:
            entry.cases, entry.source, entry.entered_by = cases, source, actor
            entry.save(update_fields=["cases", "source", "entered_by", "updated_at"])
        audit_record(
            actor=actor,
            action="portal.official_count.entered",
            obj=entry,
            actor_role=primary_role(scope),
            details={
                "area": area.code,
                "day": day.isoformat(),
                "cases": cases,
                "previous": previous,
            },
        )
        _rollup_on_commit(day)
    return entry


def official_count_remove(*, actor: Any, entry: OfficialCaseCount) -> None:
    scope = actor_scope(actor)
    if not scope.has_role(*OFFICER_ROLES) or not scope.covers_path(entry.area.path):
        raise NotFound()
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="portal.official_count.removed",
            obj=entry,
            actor_role=primary_role(scope),
            details={"area": entry.area.code, "day": entry.day.isoformat(), "cases": entry.cases},
        )
        day = entry.day
        entry.delete()
        _rollup_on_commit(day)


def _rollup_on_commit(day: datetime.date) -> None:
    from covidhub.portal.tasks import stats_rollup_days

    transaction.on_commit(
        lambda: stats_rollup_days.enqueue(since=day.isoformat(), until=day.isoformat())
    )


# Announcements and images --------------------------------------------------------------


@dataclass(frozen=True)
class AnnouncementInput:
    title: str
    summary: str
    body: str
    language: str
    category: Category
    image: PortalImage | None


def announcement_input_clean(raw: dict[str, Any]) -> AnnouncementInput:
    errors: dict[str, list[str]] = {}
    title = nfc(plain_text_clean(str(raw.get("title") or "")))
    summary = nfc(plain_text_clean(str(raw.get("summary") or "")))
    body = rich_text_clean(str(raw.get("body") or ""))
    language = str(raw.get("language") or "")
    category = raw.get("category")
    if not 3 <= len(title) <= 200:
        errors["title"] = [_("Enter a title of 3 to 200 characters.")]
    if len(summary) > 400:
        errors["summary"] = [_("Keep the summary under 400 characters.")]
    if not plain_text_clean(body):
        errors["body"] = [_("Write the text of the announcement.")]
    if language not in ("vi", "en"):
        errors["language"] = [_("Choose the language of the announcement.")]
    if not isinstance(category, Category):
        errors["category"] = [_("Choose a category.")]
    if errors:
        raise InvalidInput(details={"fields": errors})
    image = raw.get("image")
    return AnnouncementInput(
        title=title,
        summary=summary,
        body=body,
        language=language,
        category=category,  # type: ignore[arg-type]
        image=image if isinstance(image, PortalImage) else None,
    )


def _unique_slug(title: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", fold_ascii(title)).strip("-")[:90] or "thong-bao"
    slug = base
    while Announcement.objects.filter(slug=slug).exists():
        slug = f"{base}-{secrets.token_hex(3)}"
    return slug


def announcement_save(
    *, actor: Any, data: AnnouncementInput, announcement: Announcement | None = None
) -> Announcement:
    """Create a draft, or change an announcement (a published one stays published)."""
    if not actor_scope(actor).has_role(*EDITOR_ROLES):
        raise NotFound()
    with transaction.atomic():
        if announcement is None:
            announcement = Announcement(
                slug=_unique_slug(data.title), created_by=actor, updated_by=actor
            )
            action = "portal.announcement.created"
        else:
            announcement = Announcement.objects.select_for_update().get(pk=announcement.pk)
            action = "portal.announcement.changed"
        announcement.title = data.title
        announcement.summary = data.summary
        announcement.body = data.body
        announcement.language = data.language
        announcement.category = data.category
        announcement.image = data.image
        announcement.updated_by = actor
        announcement.save()
        audit_record(actor=actor, action=action, obj=announcement)
        _bump_on_commit()
    return announcement


def announcement_publish(
    *, actor: Any, announcement: Announcement, publish_at: datetime.datetime | None = None
) -> Announcement:
    """Publish now, or schedule for `publish_at` (the minute job publishes it then)."""
    if not actor_scope(actor).has_role(*EDITOR_ROLES):
        raise NotFound()
    now = timezone.now()
    with transaction.atomic():
        announcement = Announcement.objects.select_for_update().get(pk=announcement.pk)
        if announcement.status == Announcement.Status.PUBLISHED:
            raise AnnouncementState(_("The announcement is already published."))
        if publish_at is not None and publish_at > now:
            announcement.status = Announcement.Status.SCHEDULED
            announcement.publish_at = publish_at
            action = "portal.announcement.scheduled"
        else:
            announcement.status = Announcement.Status.PUBLISHED
            announcement.publish_at = now
            announcement.published_at = now
            action = "portal.announcement.published"
        announcement.updated_by = actor
        announcement.save()
        audit_record(
            actor=actor,
            action=action,
            obj=announcement,
            details={"publish_at": announcement.publish_at.isoformat()}
            if announcement.publish_at
            else {},
        )
        _bump_on_commit()
    return announcement


def announcement_withdraw(*, actor: Any, announcement: Announcement) -> Announcement:
    """Take an announcement off the portal (or cancel its schedule); it can be republished."""
    if not actor_scope(actor).has_role(*EDITOR_ROLES):
        raise NotFound()
    with transaction.atomic():
        announcement = Announcement.objects.select_for_update().get(pk=announcement.pk)
        if announcement.status not in (
            Announcement.Status.PUBLISHED,
            Announcement.Status.SCHEDULED,
        ):
            raise AnnouncementState()
        announcement.status = Announcement.Status.WITHDRAWN
        announcement.updated_by = actor
        announcement.save()
        audit_record(actor=actor, action="portal.announcement.withdrawn", obj=announcement)
        _bump_on_commit()
    return announcement


def announcement_publish_due(*, now: datetime.datetime | None = None) -> int:
    """Publish every scheduled announcement whose time has come; returns how many."""
    now = now or timezone.now()
    published = 0
    with transaction.atomic():
        for announcement in Announcement.objects.select_for_update(skip_locked=True).filter(
            status=Announcement.Status.SCHEDULED, publish_at__lte=now
        ):
            announcement.status = Announcement.Status.PUBLISHED
            announcement.published_at = announcement.publish_at
            announcement.save(update_fields=["status", "published_at", "updated_at"])
            audit_record(actor=None, action="portal.announcement.published", obj=announcement)
            published += 1
        if published:
            _bump_on_commit()
    return published


def image_upload(*, actor: Any, file: UploadedFile[Any], alt: str) -> PortalImage:
    """Store an image for announcements after checking that it is one (Pillow)."""
    from PIL import Image, UnidentifiedImageError

    if not actor_scope(actor).has_role(*EDITOR_ROLES):
        raise NotFound()
    alt = nfc(plain_text_clean(alt))
    if not 3 <= len(alt) <= 200:
        raise _invalid("alt", _("Describe the image in a few words for people who cannot see it."))
    if file.size is None or file.size > IMAGE_MAX_BYTES:
        raise _invalid("file", _("The image must be smaller than 2 MB."))
    data = file.read()
    try:
        with Image.open(io.BytesIO(data)) as probe:
            image_format = probe.format or ""
            probe.verify()
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise _invalid("file", _("This file is not an image (PNG, JPEG, WebP or GIF).")) from exc
    if image_format not in IMAGE_FORMATS:
        raise _invalid("file", _("This file is not an image (PNG, JPEG, WebP or GIF)."))
    file.seek(0)
    with transaction.atomic():
        image = PortalImage(content_type=IMAGE_FORMATS[image_format], alt=alt, uploaded_by=actor)
        extension = {"JPEG": "jpg"}.get(image_format, image_format.lower())
        image.file.save(f"{image.uuid}.{extension}", file, save=False)
        image.save()
        audit_record(actor=actor, action="portal.image.uploaded", obj=image)
    return image


# Support tickets -----------------------------------------------------------------------

_URL = re.compile(r"(https?://|www\.)", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


@dataclass(frozen=True)
class TicketInput:
    name: str
    phone: str
    email: str
    topic: str
    message: str


def ticket_input_clean(raw: dict[str, Any]) -> TicketInput:
    """Check a contact-form submission; junk is refused with one clear message."""
    errors: dict[str, list[str]] = {}
    name = nfc(plain_text_clean(str(raw.get("name") or "")))
    message = plain_text_clean(str(raw.get("message") or "")).replace("\r\n", "\n").strip()
    topic = str(raw.get("topic") or "")
    phone = ""
    email = ""
    if not 2 <= len(name) <= 120 or not _LETTER.search(name):
        errors["name"] = [_("Enter your name.")]
    if topic not in SupportTicket.Topic.values:
        errors["topic"] = [_("Choose what your question is about.")]
    raw_phone = str(raw.get("phone") or "").strip()
    raw_email = str(raw.get("email") or "").strip()
    if raw_phone:
        try:
            phone = phone_normalise(raw_phone)
        except InvalidPhone as exc:
            errors["phone"] = [str(exc.message)]
    if raw_email:
        try:
            validate_email(raw_email)
            email = raw_email.lower()
        except ValidationError:
            errors["email"] = [_("Enter a valid e-mail address.")]
    if not raw_phone and not raw_email:
        errors["phone"] = [_("Give a phone number or an e-mail address so that we can answer.")]
    if len(message) < 20:
        errors["message"] = [_("Describe your question in at least 20 characters.")]
    elif len(message) > 4000:
        errors["message"] = [_("Keep your message under 4,000 characters.")]
    if errors:
        raise InvalidInput(details={"fields": errors})
    letters = len(_LETTER.findall(message))
    if (
        len(_URL.findall(message)) > 2
        or letters < 0.5 * len(message.replace(" ", "").replace("\n", ""))
        or len(set(message.lower())) < 8
        or _URL.search(name)
    ):
        raise TicketJunk()
    return TicketInput(name=name, phone=phone, email=email, topic=topic, message=message)


def _ticket_reference() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "HT-" + "".join(secrets.choice(alphabet) for _ in range(7))


def ticket_open(*, data: TicketInput, client_address: str | None, language: str) -> SupportTicket:
    """Open a support ticket from the contact form (limited per network address)."""
    limit = int(getattr(settings, "PORTAL_TICKETS_PER_HOUR", TICKETS_PER_ADDRESS_PER_HOUR))
    with transaction.atomic():
        if client_address:
            hour_ago = timezone.now() - datetime.timedelta(hours=1)
            recent = SupportTicket.objects.filter(
                client_address=client_address, created_at__gte=hour_ago
            ).count()
            if recent >= limit:
                raise TicketRateLimited()
        ticket = SupportTicket.objects.create(
            reference=_ticket_reference(),
            name=data.name,
            phone=data.phone,
            email=data.email,
            topic=data.topic,
            message=data.message,
            language=language if language in ("vi", "en") else "vi",
            client_address=client_address,
        )
        audit_record(
            actor=None,
            action="portal.ticket.opened",
            obj=ticket,
            details={"topic": ticket.topic},
        )
    return ticket


def ticket_answer(*, actor: Any, ticket: SupportTicket, body: str) -> TicketReply:
    """Answer a ticket; the answer goes to the person by SMS or e-mail."""
    if not actor_scope(actor).has_role(*SUPPORT_ROLES):
        raise NotFound()
    body = plain_text_clean(body).replace("\r\n", "\n").strip()
    if len(body) < 2:
        raise _invalid("body", _("Write the answer."))
    with transaction.atomic():
        ticket = SupportTicket.objects.select_for_update().get(pk=ticket.pk)
        if ticket.status == SupportTicket.Status.CLOSED:
            raise TicketClosed()
        reply = TicketReply.objects.create(ticket=ticket, author=actor, body=body)
        ticket.status = SupportTicket.Status.ANSWERED
        ticket.save(update_fields=["status", "updated_at"])
        with translation.override(ticket.language):
            subject = _("Answer to your question %(reference)s") % {"reference": ticket.reference}
            text = _("%(subject)s:\n%(answer)s\nSupport line: %(phone)s") % {
                "subject": subject,
                "answer": body,
                "phone": settings.SUPPORT_PHONE,
            }
        channel, to = ("sms", ticket.phone) if ticket.phone else ("email", ticket.email)
        message_queue(
            channel=channel,
            to=to,
            subject=subject,
            body=text,
            language=ticket.language,
            dedupe_key=f"portal-ticket-reply:{reply.pk}",
        )
        audit_record(
            actor=actor,
            action="portal.ticket.answered",
            obj=ticket,
            actor_role=primary_role(actor_scope(actor)),
        )
    return reply


def ticket_close(*, actor: Any, ticket: SupportTicket) -> SupportTicket:
    if not actor_scope(actor).has_role(*SUPPORT_ROLES):
        raise NotFound()
    with transaction.atomic():
        ticket = SupportTicket.objects.select_for_update().get(pk=ticket.pk)
        if ticket.status == SupportTicket.Status.CLOSED:
            raise TicketClosed()
        ticket.status = SupportTicket.Status.CLOSED
        ticket.closed_at = timezone.now()
        ticket.closed_by = actor
        ticket.save(update_fields=["status", "closed_at", "closed_by", "updated_at"])
        audit_record(
            actor=actor,
            action="portal.ticket.closed",
            obj=ticket,
            actor_role=primary_role(actor_scope(actor)),
        )
    return ticket
