"""The one cleaning step of a self-check, shared by the page and the API: values in range
with messages that say what is wrong (SpO2 150 %, a temperature of 3 °C, a future time)."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from covidhub.core.cleaning import text_clean
from covidhub.core.errors import InvalidInput
from covidhub.homecare.models import Symptom

# A phone's clock may run a little ahead of the server's.
CLOCK_SKEW: Final = datetime.timedelta(minutes=5)
# Checks queued on a phone without a connection may arrive days late, not weeks.
OLDEST: Final = datetime.timedelta(days=3)
_KEY: Final = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")


@dataclass(frozen=True)
class SelfCheckInput:
    client_key: str
    measured_at: datetime.datetime
    temperature: Decimal | None = None
    spo2: int | None = None
    pulse: int | None = None
    breathing_rate: int | None = None
    symptoms: list[str] = field(default_factory=list)


def _number(raw: Any) -> str:
    return str(raw).strip().replace(",", ".") if raw is not None else ""


def _whole(
    raw: Any, name: str, low: int, high: int, message: str, errors: dict[str, list[str]]
) -> int | None:
    text = _number(raw)
    if text == "":
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        errors[name] = [_("Enter a number.")]
        return None
    if value != value.to_integral_value():
        errors[name] = [_("Enter a whole number.")]
        return None
    if not low <= value <= high:
        errors[name] = [message]
        return None
    return int(value)


def self_check_clean(
    raw: dict[str, Any], *, now: datetime.datetime | None = None
) -> SelfCheckInput:
    """A self-check from a form or an API body, or InvalidInput with a message per field."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    key = text_clean(str(raw.get("client_key") or ""), field="client_key").strip()
    if not _KEY.match(key):
        errors["client_key"] = [_("The check has no valid key; reload the page and try again.")]
    measured_at: datetime.datetime | None
    value = raw.get("measured_at")
    if isinstance(value, datetime.datetime):
        measured_at = value
    elif value in (None, ""):
        measured_at = now
    else:
        try:
            measured_at = parse_datetime(str(value))
        except ValueError:
            measured_at = None
        if measured_at is None:
            errors["measured_at"] = [_("Enter the time of the measurement as date and time.")]
    if measured_at is not None:
        if timezone.is_naive(measured_at):
            measured_at = timezone.make_aware(measured_at)
        if measured_at > now + CLOCK_SKEW:
            errors["measured_at"] = [
                _("The time of the measurement is in the future. Check the phone's clock.")
            ]
        elif measured_at < now - OLDEST:
            errors["measured_at"] = [
                _("This measurement is more than 3 days old; enter today's measurement.")
            ]
    temperature: Decimal | None = None
    text = _number(raw.get("temperature"))
    if text:
        try:
            temperature = Decimal(text).quantize(Decimal("0.1"))
        except InvalidOperation:
            errors["temperature"] = [_("Enter the temperature as a number, for example 37.5.")]
        else:
            if not Decimal("34") <= temperature <= Decimal("43"):
                errors["temperature"] = [
                    _(
                        "A body temperature of %(value)s °C is not possible. Enter the "
                        "thermometer's reading in °C, between 34 and 43."
                    )
                    % {"value": text}
                ]
                temperature = None
    spo2 = _whole(
        raw.get("spo2"),
        "spo2",
        50,
        100,
        _("SpO2 is a percentage: enter the oximeter's reading, from 50 to 100."),
        errors,
    )
    pulse = _whole(
        raw.get("pulse"),
        "pulse",
        20,
        250,
        _("Enter the pulse in beats a minute, from 20 to 250."),
        errors,
    )
    breathing = _whole(
        raw.get("breathing_rate"),
        "breathing_rate",
        5,
        100,
        _("Enter the breaths counted in one minute, from 5 to 100."),
        errors,
    )
    symptoms_raw = raw.get("symptoms") or []
    if isinstance(symptoms_raw, str):
        symptoms_raw = [symptoms_raw]
    if not isinstance(symptoms_raw, list | tuple) or any(
        s not in Symptom.values for s in symptoms_raw
    ):
        errors["symptoms"] = [_("Choose symptoms from the list.")]
        symptoms: list[str] = []
    else:
        symptoms = sorted(set(symptoms_raw), key=Symptom.values.index)
    if (
        not errors
        and temperature is None
        and spo2 is None
        and pulse is None
        and breathing is None
        and not symptoms
        and not raw.get("no_symptoms")
    ):
        errors["__all__"] = [
            _("Enter at least one measurement, or tick the symptoms (or “no symptoms”).")
        ]
    if errors:
        raise InvalidInput(details={"fields": errors})
    assert measured_at is not None
    return SelfCheckInput(
        client_key=key,
        measured_at=measured_at,
        temperature=temperature,
        spo2=spo2,
        pulse=pulse,
        breathing_rate=breathing,
        symptoms=symptoms,
    )
