"""Reading a staff roster file (XLSX or CSV) and validating it row by row.

A file that cannot be a roster (too large, not a spreadsheet, not UTF-8, missing
columns, too many rows) is refused as a whole with one clear message. Otherwise every
row is validated with the same helpers as the people forms (names, dates, identity
numbers, phone numbers); a bad row is reported with its number as the spreadsheet
shows it and the reason, and the operator decides what to import.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from covidhub.core.dates import partial_date_parse
from covidhub.core.errors import InvalidInput
from covidhub.core.phones import phone_normalise
from covidhub.core.spreadsheets import SheetLimits, SpreadsheetRefused, sheet_read
from covidhub.core.text import fold_ascii, nfc
from covidhub.people.identity import IdType, identity_normalise

ROSTER_MAX_BYTES = 10 * 1024 * 1024
ROSTER_MAX_ROWS = 20_000
HEADER_SEARCH_ROWS = 10

# Column headings people actually write, folded to lower-case ASCII.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "full_name": ("ho va ten", "ho ten", "ten", "full name", "name", "ho va ten can bo"),
    "birth": (
        "ngay sinh",
        "ngay thang nam sinh",
        "ngay, thang, nam sinh",
        "nam sinh",
        "date of birth",
        "birth date",
        "dob",
    ),
    "id_number": (
        "so cccd",
        "cccd",
        "so cccd/cmnd",
        "cccd/cmnd",
        "so cmnd/cccd",
        "cmnd/cccd",
        "cmnd",
        "so dinh danh",
        "so dinh danh ca nhan",
        "so giay to tuy than",
        "identity number",
        "id number",
    ),
    "phone": ("so dien thoai", "dien thoai", "sdt", "so dt", "phone", "phone number", "mobile"),
    "position": ("chuc vu", "chuc danh", "position", "title"),
    "unit": ("don vi", "phong ban", "bo phan", "don vi cong tac", "unit", "department"),
}
REQUIRED_COLUMNS = ("full_name", "birth", "id_number", "phone")
_ALIAS_TO_FIELD = {alias: name for name, aliases in COLUMN_ALIASES.items() for alias in aliases}


class RosterFileInvalid(SpreadsheetRefused):
    code = "roster_file_invalid"


def roster_max_bytes() -> int:
    return int(getattr(settings, "ADOPTION_ROSTER_MAX_BYTES", ROSTER_MAX_BYTES))


def roster_file_too_large() -> RosterFileInvalid:
    return RosterFileInvalid(
        _("The file is larger than %(size)s MB. Split the roster into several files.")
        % {"size": roster_max_bytes() // (1024 * 1024)}
    )


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "field": self.field,
            "column": str(column_labels().get(self.field, self.field)),
            "message": self.message,
        }


def column_labels() -> dict[str, str]:
    return {
        "full_name": _("Full name"),
        "birth": _("Date of birth"),
        "id_number": _("Identity number"),
        "phone": _("Phone number"),
        "position": _("Position"),
        "unit": _("Unit"),
    }


@dataclass
class ParsedRoster:
    sha256: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    bad_keys: set[str] = field(default_factory=set)
    row_count: int = 0

    @property
    def bad_rows(self) -> set[int]:
        return {e.row for e in self.errors}


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().strftime("%d/%m/%Y")
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _rows_of(data: bytes) -> Iterator[list[Any]]:
    limits = SheetLimits(
        max_bytes=roster_max_bytes(), max_rows=ROSTER_MAX_ROWS + HEADER_SEARCH_ROWS
    )
    try:
        return iter(sheet_read(content=data, limits=limits))
    except SpreadsheetRefused as exc:
        raise RosterFileInvalid(str(exc.message), reason=exc.reason) from exc


def _header_map(row: list[Any]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, value in enumerate(row):
        heading = fold_ascii(_cell_text(value)).strip(" :*")
        name = _ALIAS_TO_FIELD.get(heading)
        if name is None:
            continue
        if name in found:
            raise RosterFileInvalid(
                _("The column “%(column)s” appears twice.") % {"column": _cell_text(value)}
            )
        found[name] = index
    return found


def _id_type_for(number: str) -> str:
    if re.fullmatch(r"\d{12}", number):
        return IdType.CCCD
    if re.fullmatch(r"\d{9}", number):
        return IdType.CMND
    return IdType.PASSPORT


def _clean_id(raw: Any) -> str:
    text = re.sub(r"[\s.\-]", "", _cell_text(raw)).upper()
    # Excel drops the leading zero of a CCCD typed as a number (001… to 096…).
    if isinstance(raw, int | float) and len(text) == 11 and text.isdigit():
        text = "0" + text
    return text


def roster_parse(*, data: bytes, file_name: str) -> ParsedRoster:
    """Validate a whole roster file; raise RosterFileInvalid if it cannot be one."""
    if len(data) > roster_max_bytes():
        raise roster_file_too_large()
    if not data.strip():
        raise RosterFileInvalid(_("The file is empty."))
    parsed = ParsedRoster(sha256=hashlib.sha256(data).hexdigest())
    rows = _rows_of(data)
    header: dict[str, int] = {}
    line = 0
    for raw_row in rows:
        line += 1
        if line > HEADER_SEARCH_ROWS:
            break
        candidate = _header_map(raw_row)
        if len(candidate) >= 3:
            header = candidate
            break
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        labels = column_labels()
        raise RosterFileInvalid(
            _(
                "The file does not have the columns of a roster. Missing: %(columns)s. "
                "Expected columns: full name, date of birth, identity number, phone number, "
                "position, unit."
            )
            % {"columns": ", ".join(str(labels[m]) for m in missing)}
        )
    seen: dict[str, int] = {}
    for raw_row in rows:
        line += 1
        values = {name: raw_row[i] if i < len(raw_row) else None for name, i in header.items()}
        if all(_cell_text(v) == "" for v in values.values()):
            continue
        parsed.row_count += 1
        if parsed.row_count > ROSTER_MAX_ROWS:
            raise RosterFileInvalid(
                _("The file has more than %(rows)s rows. Split it into several files.")
                % {"rows": f"{ROSTER_MAX_ROWS:,}"}
            )
        row = _row_clean(line, values, parsed)
        if row is None:
            continue
        key = row["key"]
        if key in seen:
            first = seen[key]
            what = "id_number" if key.startswith("id:") else "phone"
            message = (
                _("The identity number is also on row %(row)s.")
                if what == "id_number"
                else _("The phone number is also on row %(row)s.")
            )
            parsed.errors.append(RowError(line, what, message % {"row": first}))
            if first not in parsed.bad_rows:
                parsed.errors.append(
                    RowError(first, what, message % {"row": line}),
                )
            parsed.bad_keys.add(key)
            continue
        seen[key] = line
        parsed.rows.append(row)
    if parsed.row_count == 0:
        raise RosterFileInvalid(_("The file has a heading row but no staff rows."))
    bad = parsed.bad_rows
    parsed.rows = [r for r in parsed.rows if r["row"] not in bad]
    parsed.errors.sort(key=lambda e: (e.row, e.field))
    return parsed


def _row_clean(line: int, values: dict[str, Any], parsed: ParsedRoster) -> dict[str, Any] | None:
    """One row: a dict ready to import, or None after recording its errors."""
    errors: list[RowError] = []

    def fail(name: str, message: str) -> None:
        errors.append(RowError(line, name, str(message)))

    full_name = nfc(_cell_text(values.get("full_name")))
    if not full_name:
        fail("full_name", _("Enter the full name."))
    elif len(full_name) > 150 or any(ch.isdigit() for ch in full_name):
        fail("full_name", _("Enter the name as on the identity document, without digits."))

    birth = None
    birth_text = _cell_text(values.get("birth"))
    if not birth_text:
        fail("birth", _("Enter the date of birth."))
    else:
        try:
            birth = partial_date_parse(birth_text)
        except InvalidInput as exc:
            fail("birth", str(exc.message))

    id_number = _clean_id(values.get("id_number"))
    id_type = ""
    if id_number:
        id_type = _id_type_for(id_number)
        parsed.bad_keys.add(f"id:{id_number}")
        try:
            id_number = identity_normalise(
                id_type=id_type, number=id_number, birth_year=birth.year if birth else None
            )
        except InvalidInput as exc:
            fail("id_number", str(exc.message))

    phone = _cell_text(values.get("phone"))
    if phone:
        try:
            phone = phone_normalise(phone)
        except InvalidInput as exc:
            fail("phone", str(exc.message))
    if not id_number and not phone:
        fail("id_number", _("Enter the identity number or the phone number."))

    position = nfc(_cell_text(values.get("position")))
    unit = nfc(_cell_text(values.get("unit")))
    if len(position) > 150:
        fail("position", _("The position is too long."))
    if len(unit) > 150:
        fail("unit", _("The unit name is too long."))

    key = f"id:{id_number}" if id_number else f"phone:{phone}"
    if errors:
        parsed.errors.extend(errors)
        # A bad row of a known member must not make them a leaver.
        if phone and not any(e.field == "phone" for e in errors):
            parsed.bad_keys.add(f"phone:{phone}")
        return None
    parsed.bad_keys.discard(f"id:{id_number}")
    assert birth is not None
    birth_date = birth.as_date()
    return {
        "row": line,
        "key": key,
        "full_name": full_name,
        "birth_date": birth_date.isoformat() if birth_date else None,
        "birth_year": birth.year,
        "id_type": id_type if id_number else "",
        "id_number": id_number,
        "phone": phone,
        "position": position,
        "unit": unit,
    }
