"""The care protocol's parameters: durations, release, eligibility, warning signs.

A version's rules are a JSON document cleaned into `ProtocolRules` here, in one place; the
services read the version in force through `protocol_active`. Defaults follow the Ministry
of Health's home-care guidance for F0 of early 2022 (Decision 261/QĐ-BYT): 7 days with a
negative test (10 without), SpO2 below 96 % and fast breathing for the age among the
warning signs.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, Final

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from covidhub.areas.served import home_province_code
from covidhub.core.errors import InvalidInput
from covidhub.core.localcache import LocalCache
from covidhub.homecare.models import CareProtocol, Symptom

# Eligibility findings (stored on the order): each one sends the person to a facility
# unless the officer keeps them at home.
AGE_OVER: Final = "age_over"
AGE_UNDER: Final = "age_under"
UNVACCINATED_OVER: Final = "unvaccinated_over"
CONDITIONS: Final = "conditions"
PREGNANT: Final = "pregnant"
ELIGIBILITY_TEXT: Final = {
    AGE_OVER: gettext_lazy("Older than the protocol's age for home care"),
    AGE_UNDER: gettext_lazy("Younger than the protocol's age for home care"),
    UNVACCINATED_OVER: gettext_lazy("Not fully vaccinated and older than the protocol allows"),
    CONDITIONS: gettext_lazy("Underlying conditions"),
    PREGNANT: gettext_lazy("Pregnant"),
}

# Warning signs of a self-check (stored on the check and its alert).
SPO2_LOW: Final = "spo2_low"
BREATHING_FAST: Final = "breathing_fast"
TEMPERATURE_HIGH: Final = "temperature_high"
PULSE_ABNORMAL: Final = "pulse_abnormal"
WARNING_TEXT: Final = {
    SPO2_LOW: gettext_lazy("SpO2 below the threshold"),
    BREATHING_FAST: gettext_lazy("Fast breathing for the age"),
    TEMPERATURE_HIGH: gettext_lazy("Very high fever"),
    PULSE_ABNORMAL: gettext_lazy("Pulse too fast or too slow"),
    **{symptom.value: symptom.label for symptom in Symptom},
}


@dataclass(frozen=True)
class ProtocolRules:
    # Durations (days from the start).
    f0_days: int = 7
    f0_days_without_test: int = 10
    f1_days: int = 7
    f1_days_vaccinated: int = 5
    # Release: an F0 may leave at `f0_days` with a negative test taken from that day on
    # (else at `f0_days_without_test`), in both cases only after this many days without
    # symptoms; 0 switches the symptom rule off.
    release_by_negative_test: bool = True
    release_symptom_free_days: int = 3
    # Self-checks a day, and the hours without one after which a person is flagged.
    checks_per_day: int = 2
    missed_check_hours: int = 14
    # Eligibility for home care (else referral to a treatment facility).
    min_age: int = 0
    max_age: int = 65
    max_age_unvaccinated: int = 50
    refer_conditions: bool = True
    refer_pregnant: bool = True
    # Warning signs.
    spo2_below: int = 96
    temperature_above: float = 39.5
    pulse_above: int = 120
    pulse_below: int = 50
    # Breaths a minute above which breathing is fast: adults (13+), 5–12, 1–4, under 1.
    breathing_adult: int = 20
    breathing_child: int = 30
    breathing_young: int = 40
    breathing_infant: int = 50
    warning_symptoms: tuple[str, ...] = (
        Symptom.BREATHLESS,
        Symptom.CHEST_PAIN,
        Symptom.CONFUSION,
        Symptom.CANNOT_DRINK,
        Symptom.BLUE_LIPS,
    )
    # Minutes the station has to act on an alert.
    alert_sla_minutes: int = 30

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["warning_symptoms"] = [str(s) for s in self.warning_symptoms]
        return data

    def breathing_limit(self, age: int) -> int:
        if age >= 13:
            return self.breathing_adult
        if age >= 5:
            return self.breathing_child
        if age >= 1:
            return self.breathing_young
        return self.breathing_infant


DEFAULT_RULES: Final = ProtocolRules()
_LIMITS: Final[dict[str, tuple[float, float]]] = {
    "f0_days": (1, 60),
    "f0_days_without_test": (1, 60),
    "f1_days": (1, 60),
    "f1_days_vaccinated": (1, 60),
    "release_symptom_free_days": (0, 30),
    "checks_per_day": (1, 6),
    "missed_check_hours": (1, 72),
    "min_age": (0, 120),
    "max_age": (0, 120),
    "max_age_unvaccinated": (0, 120),
    "spo2_below": (80, 100),
    "temperature_above": (37.5, 42.0),
    "pulse_above": (60, 220),
    "pulse_below": (20, 100),
    "breathing_adult": (10, 80),
    "breathing_child": (10, 80),
    "breathing_young": (10, 80),
    "breathing_infant": (10, 100),
    "alert_sla_minutes": (1, 24 * 60),
}
_SWITCHES: Final = ("release_by_negative_test", "refer_conditions", "refer_pregnant")


def protocol_rules_clean(raw: Mapping[str, Any]) -> ProtocolRules:
    """Typed rules from a stored version, a form or an API body; field errors otherwise."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    known = {f.name for f in fields(ProtocolRules)}
    for name in raw:
        if name not in known:
            errors[name] = [_("Unknown rule.")]
    for name, (low, high) in _LIMITS.items():
        value = raw.get(name, getattr(DEFAULT_RULES, name))
        whole = isinstance(getattr(DEFAULT_RULES, name), int)
        try:
            number: float = int(value) if whole else float(value)
        except (TypeError, ValueError):
            errors[name] = [_("Enter a number.")]
            continue
        if isinstance(value, bool) or not low <= number <= high:
            errors[name] = [
                _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high}
            ]
            continue
        values[name] = number
    for name in _SWITCHES:
        switch = raw.get(name, getattr(DEFAULT_RULES, name))
        if isinstance(switch, str):
            switch = switch.lower() in ("1", "true", "on", "yes")
        values[name] = bool(switch)
    symptoms = raw.get("warning_symptoms", DEFAULT_RULES.warning_symptoms)
    if not isinstance(symptoms, list | tuple) or any(s not in Symptom.values for s in symptoms):
        errors["warning_symptoms"] = [_("Choose symptoms from the list.")]
    else:
        values["warning_symptoms"] = tuple(str(s) for s in symptoms)
    if not errors and values["f0_days"] > values["f0_days_without_test"]:
        errors["f0_days"] = [_("The days with a negative test cannot exceed the days without.")]
    if errors:
        raise InvalidInput(details={"fields": errors})
    return ProtocolRules(**values)


