from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from covidhub.accounts.scoping import actor_scope
from covidhub.areas.models import Area
from covidhub.clients.models import MachineClient
from covidhub.clients.scopes import CAPABILITIES, READ, READ_ONLY, WRITE
from covidhub.clients.units import unit_sources

ACCESS_CHOICES = [("", _("No access")), (READ, _("Read")), (WRITE, _("Read and write"))]
READ_CHOICES = ACCESS_CHOICES[:2]


class AreaChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        indent = "\u00a0\u00a0" * (obj.level - 1)
        return f"{indent}{obj.name} ({obj.code})"


class ClientForm(forms.Form):
    name = forms.CharField(label=_("Name of the system"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind of system"), choices=MachineClient.Kind.choices)
    area = AreaChoiceField(
        label=_("Area"),
        queryset=Area.objects.none(),
        required=False,
        help_text=_(
            "The client reaches the people and places of this area and of every unit in it, "
            "as an officer of the area would."
        ),
    )
    unit = forms.ChoiceField(
        label=_("Laboratory"),
        required=False,
        help_text=_("A partner laboratory's system records results for this laboratory."),
    )
    rate_per_minute = forms.IntegerField(
        label=_("Calls per minute"), min_value=1, max_value=100_000
    )
    quota_per_day = forms.IntegerField(label=_("Calls per day"), min_value=1, max_value=100_000_000)

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rate_per_minute"].initial = settings.CLIENT_RATE_PER_MINUTE
        self.fields["quota_per_day"].initial = settings.CLIENT_QUOTA_PER_DAY
        within = Q(pk__in=[])
        for path in actor_scope(actor).area_paths:
            within |= Q(path__startswith=path)
        area_field = self.fields["area"]
        assert isinstance(area_field, forms.ModelChoiceField)
        area_field.queryset = Area.objects.filter(within, dissolved_on__isnull=True).order_by(
            "path"
        )
        unit_field = self.fields["unit"]
        assert isinstance(unit_field, forms.ChoiceField)
        unit_field.choices = [("", _("None"))] + [
            (f"{source.kind}:{unit_uuid}", f"{name}")
            for source in unit_sources()
            for unit_uuid, name in source.choices()
        ]
        for capability, label in CAPABILITIES.items():
            self.fields[f"access_{capability}"] = forms.ChoiceField(
                label=str(label),
                choices=READ_CHOICES if capability in READ_ONLY else ACCESS_CHOICES,
                required=False,
            )

    def access(self) -> dict[str, str]:
        return {c: self.cleaned_data.get(f"access_{c}") or "" for c in CAPABILITIES}

    def unit_value(self) -> tuple[str, uuid.UUID | None]:
        value = self.cleaned_data.get("unit") or ""
        if not value:
            return "", None
        kind, _sep, raw = value.partition(":")
        return kind, uuid.UUID(raw)


class RotateForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
