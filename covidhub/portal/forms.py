from __future__ import annotations

import datetime
import time
from typing import Any

from django import forms
from django.conf import settings
from django.core import signing
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from covidhub.areas.models import Area
from covidhub.portal.models import Announcement, Category, PortalImage, SupportTicket

FORM_SALT = "portal.contact"


def contact_stamp() -> str:
    return signing.dumps(time.time(), salt=FORM_SALT)


def contact_stamp_age(token: str) -> float | None:
    try:
        issued = float(signing.loads(token, salt=FORM_SALT, max_age=24 * 3600))
    except (signing.BadSignature, TypeError, ValueError):
        return None
    return time.time() - issued


class ContactForm(forms.Form):
    stamp = forms.CharField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(
        label=_("Your name"), max_length=120, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    phone = forms.CharField(
        label=_("Phone number"),
        max_length=30,
        required=False,
        help_text=_("We answer by SMS to this number, or by e-mail if you give only an e-mail."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    email = forms.CharField(
        label=_("E-mail"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    topic = forms.ChoiceField(label=_("What is it about?"), choices=SupportTicket.Topic.choices)
    message = forms.CharField(
        label=_("Your question"),
        max_length=4000,
        help_text=_("Do not write identity numbers or test results here."),
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    # A field people never see: robots fill it in.
    website = forms.CharField(label=_("Leave this empty"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("stamp", contact_stamp())

    def visible_fields(self) -> list[Any]:
        return [f for f in super().visible_fields() if f.name != "website"]

    def looks_automated(self) -> bool:
        if self.cleaned_data.get("website"):
            return True
        age = contact_stamp_age(self.cleaned_data.get("stamp") or "")
        minimum = float(getattr(settings, "PORTAL_CONTACT_MIN_SECONDS", 3))
        return age is None or age < minimum


class OfficialCountForm(forms.Form):
    area = forms.ModelChoiceField(
        label=_("Area"), queryset=Area.objects.none(), to_field_name="code"
    )
    day = forms.DateField(
        label=_("Day"),
        input_formats=["%d/%m/%Y", "%Y-%m-%d"],
        help_text=_("DD/MM/YYYY"),
        widget=forms.DateInput(attrs={"placeholder": "17/08/2021"}),
    )
    cases = forms.IntegerField(label=_("New cases"), min_value=0, max_value=1_000_000)
    source = forms.CharField(
        label=_("Source"),
        max_length=300,
        help_text=_("Where the figure comes from, e.g. “Bản tin Bộ Y tế 18 giờ, 17/08/2021”."),
    )

    def __init__(self, *args: Any, areas: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas  # type: ignore[attr-defined]
        self.fields["area"].label_from_instance = lambda a: (  # type: ignore[attr-defined]
            a.name if a.level < 3 else f"{a.name} ({a.parent.name if a.parent else ''})"
        )
        if not self.is_bound:
            self.initial.setdefault("day", timezone.localdate().strftime("%d/%m/%Y"))


class AnnouncementForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    language = forms.ChoiceField(
        label=_("Language"), choices=[("vi", "Tiếng Việt"), ("en", "English")]
    )
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=Category.objects.all(), to_field_name="slug"
    )
    summary = forms.CharField(
        label=_("Summary"),
        max_length=400,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    body = forms.CharField(
        label=_("Text"),
        help_text=_(
            "Plain paragraphs separated by a blank line, or simple HTML: headings (h2, h3), "
            "bold, italic, lists, links, tables and images from the image library."
        ),
        widget=forms.Textarea(attrs={"rows": 14}),
    )
    image = forms.ModelChoiceField(
        label=_("Illustration"),
        queryset=PortalImage.objects.all(),
        required=False,
        to_field_name="uuid",
    )

    @classmethod
    def for_announcement(cls, announcement: Announcement) -> AnnouncementForm:
        return cls(
            initial={
                "title": announcement.title,
                "language": announcement.language,
                "category": announcement.category.slug,
                "summary": announcement.summary,
                "body": announcement.body,
                "image": announcement.image.uuid if announcement.image else None,
            }
        )


class PublishForm(forms.Form):
    publish_at = forms.DateTimeField(
        label=_("Publish at (leave empty to publish now)"),
        required=False,
        input_formats=["%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def clean_publish_at(self) -> datetime.datetime | None:
        value: datetime.datetime | None = self.cleaned_data.get("publish_at")
        return value


class ImageForm(forms.Form):
    file = forms.ImageField(label=_("Image (PNG, JPEG, WebP or GIF, up to 2 MB)"))
    alt = forms.CharField(label=_("Description for screen readers"), max_length=200)


class AnswerForm(forms.Form):
    body = forms.CharField(
        label=_("Answer"), max_length=1000, widget=forms.Textarea(attrs={"rows": 5})
    )
