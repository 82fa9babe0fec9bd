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


# The configurable versions ---------------------------------------------------------------

# Each rule of the protocol with its label; `protocol.protocol_rules_clean` decides what is
# valid (the form only shapes the fields, as the self-check form does).
RULE_FIELDS: dict[str, Any] = {
    "f0_days": _("F0: days of home care with a negative test"),
    "f0_days_without_test": _("F0: days of home care without a test"),
    "f1_days": _("F1: days of quarantine"),
    "f1_days_vaccinated": _("F1: days of quarantine when fully vaccinated"),
    "release_symptom_free_days": _("Days without symptoms before release (0: no such rule)"),
    "checks_per_day": _("Self-checks a day"),
    "missed_check_hours": _("Hours without a check before a person is flagged"),
    "min_age": _("Youngest age for home care"),
    "max_age": _("Oldest age for home care"),
    "max_age_unvaccinated": _("Oldest age for home care when not fully vaccinated"),
    "spo2_below": _("Warning: SpO2 below (%)"),
    "temperature_above": _("Warning: temperature above (°C)"),
    "pulse_above": _("Warning: pulse above (a minute)"),
    "pulse_below": _("Warning: pulse below (a minute)"),
    "breathing_adult": _("Warning: breaths a minute above, age 13 and over"),
    "breathing_child": _("Warning: breaths a minute above, age 5 to 12"),
    "breathing_young": _("Warning: breaths a minute above, age 1 to 4"),
    "breathing_infant": _("Warning: breaths a minute above, under 1 year"),
    "alert_sla_minutes": _("Minutes the station has to act on an alert"),
}
SWITCH_FIELDS: dict[str, Any] = {
    "release_by_negative_test": _("An F0 may leave early with a negative test"),
    "refer_conditions": _("Refer people with underlying conditions to a facility"),
    "refer_pregnant": _("Refer pregnant women to a facility"),
}


class ProtocolForm(forms.Form):
    """A new version of the care protocol, filled with the version in force."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label in RULE_FIELDS.items():
            self.fields[name] = forms.CharField(
                label=label,
                required=False,  # "Enter a number" comes from the rules' own cleaning
                max_length=8,
                widget=forms.TextInput(attrs={"inputmode": "decimal"}),
            )
        for name, label in SWITCH_FIELDS.items():
            self.fields[name] = forms.BooleanField(label=label, required=False)
        self.fields["warning_symptoms"] = forms.MultipleChoiceField(
            label=_("Symptoms that are warning signs"),
            choices=Symptom.choices,
            required=False,
            widget=forms.CheckboxSelectMultiple,
        )
        self.fields["note"] = forms.CharField(
            label=_("Note (the decision it follows)"), max_length=300, required=False
        )

    def rules(self) -> dict[str, Any]:
        """The raw rules for `protocol_rules_clean` (which gives the messages)."""
        data = self.data
        raw: dict[str, Any] = {name: data.get(name, "") for name in RULE_FIELDS}
        raw.update({name: bool(data.get(name)) for name in SWITCH_FIELDS})
        raw["warning_symptoms"] = (
            data.getlist("warning_symptoms") if hasattr(data, "getlist") else []
        )
        return raw


class DutyForm(forms.Form):
    """Put an officer of the commune on the station's duty list."""

    officer = forms.ChoiceField(label=_("Officer"))
    phone = forms.CharField(
        label=_("Phone for the alert SMS (empty: the officer's own)"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, candidates: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.candidates = {str(user.uuid): user for user in candidates}
        officer = self.fields["officer"]
        assert isinstance(officer, forms.ChoiceField)
        officer.choices = [(key, str(user)) for key, user in self.candidates.items()]
