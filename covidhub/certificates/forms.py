from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from covidhub.certificates.models import AcceptanceRuleSet
from covidhub.people.health_status import LONGEST_DAYS

MEASURE_COLOUR_CHOICES = [("red", _("Red")), ("yellow", _("Yellow")), ("off", _("Off (ignored)"))]


class VerifyForm(forms.Form):
    text = forms.CharField(
        label=_("QR code text"),
        help_text=_(
            "Scan with the camera, a barcode scanner (it types and presses Enter), or paste."
        ),
        max_length=10_000,
        strip=False,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "off",
                "spellcheck": "false",
                "autofocus": True,
                "inputmode": "text",
            }
        ),
    )

    purpose = forms.ChoiceField(
        label=_("Rules of this checkpoint"),
        choices=AcceptanceRuleSet.Purpose.choices,
        initial=AcceptanceRuleSet.Purpose.VENUE,
        required=False,
    )

    def clean_purpose(self) -> str:
        return str(self.cleaned_data.get("purpose") or AcceptanceRuleSet.Purpose.VENUE)


class RevokeForm(forms.Form):
    uvci = forms.CharField(label=_("Certificate identifier (UVCI)"), max_length=80, min_length=10)
    reason = forms.CharField(label=_("Reason"), max_length=200, min_length=3)


class RevokeKeyForm(forms.Form):
    kid = forms.RegexField(
        label=_("Key identifier (hex)"), regex=r"^[0-9a-fA-F]{16}$", max_length=16
    )
    reason = forms.CharField(label=_("Reason"), max_length=200, min_length=3)
    reissue = forms.BooleanField(
        label=_("Issue new certificates with the current key to the people concerned"),
        required=False,
        initial=True,
    )

    def clean_kid(self) -> str:
        return str(self.cleaned_data["kid"]).lower()


class RulesForm(forms.Form):
    green_full_series_days = forms.IntegerField(
        label=_("Green: days after completing the primary series"),
        min_value=0,
        max_value=365,
        help_text=_("0 switches this clause off."),
    )
    green_recovery_days = forms.IntegerField(
        label=_("Green: recovered, days after the first positive test"),
        min_value=0,
        max_value=365,
    )
    green_negative_test_hours = forms.IntegerField(
        label=_("Green: hours after a negative test"),
        min_value=0,
        max_value=168,
        help_text=_("0 switches this clause off."),
    )
    yellow_one_dose = forms.BooleanField(label=_("Yellow: at least one dose"), required=False)
    yellow_negative_test_hours = forms.IntegerField(
        label=_("Yellow: hours after a negative test"), min_value=0, max_value=168
    )
    case_colour = forms.ChoiceField(
        label=_("Confirmed case (F0): colour"), choices=MEASURE_COLOUR_CHOICES
    )
    case_days = forms.IntegerField(
        label=_("Confirmed case: days from the onset"), min_value=0, max_value=LONGEST_DAYS
    )
    isolation_colour = forms.ChoiceField(
        label=_("In isolation (advised by the commune health station): colour"),
        choices=MEASURE_COLOUR_CHOICES,
    )
    isolation_days = forms.IntegerField(
        label=_("In isolation: days from the follow-up call"), min_value=0, max_value=LONGEST_DAYS
    )
    retest_colour = forms.ChoiceField(
        label=_("Positive pool, awaiting the individual retest: colour"),
        choices=MEASURE_COLOUR_CHOICES,
    )
    retest_days = forms.IntegerField(
        label=_("Awaiting a retest: days from the pool's result (or until the new result)"),
        min_value=0,
        max_value=LONGEST_DAYS,
    )
    refuse_checkin = forms.BooleanField(
        label=_("Do not check in a person whom a health measure makes red"), required=False
    )
    checkpoint_names_measure = forms.BooleanField(
        label=_("Tell checkpoint staff which health measure applies"),
        help_text=_("Otherwise they only read that a health measure of the province applies."),
        required=False,
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        return data


class AcceptanceRulesForm(forms.Form):
    rules = forms.CharField(
        label=_("Rules (EU validation-rule JSON)"),
        # JSON in both languages, not text to translate (nor for a browser to translate).
        widget=forms.Textarea(
            attrs={"rows": 16, "spellcheck": "false", "class": "code", "translate": "no"}
        ),
        max_length=500_000,
        help_text=_(
            "A JSON list of rules in the EU format: Identifier, Type, Country, Version, "
            "ValidFrom, ValidTo, CertificateType, AffectedFields, Description (vi and en), "
            "Logic (CertLogic)."
        ),
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def clean_rules(self) -> Any:
        import json

        try:
            documents = json.loads(self.cleaned_data["rules"])
        except json.JSONDecodeError as error:
            raise forms.ValidationError(
                _("This is not valid JSON (line %(line)s)."), params={"line": error.lineno}
            ) from error
        return documents
