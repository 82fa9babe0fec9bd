from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from covidhub.areas.served import served_communes, served_province_codes
from covidhub.core.errors import InvalidInput
from covidhub.people.identity import IdType, Sex
from covidhub.people.models import Person
from covidhub.people.validation import PersonInput, person_input_clean


def commune_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The served provinces' communes grouped by district, for a select that works without
    JavaScript (with several provinces, each district is named with its province)."""
    several = len(served_province_codes()) > 1
    groups: dict[str, list[tuple[str, str]]] = {}
    for commune in (
        served_communes()
        .select_related("parent", "parent__parent")
        .order_by("parent__parent__name", "parent__name", "name")
    ):
        district = commune.parent
        label = district.name if district else ""
        if several and district is not None and district.parent is not None:
            label = f"{district.name} – {district.parent.name}"
        groups.setdefault(label, []).append((commune.code, commune.name))
    return list(groups.items())


class PersonForm(forms.Form):
    """The fields of a person; cleaning is `person_input_clean`, shared with the API."""

    full_name = forms.CharField(
        label=_("Full name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    birth = forms.CharField(
        label=_("Date of birth"),
        help_text=_("DD/MM/YYYY, or the year alone if the day is not known."),
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "15/03/1990"}),
    )
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices, widget=forms.RadioSelect)
    id_type = forms.ChoiceField(
        label=_("Identity document"),
        choices=[("", _("None")), *list(IdType.choices)],
        required=False,
    )
    id_number = forms.CharField(
        label=_("Identity number"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Phone number"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
    email = forms.CharField(
        label=_("E-mail"), max_length=254, required=False, widget=forms.EmailInput()
    )
    commune = forms.ChoiceField(label=_("Commune / ward of residence"), choices=())
    address_line = forms.CharField(
        label=_("House number, street, hamlet"), max_length=200, required=False
    )

    def __init__(self, *args: Any, identity_locked: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["commune"].choices = [("", _("Choose…")), *commune_choices()]  # type: ignore[attr-defined]
        if identity_locked:
            # Shown, not editable: a disabled field keeps its initial value whatever is
            # posted, and the service refuses a change anyway (`person_update`).
            for name in IDENTITY_INPUTS:
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Locked: use “Request a correction” below.")
        self.person_input: PersonInput | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            self.person_input = person_input_clean(data)
        except InvalidInput as exc:
            for name, messages in exc.details.get("fields", {}).items():
                for message in messages:
                    self.add_error(name if name in self.fields else None, message)
        return data

    @staticmethod
    def initial_for(person: Person) -> dict[str, Any]:
        return {
            "full_name": person.full_name,
            "birth": person.birth.display(),
            "sex": person.sex,
            "id_type": person.id_type,
            "id_number": person.id_number,
            "phone": person.phone,
            "email": person.email,
            "commune": person.commune.code,
            "address_line": person.address_line,
        }


IDENTITY_INPUTS = ("full_name", "birth", "sex", "id_type", "id_number")


class CorrectionForm(forms.Form):
    """The identity as it should read, and why; cleaned like any person input."""

    full_name = PersonForm.base_fields["full_name"]
    birth = PersonForm.base_fields["birth"]
    sex = PersonForm.base_fields["sex"]
    id_type = PersonForm.base_fields["id_type"]
    id_number = PersonForm.base_fields["id_number"]
    reason = forms.CharField(
        label=_("Why should it be corrected?"),
        help_text=_(
            "For example: the name was misspelt at the vaccination site. Bring the document to the commune health station."
        ),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, person: Person, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.person = person
        self.person_input: PersonInput | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        person = self.person
        try:
            self.person_input = person_input_clean(
                {
                    **{name: data.get(name, "") for name in IDENTITY_INPUTS},
                    "commune": person.commune,
                    "phone": person.phone,
                    "email": person.email,
                    "address_line": person.address_line,
                    "nationality": person.nationality,
                }
            )
        except InvalidInput as exc:
            for name, messages in exc.details.get("fields", {}).items():
                for message in messages:
                    self.add_error(name if name in self.fields else None, message)
        return data


class DecisionForm(forms.Form):
    """An officer's decision on a correction request."""

    decision = forms.ChoiceField(
        choices=[("approve", _("Approve")), ("reject", _("Reject"))], widget=forms.HiddenInput
    )
    evidence_note = forms.CharField(
        label=_("Evidence checked"),
        help_text=_("Which document you saw, e.g. “CCCD shown at the station, matches”."),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    evidence_reference = forms.CharField(
        label=_("Attachment reference"),
        help_text=_("Optional: the number or file name of the scanned document."),
        max_length=200,
        required=False,
    )
    reason = forms.CharField(
        label=_("Reason for rejecting"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class FamilyMemberForm(PersonForm):
    relationship = forms.ChoiceField(
        label=_("Relationship to you"),
        choices=[c for c in Person.Relationship.choices if c[0] != Person.Relationship.SELF],
    )

    field_order = ["relationship"]
