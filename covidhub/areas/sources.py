"""Official lists of administrative units, read into `UnitRow`s.

Two sources: the three-level pre-2025 data in the `vietnam-provinces` package, and the
national statistics office's (GSO) published list exported as CSV or XLSX, which lets an
operator load the units valid at a given date.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from django.utils.translation import gettext as _

from covidhub.areas.services import UnitRow
from covidhub.core.errors import InvalidInput
from covidhub.core.spreadsheets import SheetLimits, sheet_read
from covidhub.core.text import fold_ascii

CODE_WIDTH = {1: 2, 2: 3, 3: 5}


def official_code(level: int, raw: object) -> str:
    text = str(raw).strip()
    if text.endswith(".0"):  # spreadsheets turn codes into floats
        text = text[:-2]
    if not text.isdigit() or len(text) > CODE_WIDTH[level]:
        raise ValueError(text)
    return text.zfill(CODE_WIDTH[level])


def rows_from_package(*, province_code: str) -> list[UnitRow]:
    from vietnam_provinces.legacy import District, Province, ProvinceCode, Ward

    try:
        province = Province.from_code(ProvinceCode(int(province_code)))
    except ValueError as exc:
        raise InvalidInput(
            _("Province code %(code)s is not known.") % {"code": province_code}
        ) from exc
    p_code = official_code(1, int(province.code))
    rows = [UnitRow(1, p_code, province.name, str(province.division_type))]
    for district in District.iter_by_province(province.code):
        d_code = official_code(2, int(district.code))
        rows.append(UnitRow(2, d_code, district.name, str(district.division_type), p_code))
        for ward in Ward.iter_by_district(district.code):
            rows.append(
                UnitRow(
                    3, official_code(3, int(ward.code)), ward.name, str(ward.division_type), d_code
                )
            )
    return rows


# Header spellings seen in the GSO exports, folded to ASCII lower case.
_COLUMNS = {
    "province_name": {"tinh thanh pho", "tinh / thanh pho", "tinh/thanh pho", "tinh"},
    "province_code": {"ma tp", "ma tinh"},
    "district_name": {"quan huyen", "quan / huyen", "huyen"},
    "district_code": {"ma qh", "ma huyen"},
    "commune_name": {"phuong xa", "phuong / xa", "xa"},
    "commune_code": {"ma px", "ma xa"},
    "commune_type": {"cap"},
}
_TYPES = ("thành phố", "thị trấn", "thị xã", "phường", "quận", "huyện", "tỉnh", "xã")


def _division_type(name: str, given: str = "") -> str:
    if given:
        return given.strip().lower()
    lower = name.lower()
    return next((t for t in _TYPES if lower.startswith(t)), "")


# The whole country has about 10,600 communes; a GSO list is a few megabytes.
GSO_LIMITS = SheetLimits(max_bytes=20 * 1024 * 1024, max_rows=20_000)


def _records(path: Path) -> Iterator[list[object]]:
    for values in sheet_read(content=path.read_bytes(), limits=GSO_LIMITS):
        yield ["" if v is None else v for v in values]


def rows_from_gso_file(*, path: Path) -> list[UnitRow]:
    """Read a GSO export; every bad row is reported and nothing is returned then."""
    records = iter(_records(path))
    header = next(records, None)
    if header is None:
        raise InvalidInput(_("The file is empty."))
    positions: dict[str, int] = {}
    for index, title in enumerate(header):
        folded = fold_ascii(str(title))
        for key, names in _COLUMNS.items():
            if folded in names:
                positions[key] = index
    missing = [k for k in _COLUMNS if k not in positions and k != "commune_type"]
    if missing:
        raise InvalidInput(
            _("The file lacks the columns of the GSO list: %(columns)s")
            % {"columns": ", ".join(missing)}
        )
    rows: dict[tuple[int, str], UnitRow] = {}
    errors: list[str] = []
    for number, record in enumerate(records, start=2):
        if not any(str(v).strip() for v in record):
            continue

        def cell(key: str, record: list[object] = record) -> str:
            index = positions.get(key)
            return str(record[index]).strip() if index is not None and index < len(record) else ""

        try:
            p = official_code(1, cell("province_code"))
            d = official_code(2, cell("district_code"))
            c = official_code(3, cell("commune_code"))
        except ValueError:
            errors.append(_("Row %(row)d: a code is missing or not a number.") % {"row": number})
            continue
        unit_names = (cell("province_name"), cell("district_name"), cell("commune_name"))
        if not all(unit_names):
            errors.append(_("Row %(row)d: a name is missing.") % {"row": number})
            continue
        if (3, c) in rows:
            errors.append(
                _("Row %(row)d: commune code %(code)s repeats.") % {"row": number, "code": c}
            )
            continue
        rows.setdefault((1, p), UnitRow(1, p, unit_names[0], _division_type(unit_names[0])))
        rows.setdefault((2, d), UnitRow(2, d, unit_names[1], _division_type(unit_names[1]), p))
        rows[(3, c)] = UnitRow(
            3, c, unit_names[2], _division_type(unit_names[2], cell("commune_type")), d
        )
    if errors:
        raise InvalidInput(_("The list has errors; nothing was loaded."), details={"rows": errors})
    return list(rows.values())


def province_codes(rows: Iterable[UnitRow]) -> set[str]:
    return {r.code for r in rows if r.level == 1}
