"""The official forms written back out, ready to print: the city summary table (附件1), the
application form (附件3) and the published pilot list (名单).

Plain functions of data. Text is always written as text (never a formula), phone numbers stay text,
and every sheet is set up for A4 with its titles repeated on each page.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Mapping, Sequence

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from reports.excel import CHINESE_DATE_FORMAT, Cell

SUMMARY_TITLE = "拟申报产品碳足迹管理体系试点汇总表"
SUMMARY_HEADERS = (
    ("serial", "序号", 6),
    ("organisation_name", "试点申报单位", 24),
    ("category_text", "试点类别\n(产品碳足迹管理试点填写)", 16),
    ("product_text", "试点产品名称\n(产品碳足迹管理试点填写)", 14),
    ("summary_advantages", "试点工作优势\n(500 字)", 48),
    ("summary_plan", "试点工作计划简介\n(500 字)", 48),
    ("contact_name", "联系人", 10),
    ("contact_phone", "联系电话", 15),
)
SUMMARY_NOTE = "备注：试点类别填“产品碳足迹管理试点”或“碳足迹专业化服务试点”。"
PROMISE = (
    "我单位自愿申报承担试点建设工作，提交的所有材料均真实、完整、有效，符合国家有关法律法规以及相关产业政策要求。"
    "积极拓展融资渠道，保障试点建设工作资金需求。若申报材料中有虚假、伪造及其他违规情况，愿承担相应的法律责任及由此产生的一切后果。"
)


def _book() -> tuple[io.BytesIO, Workbook]:
    buffer = io.BytesIO()
    options = {
        "in_memory": True,
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
    }
    return buffer, xlsxwriter.Workbook(buffer, options)


def _formats(book: Workbook) -> dict[str, Format]:
    base = {"font_name": "宋体", "font_size": 11, "valign": "vcenter"}
    return {
        "annex": book.add_format({**base, "font_name": "黑体", "font_size": 12}),
        "title": book.add_format({**base, "font_name": "方正小标宋简体", "font_size": 18, "align": "center"}),
        "filler": book.add_format({**base, "font_size": 12}),
        "header": book.add_format({**base, "bold": True, "border": 1, "align": "center", "text_wrap": True}),
        "cell": book.add_format({**base, "border": 1, "text_wrap": True, "valign": "top"}),
        "center": book.add_format({**base, "border": 1, "align": "center", "text_wrap": True}),
        "label": book.add_format({**base, "border": 1, "align": "center", "text_wrap": True, "bold": True}),
        "section": book.add_format({**base, "border": 1, "bold": True, "bg_color": "#F2F2F2"}),
        "note": book.add_format({**base, "text_wrap": True}),
        "date": book.add_format({**base, "border": 1, "align": "center", "num_format": CHINESE_DATE_FORMAT}),
    }


def _text(sheet: Worksheet, row: int, col: int, value: Cell, fmt: Format) -> None:
    sheet.write_string(row, col, "" if value is None else str(value), fmt)


def _height(text: str, width_chars: float, minimum: float = 20) -> float:
    """A row tall enough for ``text`` wrapped in a column about ``width_chars`` wide (CJK ≈ 2 units)."""

    def units(part: str) -> int:
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in part)

    lines = sum(max(1, math.ceil(units(part) / max(1.0, width_chars - 1))) for part in text.split("\n"))
    return max(minimum, min(409, lines * 15 + 4))


def _a4(sheet: Worksheet, *, landscape: bool, repeat_to: int) -> None:
    sheet.set_paper(9)
    if landscape:
        sheet.set_landscape()
    else:
        sheet.set_portrait()
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0, repeat_to)
    sheet.set_margins(left=0.5, right=0.5, top=0.7, bottom=0.7)
    sheet.center_horizontally()
    sheet.set_footer("&C第 &P 页，共 &N 页")


def summary_table_xlsx(filler: str, rows: Sequence[Mapping[str, Cell]], *, annex: str = "附件1") -> bytes:
    """附件1 as in the notice: annex number, title, 填报单位（盖章） line, wrapped headers, 备注 row."""
    buffer, book = _book()
    fmt = _formats(book)
    sheet = book.add_worksheet("汇总表")
    last = len(SUMMARY_HEADERS) - 1
    _text(sheet, 0, 0, annex, fmt["annex"])
    sheet.merge_range(1, 0, 1, last, SUMMARY_TITLE, fmt["title"])
    sheet.set_row(1, 36)
    sheet.merge_range(2, 0, 2, last, f"填报单位（盖章）：{filler}", fmt["filler"])
    for col, (_key, caption, width) in enumerate(SUMMARY_HEADERS):
        sheet.set_column(col, col, width)
        _text(sheet, 3, col, caption, fmt["header"])
    sheet.set_row(3, 44)
    for index, row in enumerate(rows, start=1):
        excel_row = 3 + index
        sheet.write_number(excel_row, 0, index, fmt["center"])
        for col, (key, _caption, _width) in enumerate(SUMMARY_HEADERS[1:], start=1):
            _text(sheet, excel_row, col, row.get(key), fmt["center"] if key in ("category_text", "product_text",
                  "contact_name", "contact_phone") else fmt["cell"])  # fmt: skip
        longest = max(len(str(row.get("summary_advantages") or "")), len(str(row.get("summary_plan") or "")))
        sheet.set_row(excel_row, _height("字" * longest, 48))
    note_row = 4 + len(rows)
    sheet.merge_range(note_row, 0, note_row, last, SUMMARY_NOTE, fmt["note"])
    sheet.freeze_panes(4, 0)
    _a4(sheet, landscape=True, repeat_to=3)
    sheet.print_area(0, 0, note_row, last)
    book.close()
    return buffer.getvalue()


def application_form_xlsx(values: Mapping[str, Cell]) -> bytes:
    """附件3 碳足迹管理体系试点申报表, four columns as in the notice (label, value, label, value)."""
    buffer, book = _book()
    fmt = _formats(book)
    sheet = book.add_worksheet("申报表")
    for col, width in enumerate((18, 30, 18, 30)):
        sheet.set_column(col, col, width)
    _text(sheet, 0, 0, "附件3", fmt["annex"])
    sheet.merge_range(1, 0, 1, 3, "碳足迹管理体系试点申报表", fmt["title"])
    sheet.set_row(1, 36)
    row = 2

    def section(title: str) -> None:
        nonlocal row
        sheet.merge_range(row, 0, row, 3, title, fmt["section"])
        row += 1

    def pair(label_a: str, key_a: str, label_b: str, key_b: str) -> None:
        nonlocal row
        _text(sheet, row, 0, label_a, fmt["label"])
        _text(sheet, row, 1, values.get(key_a), fmt["cell"])
        _text(sheet, row, 2, label_b, fmt["label"])
        _text(sheet, row, 3, values.get(key_b), fmt["cell"])
        sheet.set_row(row, 24)
        row += 1

    def wide(label: str, value: Cell) -> None:
        nonlocal row
        text = "" if value is None else str(value)
        _text(sheet, row, 0, label, fmt["label"])
        sheet.merge_range(row, 1, row, 3, text, fmt["cell"])
        sheet.set_row(row, _height(text, 78, 30))
        row += 1

    section("申报单位基本信息")
    wide("申报单位", values.get("organisation_name"))
    pair("单位负责人", "leader_name", "职务", "leader_title")
    pair("联系电话", "leader_phone", "电子邮箱", "leader_email")
    pair("工作联系人", "contact_name", "职务", "contact_title")
    pair("联系电话", "contact_phone", "电子邮箱", "contact_email")
    section("申报产品/专业化服务信息")
    pair("试点类别", "category_text", "试点产品\n(产品碳足迹管理试点填写)", "product_text")
    sheet.set_row(row - 1, 32)
    wide("试点创建总体目标", values.get("overall_goal"))
    wide("试点任务", values.get("tasks_summary"))
    wide("试点单位情况简介", values.get("unit_intro"))
    wide("符合试点条件的说明", values.get("eligibility"))
    wide("试点工作优势", values.get("advantages"))
    wide("未来计划", values.get("future_plan"))
    promise = f"{PROMISE}\n\n申报单位（盖章）：　　　　　　申报单位负责人（签字）：\n\n年　　月　　日"
    wide("申报材料真实性承诺", promise)
    _text(sheet, row, 0, "试点建设工作方案附后。", fmt["filler"])
    _a4(sheet, landscape=False, repeat_to=1)
    sheet.print_area(0, 0, row, 3)
    book.close()
    return buffer.getvalue()


LIST_TITLE = "产品碳足迹管理体系试点名单"


def pilot_list_xlsx(rows: Sequence[Mapping[str, Cell]], *, subtitle: str = "") -> bytes:
    """名单: product pilots, then service pilots, each numbered from 1; dates as real dates."""
    buffer, book = _book()
    fmt = _formats(book)
    sheet = book.add_worksheet("试点名单")
    headers = (
        ("序号", 6),
        ("所在市", 10),
        ("试点单位", 36),
        ("试点产品", 14),
        ("批次", 10),
        ("公布日期", 16),
    )
    for col, (_caption, width) in enumerate(headers):
        sheet.set_column(col, col, width)
    sheet.merge_range(0, 0, 0, 5, LIST_TITLE, fmt["title"])
    sheet.set_row(0, 36)
    row = 1
    if subtitle:
        sheet.merge_range(row, 0, row, 5, subtitle, fmt["filler"])
        row += 1
    for col, (caption, _width) in enumerate(headers):
        _text(sheet, row, col, caption, fmt["header"])
    header_row = row
    row += 1
    for group, title in (("product", "一、产品碳足迹管理试点"), ("service", "二、产品碳足迹专业化服务试点")):
        members = [r for r in rows if r["category"] == group]
        if not members:
            continue
        sheet.merge_range(row, 0, row, 5, title, fmt["section"])
        row += 1
        for index, item in enumerate(members, start=1):
            sheet.write_number(row, 0, index, fmt["center"])
            _text(sheet, row, 1, item.get("city"), fmt["center"])
            _text(sheet, row, 2, item.get("organisation"), fmt["cell"])
            _text(sheet, row, 3, item.get("product") or "—", fmt["center"])
            _text(sheet, row, 4, item.get("batch"), fmt["center"])
            published = item.get("published_on")
            if isinstance(published, dt.date):  # the list holds published pilots: always a date
                sheet.write_datetime(row, 5, dt.datetime.combine(published, dt.time()), fmt["date"])
            else:
                _text(sheet, row, 5, "", fmt["center"])
            row += 1
    sheet.freeze_panes(header_row + 1, 0)
    _a4(sheet, landscape=False, repeat_to=header_row)
    sheet.print_area(0, 0, max(row - 1, header_row), 5)
    book.close()
    return buffer.getvalue()
