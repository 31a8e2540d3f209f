"""The Excel template for bulk entry of periodic updates (调度填报模板).

Three sheets as ``tracker.progress.sheets`` reads them. Key columns are locked and the sheets are
protected (without a password: the protection prevents slips, the server checks everything); the
cells to fill are unlocked, with dropdowns (是/否) and number and date validation. Text is always
written as text (never a formula); dates are real dates shown in Chinese.
"""

from __future__ import annotations

import datetime as dt
import io

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from reports.excel import CHINESE_DATE_FORMAT, Cell
from tracker.progress.sheets import (
    MILESTONE_COLUMNS,
    MILESTONE_SHEET,
    NARRATIVE_COLUMNS,
    NARRATIVE_SHEET,
    NO,
    TASK_COLUMNS,
    TASK_SHEET,
    YES,
    Template,
)

WIDTHS = {"pilot_id": 9, "organisation": 26, "period": 10, "task_id": 9, "task_number": 8, "task_title": 34,
          "planned_start": 15, "planned_end": 15, "expected": 12, "last": 12, "percent": 12, "version": 7,
          "work_done": 50, "problems": 36, "next_steps": 36, "milestone_id": 9, "title": 30, "due_date": 15,
          "indicator": 16, "target_value": 10, "reached": 9, "achieved_on": 15, "indicator_value": 10, "note": 30}  # fmt: skip
DATE_KEYS = {"planned_start", "planned_end", "due_date", "achieved_on"}
NUMBER_KEYS = {
    "pilot_id",
    "task_id",
    "milestone_id",
    "version",
    "expected",
    "last",
    "percent",
    "indicator_value",
}


def update_template_xlsx(template: Template) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False})  # fmt: skip
    base = {"font_name": "宋体", "font_size": 11, "valign": "top", "border": 1, "text_wrap": True}
    formats = {
        "title": book.add_format({"bold": True, "font_size": 14}),
        "note": book.add_format({"font_color": "#555555", "text_wrap": True}),
        "header": book.add_format({**base, "bold": True, "bg_color": "#E7EEF7", "valign": "vcenter", "align": "center"}),
        "header_edit": book.add_format({**base, "bold": True, "bg_color": "#FFF2CC", "valign": "vcenter", "align": "center"}),
        "locked": book.add_format({**base, "bg_color": "#F2F2F2"}),
        "locked_date": book.add_format({**base, "bg_color": "#F2F2F2", "num_format": CHINESE_DATE_FORMAT}),
        "edit": book.add_format({**base, "locked": False}),
        "edit_date": book.add_format({**base, "locked": False, "num_format": CHINESE_DATE_FORMAT}),
    }  # fmt: skip
    title = f"{template.city} {template.period.label_zh} 试点进展调度填报"
    note = ("黄色表头的列可填写，灰色列受保护请勿改动。进度填0–100的数字；“是否完成”选“是”或“否”；完成日期如2026年11月28日。"
            "上传后系统逐项检查，有任何问题则全部不写入并列出行列。")  # fmt: skip
    tasks: list[dict[str, Cell]] = []
    texts: list[dict[str, Cell]] = []
    milestones: list[dict[str, Cell]] = []
    for pilot in template.pilots:
        common: dict[str, Cell] = {
            "pilot_id": pilot.pilot_id,
            "organisation": pilot.organisation,
            "period": template.period.key,
        }
        texts.append({**common, "version": pilot.version, "work_done": pilot.work_done, "problems": pilot.problems,
                      "next_steps": pilot.next_steps})  # fmt: skip
        for task in pilot.tasks:
            tasks.append({**common, "task_id": task.task_id, "task_number": task.number, "task_title": task.title,
                          "planned_start": task.planned_start, "planned_end": task.planned_end,
                          "expected": task.expected, "last": task.last, "percent": task.current})  # fmt: skip
        for m in pilot.milestones:
            milestones.append({**common, "milestone_id": m.milestone_id, "title": m.title, "due_date": m.due_date,
                               "indicator": m.indicator, "target_value": m.target_value,
                               "reached": YES if m.reached else "",
                               "achieved_on": m.achieved_on, "indicator_value": m.indicator_value, "note": m.note})  # fmt: skip
    for name, columns, rows in ((TASK_SHEET, TASK_COLUMNS, tasks), (NARRATIVE_SHEET, NARRATIVE_COLUMNS, texts),
                                (MILESTONE_SHEET, MILESTONE_COLUMNS, milestones)):  # fmt: skip
        _sheet(book, formats, name, f"{title}（{name}）", note, columns, rows)
    book.close()
    return buffer.getvalue()


def _sheet(book: Workbook, formats: dict[str, Format], name: str, title: str, note: str,
           columns: tuple[tuple[str, str, bool], ...], rows: list[dict[str, Cell]]) -> None:  # fmt: skip
    sheet = book.add_worksheet(name)
    sheet.write_string(0, 0, title, formats["title"])
    sheet.merge_range(1, 0, 1, min(len(columns) - 1, 8), note, formats["note"])
    sheet.set_row(1, 32)
    header = 2
    for col, (key, caption, editable) in enumerate(columns):
        sheet.write_string(header, col, caption, formats["header_edit" if editable else "header"])
        sheet.set_column(col, col, WIDTHS.get(key, 12))
    last_row = header + max(len(rows), 1)
    for index, row in enumerate(rows, start=header + 1):
        for col, (key, _caption, editable) in enumerate(columns):
            kind = ("edit" if editable else "locked") + ("_date" if key in DATE_KEYS else "")
            _write(sheet, index, col, key, row.get(key), formats[kind])
    for col, (key, _caption, editable) in enumerate(columns):
        if not editable:
            continue
        if key == "percent":
            sheet.data_validation(header + 1, col, last_row, col, {
                "validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 100,
                "error_title": "进度", "error_message": "请填0–100之间的数字"})  # fmt: skip
        elif key == "reached":
            sheet.data_validation(header + 1, col, last_row, col, {"validate": "list", "source": [YES, NO]})
        elif key == "achieved_on":
            sheet.data_validation(header + 1, col, last_row, col, {
                "validate": "date", "criteria": "between", "minimum": dt.date(2020, 1, 1),
                "maximum": dt.date(2099, 12, 31), "error_message": "请填日期，如2026年11月28日"})  # fmt: skip
        elif key == "indicator_value":
            sheet.data_validation(header + 1, col, last_row, col, {
                "validate": "decimal", "criteria": "between", "minimum": -1e15, "maximum": 1e15,
                "error_message": "请填数字"})  # fmt: skip
        elif key in ("work_done", "problems", "next_steps"):
            sheet.data_validation(header + 1, col, last_row, col, {
                "validate": "length", "criteria": "<=", "value": 2000, "error_message": "不超过2000字"})  # fmt: skip
    sheet.freeze_panes(header + 1, 3 if name == TASK_SHEET else 2)
    sheet.autofilter(header, 0, last_row, len(columns) - 1)
    sheet.protect("", {"autofilter": True, "sort": False, "format_columns": True, "format_rows": True})
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(header)


def _write(sheet: Worksheet, row: int, col: int, key: str, value: Cell, fmt: Format) -> None:
    if value is None or value == "":
        sheet.write_blank(row, col, None, fmt)
    elif key in DATE_KEYS:
        sheet.write_datetime(row, col, value, fmt)
    elif key in NUMBER_KEYS:
        assert not isinstance(value, dt.date), key  # a number column never holds a date
        sheet.write_number(row, col, float(value), fmt)
    else:
        sheet.write_string(row, col, str(value), fmt)
