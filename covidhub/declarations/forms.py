"""Forms of the declaration pages; their cleaning is the same as the API's
(`covidhub.declarations.validation`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from covidhub.core.errors import DomainError, InvalidInput
from covidhub.declarations.models import Exposure, FollowUp, Symptom, Venue
from covidhub.declarations.validation import (
    DeclarationInput,
    VenueInput,
    declaration_input_clean,
    venue_input_clean,
)
from covidhub.people.forms import CommuneFilterForm

YES_NO = [("yes", _("Yes")), ("no", _("No"))]


def errors_to_form(form: forms.Form, exc: DomainError) -> None:
    """Put a domain error's field messages on the form (the rest on top)."""
    fields = exc.details.get("fields", {})
    for name, messages in fields.items():
        for message in messages:
            form.add_error(name if name in form.fields else None, message)
    if not fields:
        form.add_error(None, str(exc.message))


class DeclarationForm(CommuneFilterForm):
    phone = forms.CharField(
        label=_("Phone number"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    commune = forms.ChoiceField(label=_("Commune / ward where you are staying"), required=False)
    address_line = forms.CharField(
        label=_("House number, street, hamlet"), max_length=200, required=False
    )
    travelled = forms.ChoiceField(
        label=_("In the last 14 days, did you travel to another province or place?"),
        choices=YES_NO,
        widget=forms.RadioSelect,
        required=False,
    )
    travel_places = forms.CharField(
        label=_("Where did you travel?"),
        help_text=_("Provinces, cities or places, with the dates if you know them."),
        required=False,
        max_length=600,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    symptoms = forms.MultipleChoiceField(
        label=_("In the last 14 days, have you had any of these symptoms?"),
        choices=Symptom.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    no_symptoms = forms.BooleanField(label=_("None of these symptoms"), required=False)
    other_symptoms = forms.CharField(label=_("Other symptoms"), max_length=400, required=False)
    contact_case = forms.ChoiceField(
        label=_(
            "In the last 14 days, were you in contact with a confirmed or suspected case of COVID-19?"
        ),
        choices=YES_NO,
        widget=forms.RadioSelect,
        required=False,
    )
    contact_outbreak_area = forms.ChoiceField(
        label=_("…with a person from a country or area with COVID-19?"),
        choices=YES_NO,
        widget=forms.RadioSelect,
        required=False,
    )
    contact_symptomatic = forms.ChoiceField(
        label=_("…with a person with fever, cough, shortness of breath or pneumonia?"),
        choices=YES_NO,
        widget=forms.RadioSelect,
        required=False,
    )
    chronic_conditions = forms.CharField(
        label=_("Chronic conditions"),
        help_text=_(
            "For example: diabetes, high blood pressure, heart, lung, kidney or liver disease, cancer, pregnancy."
        ),
        required=False,
        max_length=600,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    consent = forms.BooleanField(
        label=_("I confirm that the information above is true."),
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.declaration_input: DeclarationInput | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            self.declaration_input = declaration_input_clean(data)
        except InvalidInput as exc:
            errors_to_form(self, exc)
        return data


class CheckInForm(forms.Form):
    venue_code = forms.CharField(
        label=_("Venue code"),
        help_text=_("The 8 letters and digits under the QR code on the poster, or scan it."),
        max_length=300,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )
    people = forms.MultipleChoiceField(
        label=_("Who is checking in?"), widget=forms.CheckboxSelectMultiple, required=False
    )

    def __init__(self, *args: Any, household: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["people"].choices = [(str(p.uuid), p.full_name) for p in household]  # type: ignore[attr-defined]
        if not self.is_bound and household:
            self.initial.setdefault("people", [str(household[0].uuid)])

    def clean_people(self) -> list[str]:
        people: list[str] = self.cleaned_data.get("people") or []
        if not people:
            raise forms.ValidationError(_("Choose at least one person to check in."))
        return people


class VenueForm(CommuneFilterForm):
    name = forms.CharField(label=_("Name of the venue"), max_length=150, required=False)
    kind = forms.ChoiceField(
        label=_("Type"), choices=[("", _("Choose…")), *Venue.Kind.choices], required=False
    )
    address_line = forms.CharField(label=_("Address"), max_length=200, required=False)
    commune = forms.ChoiceField(label=_("Commune / ward"), required=False)
    contact_name = forms.CharField(label=_("Contact person"), max_length=150, required=False)
    contact_phone = forms.CharField(
        label=_("Contact phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.venue_input: VenueInput | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            self.venue_input = venue_input_clean(data)
        except InvalidInput as exc:
            errors_to_form(self, exc)
        return data


class VenueStaffForm(forms.Form):
    phone = forms.CharField(
        label=_("Phone number of their account"),
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )


class ScanForm(forms.Form):
    token = forms.CharField(
        label=_("Person's QR code"),
        help_text=_(
            "Scan with the camera, or with a barcode scanner (it types the code and presses Enter)."
        ),
        max_length=300,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autofocus": True, "spellcheck": "false"}
        ),
    )


class CallForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome of the call"),
        choices=FollowUp.Outcome.choices,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class CaseForm(forms.Form):
    query = forms.CharField(
        label=_("Identity number or phone number of the person"),
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    onset_date = forms.DateField(
        label=_("Onset date (symptoms, or the positive sample if none)"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    window_minutes = forms.IntegerField(
        label=_("Time window around each visit (minutes)"),
        min_value=0,
        max_value=1440,
        required=False,
    )


EXPOSURE_LABELS = dict(Exposure.choices)
