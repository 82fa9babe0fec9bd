"""Forms of the exchange's staff pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class InboundImportForm(forms.Form):
    file = forms.FileField(label=_("FHIR file (Bundle .json or NDJSON .ndjson)"))
    source_name = forms.CharField(
        label=_("Where the doses come from"),
        help_text=_("For example: the national vaccination platform, Bắc Ninh province."),
        max_length=150,
        required=False,
    )