def province_code_of(path: str) -> str:
    """The province of an area's materialised path (its first segment)."""
    return path.split("/", 1)[0]


def protocol_active(province_code: str | None = None) -> CareProtocol:
    """The version in force in a province (the home province when not said); the built-in
    defaults become its version 1 on first use."""
    code = province_code or home_province_code()
    row = CareProtocol.objects.filter(province_code=code, state=CareProtocol.State.ACTIVE).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            return CareProtocol.objects.create(
                province_code=code,
                version=1,
                state=CareProtocol.State.ACTIVE,
                rules=DEFAULT_RULES.as_dict(),
                note="Bộ Y tế, QĐ 261/QĐ-BYT (2022)",
                activated_at=timezone.now(),
            )
    except IntegrityError:
        # Another request made it first.
        return CareProtocol.objects.get(province_code=code, state=CareProtocol.State.ACTIVE)


_cleaned: dict[tuple[int, str], ProtocolRules] = {}
# A version by its id, per process: its rules never change (a change of the rules is a new
# version), only its state; each self-check and each page of the station's list reads the
# rules of its orders' versions.
_versions: LocalCache[CareProtocol] = LocalCache("homecare.protocol_versions", ttl_seconds=300)


def protocol_version(protocol_id: int) -> CareProtocol:
    """The version with this id, for its rules and number (its state may be minutes old)."""
    found = _versions.get_or_load(
        protocol_id, lambda: CareProtocol.objects.filter(pk=protocol_id).first()
    )
    if found is None:
        raise CareProtocol.DoesNotExist(protocol_id)
    return found


def rules_of(protocol: CareProtocol) -> ProtocolRules:
    """The cleaned rules of a version (cached: a version's rules never change once used)."""
    key = (protocol.pk, str(protocol.updated_at))
    rules = _cleaned.get(key)
    if rules is None:
        rules = protocol_rules_clean(protocol.rules)
        _cleaned[key] = rules
    return rules


def planned_days(rules: ProtocolRules, *, kind: str, vaccinated: bool) -> int:
    from covidhub.homecare.models import CareOrder

    if kind == CareOrder.Kind.HOME_CARE:
        return rules.f0_days_without_test
    return rules.f1_days_vaccinated if vaccinated else rules.f1_days


def eligibility_findings(
    rules: ProtocolRules, *, age: int, vaccinated: bool, conditions: bool, pregnant: bool
) -> list[str]:
    """What keeps a confirmed case from home care under the rules (empty: eligible)."""
    found = []
    if age > rules.max_age:
        found.append(AGE_OVER)
    if age < rules.min_age:
        found.append(AGE_UNDER)
    if not vaccinated and age > rules.max_age_unvaccinated and age <= rules.max_age:
        found.append(UNVACCINATED_OVER)
    if conditions and rules.refer_conditions:
        found.append(CONDITIONS)
    if pregnant and rules.refer_pregnant:
        found.append(PREGNANT)
    return found


def warning_signs(
    rules: ProtocolRules,
    *,
    age: int,
    temperature: float | None,
    spo2: int | None,
    pulse: int | None,
    breathing_rate: int | None,
    symptoms: list[str],
) -> list[str]:
    """The warning signs in one self-check under the rules, most serious first."""
    found = []
    if spo2 is not None and spo2 < rules.spo2_below:
        found.append(SPO2_LOW)
    if breathing_rate is not None and breathing_rate > rules.breathing_limit(age):
        found.append(BREATHING_FAST)
    found += [s for s in rules.warning_symptoms if s in symptoms]
    if temperature is not None and temperature > rules.temperature_above:
        found.append(TEMPERATURE_HIGH)
    if pulse is not None and not rules.pulse_below <= pulse <= rules.pulse_above:
        found.append(PULSE_ABNORMAL)
    return found


def days_between(start: datetime.date, end: datetime.date) -> int:
    return (end - start).days
