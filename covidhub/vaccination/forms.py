"""Forms of the vaccination pages; they only shape input, the services validate it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from covidhub.core.dates import date_text
from covidhub.vaccination.checklists import HEALTH_QUESTIONS, SCREENING_CHECKLIST
from covidhub.vaccination.models import (
    AdverseEvent,
    PriorityGroup,
    Screening,
    StockWastage,
    VaccinationSite,
)


def _set_choices(field: forms.Field, choices: list[tuple[str, str]]) -> None:
    field.choices = choices  # type: ignore[attr-defined]


class RegistrationForm(forms.Form):
    person = forms.ChoiceField(label=_("Who is registering"))
    # Radio buttons: a group's name is a sentence, which a select cut off on a phone.
    priority_group = forms.ChoiceField(
        label=_("Priority group (Resolution 21/NQ-CP)"),
        choices=PriorityGroup.choices,
        widget=forms.RadioSelect,
    )
    occupation = forms.CharField(label=_("Occupation"), max_length=100, required=False)
    preferred_site = forms.ModelChoiceField(
        label=_("Preferred vaccination site"),
        queryset=VaccinationSite.objects.filter(active=True).select_related("commune"),
        required=False,
        empty_label=_("No preference"),
    )

    def __init__(self, *args: Any, people: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self.fields["person"], [(str(p.uuid), p.full_name) for p in people])
        for question in HEALTH_QUESTIONS:
            self.fields[f"q_{question.key}"] = forms.BooleanField(
                label=str(question.text), required=False
            )

    def health_answers(self) -> dict[str, bool]:
        return {q.key: bool(self.cleaned_data.get(f"q_{q.key}")) for q in HEALTH_QUESTIONS}


class CheckinForm(forms.Form):
    code = forms.CharField(
        label=_("QR code or identity number"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
        help_text=_("Scan the booking's QR code, or type the identity number and press Enter."),
    )


class ScreeningForm(forms.Form):
    temperature = forms.DecimalField(
        label=_("Temperature (°C)"), max_digits=3, decimal_places=1, required=False
    )
    outcome = forms.ChoiceField(
        label=_("Conclusion"), choices=Screening.Outcome.choices, widget=forms.RadioSelect
    )
    notes = forms.CharField(label=_("Notes"), max_length=500, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        checklist = {
            f"a_{q.key}": forms.BooleanField(label=str(q.text), required=False)
            for q in SCREENING_CHECKLIST
        }
        self.fields = {**checklist, **self.fields}

    def answers(self) -> dict[str, bool]:
        return {q.key: bool(self.cleaned_data.get(f"a_{q.key}")) for q in SCREENING_CHECKLIST}


def _lot_choices(field: forms.Field, choices: list[tuple[str, str]]) -> None:
    """Lots as radio buttons (a select cut the lot number and expiry off on a phone); the
    only lot of a site is chosen already."""
    _set_choices(field, choices)
    if len(choices) == 1:
        field.initial = choices[0][0]


class DoseForm(forms.Form):
    lot = forms.ChoiceField(label=_("Lot"), widget=forms.RadioSelect)
    override_reason = forms.CharField(
        label=_("Officer's override (only to continue a series with another vaccine)"),
        max_length=300,
        required=False,
    )

    def __init__(self, *args: Any, allocations: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _lot_choices(
            self.fields["lot"],
            [
                (
                    str(a.lot.uuid),
                    str(_("%(vaccine)s — lot %(number)s (expires %(date)s, %(left)s doses left)"))
                    % {
                        "vaccine": a.lot.vaccine.name,
                        "number": a.lot.number,
                        "date": date_text(a.lot.expiry_date),
                        "left": a.doses_left,
                    },
                )
                for a in allocations
            ],
        )


class WastageForm(forms.Form):
    lot = forms.ChoiceField(label=_("Lot"), widget=forms.RadioSelect)
    doses = forms.IntegerField(label=_("Doses wasted"), min_value=1)
    reason = forms.ChoiceField(label=_("Reason"), choices=StockWastage.Reason.choices)

    def __init__(self, *args: Any, allocations: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _lot_choices(
            self.fields["lot"],
            [(str(a.lot.uuid), f"{a.lot.vaccine.name} — {a.lot.number}") for a in allocations],
        )


class ReactionForm(forms.Form):
    severity = forms.ChoiceField(
        label=_("How serious is it?"),
        choices=AdverseEvent.Severity.choices,
        widget=forms.RadioSelect,
    )
    symptoms = forms.CharField(
        label=_("What happened"), max_length=1000, widget=forms.Textarea(attrs={"rows": 4})
    )
    onset_at = forms.DateTimeField(
        label=_("When it started"),
        input_formats=["%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class InviteForm(forms.Form):
    count = forms.IntegerField(label=_("How many people to invite"), min_value=1, max_value=1000)


class ImportForm(forms.Form):
    file = forms.FileField(label=_("List (XLSX or CSV)"))
    source = forms.ChoiceField(
        label=_("Kind of list"),
        choices=[("commune", _("Commune resident list")), ("agency", _("Agency staff list"))],
    )
    source_name = forms.CharField(label=_("Agency or list name"), max_length=150, required=False)
    only_good_rows = forms.TypedChoiceField(
        label=_("If some rows have errors"),
        choices=[
            ("0", _("Import nothing (all or nothing)")),
            ("1", _("Import only the rows without errors")),
        ],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        initial="0",
    )


class SessionForm(forms.Form):
    site = forms.ChoiceField(label=pgettext_lazy("vaccination", "Site"))
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    starts_at = forms.TimeField(label=_("From"), widget=forms.TimeInput(attrs={"type": "time"}))
    ends_at = forms.TimeField(label=_("Until"), widget=forms.TimeInput(attrs={"type": "time"}))
    capacity = forms.IntegerField(label=_("Places"), min_value=1, max_value=5000)
    self_booking = forms.BooleanField(
        label=_("Citizens may book themselves"), required=False, initial=True
    )

    def __init__(self, *args: Any, sites: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self.fields["site"], [(str(s.uuid), s.name) for s in sites])
