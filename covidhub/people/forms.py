from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.forms.utils import ErrorDict
from django.utils.translation import gettext_lazy as _

from covidhub.areas.served import served_communes, served_province_codes
from covidhub.core.errors import InvalidInput
from covidhub.people.identity import IdType, Sex
from covidhub.people.models import Person
from covidhub.people.validation import PersonInput, person_input_clean


@dataclass(frozen=True)
class DistrictCommunes:
    """One district (or town) of the served provinces and its communes, in name order."""

    code: str
    label: str
    communes: list[tuple[str, str]]


def commune_groups() -> list[DistrictCommunes]:
    """The served provinces' communes grouped by district (with several provinces, each
    district is named with its province): the one list behind every commune select and its
    district filter."""
    several = len(served_province_codes()) > 1
    groups: dict[str, DistrictCommunes] = {}
    for commune in (
        served_communes()
        .select_related("parent", "parent__parent")
        .order_by("parent__parent__name", "parent__name", "name")
    ):
        district = commune.parent
        label = district.name if district else ""
        if several and district is not None and district.parent is not None:
            label = f"{district.name} – {district.parent.name}"
        code = district.code if district else ""
        groups.setdefault(code, DistrictCommunes(code, label, [])).communes.append(
            (commune.code, commune.name)
        )
    return list(groups.values())


def commune_choices(
    groups: list[DistrictCommunes] | None = None, *, district: str = ""
) -> list[tuple[str, list[tuple[str, str]]]]:
    """Choices for a select that works without JavaScript: the communes grouped by district
    (<optgroup>), or only those of `district` when it names one."""
    groups = commune_groups() if groups is None else groups
    if any(group.code == district for group in groups):
        groups = [group for group in groups if group.code == district]
    return [(group.label, group.communes) for group in groups]


# The district filter in front of a commune list (CommuneFilterForm): its field, and the
# button that asks the server for the district's communes when no script runs.
DISTRICT_FIELD = "commune_district"
DISTRICT_SHOW = "commune_district_show"


class CommuneSelect(forms.Select):
    """The grouped commune select; each <optgroup> names its district's code, which the
    district filter of app.js narrows the list to."""

    template_name = "people/widgets/commune_select.html"
    district_codes: dict[str, str]

    def get_context(self, name: str, value: Any, attrs: Any) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        codes = getattr(self, "district_codes", {})
        context["widget"]["optgroups"] = [
            (group_name, options, index, codes.get(group_name or "", ""))
            for group_name, options, index in context["widget"]["optgroups"]
        ]
        return context


class DistrictFilterSelect(forms.Select):
    """The district filter: a select, and a button for browsers without JavaScript (app.js
    hides it and shortens the commune list as soon as a district is chosen)."""

    template_name = "people/widgets/district_filter.html"

    def get_context(self, name: str, value: Any, attrs: Any) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["show_name"] = DISTRICT_SHOW
        context["widget"]["show_label"] = _("Show its communes")
        return context


class CommuneFilterForm(forms.Form):
    """A form where a person picks a commune from the whole list (207 in Hải Dương), with
    a district filter just before it.

    With JavaScript the list follows the filter at once (app.js, `data-district-filter`).
    Without it, the filter's button sends the form back: the same page comes back with what
    was typed, no error and nothing saved (`is_valid` is False), and the commune list of
    that district alone. The filter starts at the district of the commune already chosen.
    """

    commune_field = "commune"
    has_district_filter = True  # templates put the form's own default button first

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        groups = commune_groups()
        field = self.commune_field
        self.commune_filtering = self.is_bound and DISTRICT_SHOW in self.data
        if self.is_bound:
            district = str(self.data.get(DISTRICT_FIELD, ""))
        else:
            chosen = str(self.initial.get(field, "") or "")
            district = next(
                (g.code for g in groups if any(code == chosen for code, _n in g.communes)), ""
            )
        communes = self.fields[field]
        communes.choices = [  # type: ignore[attr-defined]
            ("", _("Choose…")),
            *commune_choices(groups, district=district if self.commune_filtering else ""),
        ]
        communes.widget = CommuneSelect(attrs={**communes.widget.attrs})
        communes.widget.choices = communes.choices  # type: ignore[attr-defined]
        communes.widget.district_codes = {g.label: g.code for g in groups}
        communes.widget.is_required = communes.required
        filter_field = forms.ChoiceField(
            label=_("District / town"),
            help_text=_("Shortens the list of communes below."),
            required=False,
            choices=[("", _("All districts")), *((g.code, g.label) for g in groups)],
            widget=DistrictFilterSelect(attrs={"data-district-filter": f"id_{field}"}),
        )
        self.initial.setdefault(DISTRICT_FIELD, district)
        fields: dict[str, forms.Field] = {}
        for name, value in self.fields.items():
            if name == field:
                fields[DISTRICT_FIELD] = filter_field
            fields[name] = value
        self.fields = fields

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data.pop(DISTRICT_FIELD, None)  # a view of the list, not an answer
        return data

    def full_clean(self) -> None:
        if self.commune_filtering:
            # Only the list was asked for: nothing to check yet, no error to show.
            self._errors = ErrorDict()
            self.cleaned_data = {}
            return
        super().full_clean()

    def is_valid(self) -> bool:
        return not self.commune_filtering and super().is_valid()


class PersonForm(CommuneFilterForm):
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
