from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from covidhub.homecare.models import CareAlert, CareVisit, KitHandout, Symptom


class SelfCheckForm(forms.Form):
    """The page's form: only shapes the fields; `validation.self_check_clean` decides."""

    client_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    measured_at = forms.CharField(
        label=_("Time of the measurement"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Leave empty for now."),
    )
    temperature = forms.CharField(
        label=_("Temperature (°C)"),
        required=False,
        max_length=8,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "37.0"}),
    )
    spo2 = forms.CharField(
        label=_("SpO2 (%), from the finger oximeter"),
        required=False,
        max_length=8,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "98"}),
    )
    pulse = forms.CharField(
        label=_("Pulse (beats a minute)"),
        required=False,
        max_length=8,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    breathing_rate = forms.CharField(
        label=_("Breaths in one minute"),
        required=False,
        max_length=8,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    symptoms = forms.MultipleChoiceField(
        label=_("Symptoms now"),
        choices=Symptom.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    no_symptoms = forms.BooleanField(label=_("No symptoms"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("client_key", uuid.uuid4().hex)

    def raw(self) -> dict[str, Any]:
        data = self.data
        return {
            "client_key": data.get("client_key", ""),
            "measured_at": data.get("measured_at", ""),
            "temperature": data.get("temperature", ""),
            "spo2": data.get("spo2", ""),
            "pulse": data.get("pulse", ""),
            "breathing_rate": data.get("breathing_rate", ""),
            "symptoms": data.getlist("symptoms") if hasattr(data, "getlist") else [],
            "no_symptoms": bool(data.get("no_symptoms")),
        }


class OpenCaseForm(forms.Form):
    conditions = forms.BooleanField(label=_("Underlying conditions"), required=False)
    pregnant = forms.BooleanField(label=_("Pregnant"), required=False)
    keep_at_home = forms.BooleanField(
        label=_("Keep at home even if the rules say refer (the officer's decision)"),
        required=False,
    )
    caretaker_name = forms.CharField(label=_("Caretaker"), max_length=150, required=False)
    caretaker_phone = forms.CharField(label=_("Caretaker's phone"), max_length=30, required=False)


class KitForm(forms.Form):
    kind = forms.ChoiceField(label=_("Package"), choices=KitHandout.Kind.choices)
    count = forms.IntegerField(label=_("Number of packages"), min_value=1, max_value=10, initial=1)


class VisitForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=CareVisit.Kind.choices)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class AlertCloseForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=CareAlert.Outcome.choices, widget=forms.RadioSelect
    )
    facility = forms.CharField(
        label=_("Treatment facility (when referred)"), max_length=200, required=False
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
