"""Dates as people write them: full dates or the year alone; dates in text built in Python."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.utils import formats, timezone, translation
from django.utils.translation import gettext_lazy as _

from covidhub.core.errors import InvalidInput


def date_text(value: datetime.date, *, language: str | None = None) -> str:
    """A date in text that Python builds (SMS, e-mail, in-app notices, error messages,
    exports) written as the pages write it (config/formats): 11/10/2021 in Vietnamese,
    11 Oct 2021 in English.

    In `language` when given, else in the active language: a message is built under
    `translation.override(<the recipient's language>)`, so its dates follow. A datetime is
    written as its local day.
    """
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if language is None:
        return str(formats.date_format(value, "SHORT_DATE_FORMAT"))
    with translation.override(language):
        return str(formats.date_format(value, "SHORT_DATE_FORMAT"))


class InvalidDate(InvalidInput):
    code = "date_invalid"
    default_message = _("Enter a date as DD/MM/YYYY, or the year alone (YYYY).")


@dataclass(frozen=True)
class PartialDate:
    """A date of birth known to the day, or only its year."""

    year: int
    month: int | None = None
    day: int | None = None

    @property
    def is_full(self) -> bool:
        return self.day is not None

    def as_date(self) -> datetime.date | None:
        if self.month is None or self.day is None:
            return None
        return datetime.date(self.year, self.month, self.day)

    def iso(self) -> str:
        if self.day is not None and self.month is not None:
            return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
        if self.month is not None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}"

    def display(self) -> str:
        if self.day is not None and self.month is not None:
            return f"{self.day:02d}/{self.month:02d}/{self.year:04d}"
        if self.month is not None:
            return f"{self.month:02d}/{self.year:04d}"
        return f"{self.year:04d}"


_DMY = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")
_MY = re.compile(r"(\d{1,2})[/.\-](\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_ISO_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_YEAR = re.compile(r"\d{4}")


def partial_date_parse(value: str, *, today: datetime.date | None = None) -> PartialDate:
    """Parse '15/03/1990', '1990-03-15', '03/1990', '1990'; refuse future and absurd dates."""
    text = (value or "").strip()
    today = today or timezone.localdate()
    year: int
    month: int | None = None
    day: int | None = None
    if m := _DMY.fullmatch(text):
        day, month, year = int(m[1]), int(m[2]), int(m[3])
    elif m := _ISO.fullmatch(text):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    elif m := _MY.fullmatch(text):
        month, year = int(m[1]), int(m[2])
    elif m := _ISO_MONTH.fullmatch(text):
        year, month = int(m[1]), int(m[2])
    elif _YEAR.fullmatch(text):
        year = int(text)
    else:
        raise InvalidDate()
    if year < 1890:
        raise InvalidDate(_("The year is too far in the past."))
    try:
        if month is not None:
            datetime.date(year, month, day or 1)
    except ValueError as exc:
        raise InvalidDate(_("This day does not exist in the calendar.")) from exc
    result = PartialDate(year, month, day)
    earliest = datetime.date(year, month or 1, day or 1)
    if earliest > today:
        raise InvalidDate(_("The date is in the future."))
    return result
