"""Excel tables written safely: text is always text (never run as a formula), dates are real dates.
CSV files meant for Excel get the same protection through ``csv_text``."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TypeAlias

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from tracker.core.i18n import _

CHINESE_DATE_FORMAT = 'yyyy"年"m"月"d"日"'
# A cell starting with one of these is run as a formula when a CSV file is opened in Excel or WPS
# (CSV injection): "=HYPERLINK(...)", "+cmd|...", "@SUM(...)"; tab and CR hide the sign behind space.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# What a table cell may hold (a bool is an int): written as text, a number or a date, never a formula.
Cell: TypeAlias = str | int | float | Decimal | dt.date | None


def _as_date(value: object) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def safe_workbook(buffer: io.BytesIO) -> xlsxwriter.Workbook:
    """A workbook in memory where a string is only ever written as text: never a formula, a link
    or a number, whichever ``write`` call reaches it."""
    return xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False, "strings_to_numbers": False})  # fmt: skip


def sheet_name(title: str) -> str:
    """A worksheet name Excel accepts: none of []:*?/\\, not quoted at either end, 31 characters at most."""
    name = re.sub(r"[\[\]:*?/\\]", "_", title).strip("'")[:31].strip()
    return name or "Sheet1"


def write_table(
    title: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Mapping[str, object]],
    *,
    date_keys: Sequence[str] = (),
    note: str | None = None,
) -> bytes:
    """One sheet: a title row, a header row (frozen, filterable), then ``rows`` keyed as ``columns``."""
    buffer = io.BytesIO()
    book = safe_workbook(buffer)
    sheet = book.add_worksheet(sheet_name(title))
    heading = book.add_format({"bold": True, "font_size": 14})
    header = book.add_format({"bold": True, "bg_color": "#E7EEF7", "border": 1, "text_wrap": True,
                              "valign": "vcenter"})  # fmt: skip
    text = book.add_format({"text_wrap": True, "valign": "top"})
    date = book.add_format({"num_format": CHINESE_DATE_FORMAT, "valign": "top"})
    sheet.write_string(0, 0, title, heading)
    if note:
        sheet.write_string(1, 0, note)
    first = 2
    for col, (key, caption) in enumerate(columns):
        sheet.write_string(first, col, caption, header)
        width = 16 if key in date_keys else max(10, min(40, len(caption) * 2 + 4))  # 2026年11月30日 fits
        sheet.set_column(col, col, width)
    for index, row in enumerate(rows, start=first + 1):
        for col, (key, _caption) in enumerate(columns):
            _write_cell(sheet, index, col, row.get(key), text, date if key in date_keys else None)
    sheet.freeze_panes(first + 1, 0)
    sheet.autofilter(first, 0, first + len(rows), max(0, len(columns) - 1))
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(first)
    book.close()
    return buffer.getvalue()


def _write_cell(
    sheet: Worksheet, row: int, col: int, value: object, text: Format, date: Format | None
) -> None:
    if value is None or value == "":
        return
    if date is not None and (day := _as_date(value)) is not None:
        sheet.write_datetime(row, col, dt.datetime.combine(day, dt.time()), date)
    elif isinstance(value, bool):
        sheet.write_string(
            row, col, _("是") if value else _("否"), text
        )  # Chinese in documents (jobs run in Chinese)
    elif isinstance(value, int | float):
        sheet.write_number(row, col, value)
    else:
        sheet.write_string(row, col, str(value), text)  # text stays text: "=cmd|..." is never a formula


def csv_text(value: object) -> str:
    """A CSV cell that a spreadsheet shows as the text it is: a leading formula sign gets an
    apostrophe before it (Excel's own mark for "this is text"), everything else is unchanged."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text
