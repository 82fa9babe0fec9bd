"""Numbers and dates as each language writes them: 1.234.567 and 12,5 % in Vietnamese,
1,234,567 and 12.5% in English; 17/08/2021 and 17 Aug 2021."""

from __future__ import annotations

import datetime

from django.utils.translation import get_language

from covidhub.core.dates import date_text

EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _language(language: str | None) -> str:
    code = (language or get_language() or "vi")[:2]
    return "en" if code == "en" else "vi"


def number(value: int | None, language: str | None = None) -> str:
    if value is None:
        return ""
    grouped = f"{value:,}"
    return grouped if _language(language) == "en" else grouped.replace(",", ".")


def decimal(value: float, places: int = 1, language: str | None = None) -> str:
    text = f"{value:,.{places}f}"
    if _language(language) == "en":
        return text
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def percent(value: float | None, places: int = 1, language: str | None = None) -> str:
    if value is None:
        return ""
    text = decimal(value, places, language)
    return f"{text}%" if _language(language) == "en" else f"{text} %"


def date_long(day: datetime.date, language: str | None = None) -> str:
    return date_text(day, language=_language(language))


def date_short(day: datetime.date, language: str | None = None) -> str:
    if _language(language) == "en":
        return f"{day.day} {EN_MONTHS[day.month - 1]}"
    return f"{day.day}/{day.month}"


def datetime_long(moment: datetime.datetime, language: str | None = None) -> str:
    from django.utils import timezone

    local = timezone.localtime(moment)
    return f"{local:%H:%M} {date_long(local.date(), language)}"
