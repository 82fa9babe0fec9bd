"""The compliance report as the spreadsheet the Department of Information and
Communications sends to the provincial People's Committee."""

from __future__ import annotations

import datetime
import io

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from covidhub.adoption.selectors import AgencyRow, Figures
from covidhub.core.dates import date_text
from covidhub.core.spreadsheets import xlsx_set


def export_columns() -> list[str]:
    return [
        _("No."),
        _("Agency / unit"),
        _("Total staff"),
        _("With an account"),
        _("% with an account"),
        _("Active in the last 7 days"),
        _("% active"),
        _("Not started"),
        _("Rank"),
    ]


HEADER_ROW = 5


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value / 100, 4)


def adoption_export_xlsx(*, rows: list[AgencyRow], day: datetime.date, title: str) -> bytes:
    """One line per agency with its subtree figures, a total line, ranks against 100%."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = _("Report")[:31]
    sheet["A1"] = _("PEOPLE'S COMMITTEE OF %(province)s PROVINCE") % {"province": "HẢI DƯƠNG"}
    sheet["A2"] = _("DEPARTMENT OF INFORMATION AND COMMUNICATIONS")
    xlsx_set(sheet, row=3, column=1, value=title)
    sheet["A4"] = _(
        "As of %(date)s · target: 100%% of officials, civil servants, public employees and workers"
    ) % {"date": date_text(day)}
    for ref in ("A1", "A2", "A3"):
        sheet[ref].font = Font(bold=True)
    columns = export_columns()
    for index, heading in enumerate(columns, start=1):
        head = xlsx_set(sheet, row=HEADER_ROW, column=index, value=heading)
        head.font = Font(bold=True)
        head.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    line = HEADER_ROW
    total = Figures()
    shown = {r.agency.pk for r in rows}
    for number, row in enumerate(rows, start=1):
        line += 1
        figures = row.total
        if row.agency.parent_id not in shown:
            total.add(figures)
        indent = "    " * row.agency.depth
        values: list[str | int | float | None] = [
            number,
            indent + row.agency.name,
            figures.staff,
            figures.with_account,
            _pct(figures.account_pct),
            figures.active,
            _pct(figures.active_pct),
            figures.not_started,
            row.rank,
        ]
        for index, value in enumerate(values, start=1):
            # Agency names are typed by people: '=HYPERLINK(…)' must stay text.
            xlsx_set(sheet, row=line, column=index, value=value)
    line += 1
    total_values: list[str | int | float | None] = [
        None,
        _("Total"),
        total.staff,
        total.with_account,
        _pct(total.account_pct),
        total.active,
        _pct(total.active_pct),
        total.not_started,
        None,
    ]
    for index, value in enumerate(total_values, start=1):
        xlsx_set(sheet, row=line, column=index, value=value).font = Font(bold=True)
    for r in range(HEADER_ROW + 1, line + 1):
        for c in (5, 7):
            sheet.cell(row=r, column=c).number_format = "0.0%"
    widths = [6, 48, 12, 14, 12, 16, 10, 12, 8]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = f"C{HEADER_ROW + 1}"
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.page_setup.orientation = "landscape"
    workbook.properties.creator = settings.PLATFORM_NAME
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
