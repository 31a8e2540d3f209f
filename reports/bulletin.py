"""The dispatch bulletin (调度通报) as an Excel workbook, from ``tracker.monitoring.bulletin_data.BulletinData``.

Sheets: 汇总 (headline figures, a pie of progress status, the pilots needing attention), 分市情况
(per city, with a bar chart of the gap), 试点进度 (every pilot, traffic-light status), 逾期里程碑,
风险线索 (open flags) and 更新提交情况. The leadership cut is the 汇总 sheet alone, on one page.
Every sheet prints on A4 landscape, fitted to the width, its header row repeated on each page.
Text is always written as text (a message starting with "=" stays text), dates as real dates.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from reports.excel import CHINESE_DATE_FORMAT, Cell, safe_workbook
from tracker.core.i18n import _, english, format_date, label_of
from tracker.monitoring.bulletin_data import BulletinData, CutKind, PilotLine
from tracker.monitoring.figures import completeness_label, reporting_text, timeliness_label
from tracker.monitoring.palette import STATUS_CELL, STATUS_HEX, gap_colour
from tracker.progress.expected import STATUS_LABELS, ProgressStatus

HEADER_ROW = 3  # rows 0–2: title, subtitle, issue date
TRAFFIC_LIGHTS = STATUS_CELL  # progress status → cell colours (fill, font), the one palette
SEVERITY_LIGHTS = {"高": "#F8CBAD", "中": "#FFEB9C"}
Styles = dict[str, Format]  # the workbook's cell formats by name


@dataclass(frozen=True)
class Column:
    caption: str
    width: int
    kind: str = "text"  # text, wrap, number (one decimal), int, date


def bulletin_xlsx(data: BulletinData) -> bytes:
    """The bulletin's workbook: the full set of sheets, or for the leadership cut one page (汇总)."""
    buffer = io.BytesIO()
    book = safe_workbook(buffer)
    styles = _styles(book)
    _summary_sheet(book, styles, data)
    if data.cut.kind is not CutKind.LEADERSHIP:
        _cities_sheet(book, styles, data)
        _progress_sheet(book, styles, data)
        _milestones_sheet(book, styles, data)
        _flags_sheet(book, styles, data)
        _submissions_sheet(book, styles, data)
    book.close()
    return buffer.getvalue()


def file_name(data: BulletinData) -> str:
    """调度通报_2025年11月_第3期_全省.xlsx (the cut's scope last, so a city's files sort together); a
    correction 调度通报_2025年11月_第3期更正_全省.xlsx (更正2 for the second), beside its original."""
    scope = "领导摘要" if data.cut.kind is CutKind.LEADERSHIP else data.scope
    corrected = "" if not data.correction else "更正" if data.correction == 1 else f"更正{data.correction}"
    return f"调度通报_{data.period.label_zh}_第{data.number}期{corrected}_{scope}.xlsx"


# --- shared pieces ---------------------------------------------------------------------------------


def _styles(book: Workbook) -> Styles:
    base = {"font_name": "宋体", "font_size": 10, "valign": "vcenter"}
    cell = base | {"border": 1}
    return {
        "title": book.add_format(base | {"bold": True, "font_size": 16, "align": "center"}),
        "subtitle": book.add_format(base | {"align": "center"}),
        "label": book.add_format(base | {"bold": True}),
        "heading": book.add_format(base | {"bold": True, "font_size": 12}),
        "header": book.add_format(cell | {"bold": True, "bg_color": "#E7EEF7", "text_wrap": True, "align": "center"}),
        "text": book.add_format(cell),
        "wrap": book.add_format(cell | {"text_wrap": True, "valign": "top"}),
        "number": book.add_format(cell | {"num_format": "0.0"}),
        "int": book.add_format(cell | {"num_format": "0"}),
        "date": book.add_format(cell | {"num_format": CHINESE_DATE_FORMAT, "align": "left"}),
        "plain_date": book.add_format(base | {"num_format": CHINESE_DATE_FORMAT, "align": "left"}),
    } | {
        f"light_{status.value}": book.add_format({"bg_color": fill, "font_color": font})
        for status, (fill, font) in TRAFFIC_LIGHTS.items()
    } | {f"severity_{name}": book.add_format({"bg_color": fill}) for name, fill in SEVERITY_LIGHTS.items()}  # fmt: skip


def put(sheet: Worksheet, row: int, col: int, value: Cell, style: Format) -> None:
    """Write one value as what it is: text as text (never a formula), numbers as numbers, dates as dates."""
    if value is None or value == "":
        sheet.write_blank(row, col, None, style)
    elif isinstance(value, bool):
        sheet.write_string(row, col, "是" if value else "否", style)
    elif isinstance(value, int | float | Decimal):
        sheet.write_number(row, col, float(value), style)
    elif isinstance(value, dt.date):
        sheet.write_datetime(row, col, dt.datetime.combine(value, dt.time()), style)
    else:
        sheet.write_string(row, col, str(value), style)


def _sheet(
    book: Workbook, styles: Styles, name: str, data: BulletinData, columns: Sequence[Column]
) -> Worksheet:
    """A sheet with the bulletin's title, subtitle and issue date over ``columns``, set up for print."""
    sheet = book.add_worksheet(name)
    last = max(len(columns) - 1, 1)
    sheet.merge_range(0, 0, 0, last, data.title, styles["title"])
    sheet.merge_range(1, 0, 1, last, data.subtitle, styles["subtitle"])
    sheet.write_string(2, 0, "印发日期", styles["label"])
    put(sheet, 2, 1, data.issued_on, styles["plain_date"])
    sheet.set_row(0, 28)
    for col, column in enumerate(columns):
        sheet.set_column(col, col, column.width)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)  # one page wide, as many long as needed
    sheet.center_horizontally()
    sheet.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    sheet.set_footer(f"&C{data.title}　第&P页，共&N页")
    return sheet


def _table(sheet: Worksheet, styles: Styles, first: int, columns: Sequence[Column],
           rows: Sequence[Sequence[Cell]], empty: str) -> int:  # fmt: skip
    """Header at row ``first``, then the rows (or one row saying there are none); the last row used."""
    for col, column in enumerate(columns):
        sheet.write_string(first, col, column.caption, styles["header"])
    if not rows:
        sheet.merge_range(first + 1, 0, first + 1, max(len(columns) - 1, 1), empty, styles["text"])
        return first + 1
    for index, row in enumerate(rows, start=first + 1):
        for col, (column, value) in enumerate(zip(columns, row, strict=True)):
            whole = column.kind == "number" and isinstance(value, int)  # a count among percentages
            put(sheet, index, col, value, styles["int" if whole else column.kind])
    return first + len(rows)


def _header_table(sheet: Worksheet, styles: Styles, columns: Sequence[Column],
                  rows: Sequence[Sequence[Cell]], empty: str) -> int:  # fmt: skip
    """The sheet's one table under the title: header frozen, filterable and repeated on each page."""
    last = _table(sheet, styles, HEADER_ROW, columns, rows, empty)
    sheet.freeze_panes(HEADER_ROW + 1, 0)
    sheet.repeat_rows(HEADER_ROW)
    if rows:
        sheet.autofilter(HEADER_ROW, 0, last, len(columns) - 1)
    return last


# --- 汇总 ------------------------------------------------------------------------------------------

HEADLINE_COLUMNS = (Column("指标", 30), Column("数值", 12, "number"), Column("较上期", 12, "number"))
# Which headline rows have a change since the last period (tracker.monitoring.figures.headline_changes).
CHANGED_ROWS = {
    "纳入调度的试点（个）": "pilots",
    "进度正常（个）": "on_track",
    "进度滞后（个，含严重滞后）": "behind",
    "其中严重滞后（个）": "serious",
    "报送完整率（%）": "completeness",
    "逾期里程碑（个）": "overdue",
}
STATUS_COLUMNS = (Column("进度状态", 30), Column("试点数（个）", 12, "int"))
STAGE_COLUMNS = (Column("试点状态（全部试点）", 30), Column("试点数（个）", 12, "int"))
ATTENTION_COLUMNS = (Column("试点名称", 30, "wrap"), Column("城市", 12), Column("序时进度（%）", 10, "number"),
                     Column("实际进度（%）", 10, "number"), Column("滞后（百分点）", 10, "number"),
                     Column("进度状态", 10), Column("逾期里程碑", 9, "int"), Column("风险线索", 9, "int"))  # fmt: skip


def _headline_rows(data: BulletinData) -> Sequence[tuple[Cell, ...]]:
    """Each headline figure with its change since the last period (较上期; blank where none)."""

    def changed(name: str) -> Cell:
        key = CHANGED_ROWS.get(name)
        delta = data.changes[key].delta if key and key in data.changes else None
        return None if delta is None else delta

    return [(name, value, changed(name)) for name, value in _headline_values(data)]


def _headline_values(data: BulletinData) -> Sequence[tuple[str, Cell]]:
    h = data.headline
    return [
        ("纳入调度的试点（个）", h.pilots), ("平均序时进度（%）", h.expected), ("平均实际进度（%）", h.actual),
        ("进度正常（个）", h.by_progress[ProgressStatus.ON_TRACK]),
        ("进度滞后（个，含严重滞后）", h.behind),
        ("其中严重滞后（个）", h.by_progress[ProgressStatus.SERIOUSLY_BEHIND]),
        ("全部完成（个）", h.by_progress[ProgressStatus.FINISHED]), ("未开始（个）", h.by_progress[ProgressStatus.NOT_STARTED]),
        ("应报进展（份）", h.updates_expected), ("已报进展（份）", h.updates_submitted),
        ("按时报送（份，按首次报送）", h.updates_on_time),
        ("报送完整率（%）", h.completeness if h.reporting.applicable else "不适用"),
        ("报送及时率（%）", h.timeliness if h.reporting.applicable else "不适用"),
        ("逾期里程碑（个）", h.overdue_milestones), ("待核查风险线索（条）", h.open_flags_total),
    ] + [(f"　其中{level}风险（条）", count) for level, count in zip("高中低", h.open_flags.values(), strict=True)]  # fmt: skip


def _summary_sheet(book: Workbook, styles: Styles, data: BulletinData) -> None:
    """Headline figures, progress status (with its pie) and pilots by lifecycle status down columns
    A–B, the pie to their right, then the pilots needing attention across the page."""
    sheet = _sheet(book, styles, "汇总", data, ATTENTION_COLUMNS)
    last = _table(sheet, styles, HEADER_ROW, HEADLINE_COLUMNS, _headline_rows(data), "")
    statuses = [(STATUS_LABELS[s], n) for s, n in data.headline.by_progress.items()]
    status_row = last + 2
    last = _table(sheet, styles, status_row, STATUS_COLUMNS, statuses, "")
    _status_pie(book, sheet, data, status_row)
    last = _table(
        sheet, styles, last + 2, STAGE_COLUMNS, sorted(data.headline.by_stage.items()), "本期无试点"
    )
    first = last + 2
    sheet.write_string(first, 0, "需重点关注的试点（进度滞后，按滞后幅度排序）", styles["heading"])
    rows: list[list[Cell]] = [[p.name, p.city, p.expected, p.actual, p.gap, p.status_zh, p.overdue_milestones, p.open_flags]
            for p in data.attention]  # fmt: skip
    end = _table(sheet, styles, first + 1, ATTENTION_COLUMNS, rows, "本期无进度滞后的试点")
    if rows:
        _traffic_lights(sheet, styles, first + 2, end, 5)
    sheet.freeze_panes(HEADER_ROW + 1, 0)
    sheet.repeat_rows(0, 1)
    if data.cut.kind is CutKind.LEADERSHIP:
        sheet.fit_to_pages(1, 1)  # the leadership summary is one page


def _status_pie(book: Workbook, sheet: Worksheet, data: BulletinData, header_row: int) -> None:
    count = len(data.headline.by_progress)
    chart = book.add_chart({"type": "pie"})
    chart.add_series({
        "name": "试点进度状态", "categories": ["汇总", header_row + 1, 0, header_row + count, 0],
        "values": ["汇总", header_row + 1, 1, header_row + count, 1],
        "data_labels": {"value": True, "leader_lines": True},
        "points": [{"fill": {"color": _pie_colour(s)}} for s in data.headline.by_progress],
    })  # fmt: skip
    chart.set_title({"name": "试点进度状态分布", "name_font": {"name": "宋体", "size": 11}})
    chart.set_legend({"position": "right", "font": {"name": "宋体"}})
    chart.set_size({"width": 460, "height": 300})
    sheet.insert_chart(HEADER_ROW, 3, chart)


def _pie_colour(status: ProgressStatus) -> str:
    return STATUS_HEX[status]


def _traffic_lights(sheet: Worksheet, styles: Styles, first: int, last: int, col: int) -> None:
    """Colour a progress-status column from the one palette: red seriously behind, amber behind, green
    on track, blue finished, grey not started."""
    for status in TRAFFIC_LIGHTS:
        sheet.conditional_format(first, col, last, col, {
            "type": "cell", "criteria": "==", "value": f'"{STATUS_LABELS[status]}"',
            "format": styles[f"light_{status.value}"],
        })  # fmt: skip


# --- 分市情况 --------------------------------------------------------------------------------------

CITY_COLUMNS = (
    Column("城市", 10), Column("试点数", 8, "int"), Column("正常", 7, "int"), Column("滞后（含严重）", 9, "int"),
    Column("严重滞后", 8, "int"), Column("全部完成", 8, "int"), Column("平均序时进度（%）", 10, "number"),
    Column("平均实际进度（%）", 10, "number"), Column("平均滞后（百分点）", 10, "number"),
    Column("应报进展（份）", 9, "int"), Column("已报（份）", 8, "int"), Column("按时（份）", 8, "int"),
    Column("报送完整率（%）", 10, "number"), Column("报送及时率（%）", 10, "number"),
    Column("逾期里程碑", 9, "int"), Column("风险线索", 8, "int"),
)  # fmt: skip


def _cities_sheet(book: Workbook, styles: Styles, data: BulletinData) -> None:
    sheet = _sheet(book, styles, "分市情况", data, CITY_COLUMNS)
    rows = [[c.city, c.pilots, c.on_track, c.behind, c.seriously_behind, c.finished, c.expected, c.actual, c.gap,
             c.updates_expected, c.updates_submitted, c.updates_on_time, c.completeness, c.timeliness,
             c.overdue_milestones, c.open_flags] for c in data.cities]  # fmt: skip
    last = _header_table(sheet, styles, CITY_COLUMNS, rows, "本期无数据")
    if rows:
        chart = book.add_chart({"type": "column"})
        chart.add_series({
            "name": "平均滞后（百分点）", "categories": ["分市情况", HEADER_ROW + 1, 0, last, 0],
            "values": ["分市情况", HEADER_ROW + 1, 8, last, 8],
            "points": [{"fill": {"color": gap_colour(c.gap, data.figures.thresholds)}} for c in data.cities],
            "data_labels": {"value": True, "num_format": "0.0"},
        })  # fmt: skip
        chart.set_title(
            {"name": "各市平均滞后（序时进度 − 实际进度）", "name_font": {"name": "宋体", "size": 11}}
        )
        chart.set_y_axis({"name": "百分点", "num_format": "0"})
        chart.set_legend({"none": True})
        chart.set_size({"width": 760, "height": 300})
        sheet.insert_chart(last + 2, 0, chart)


# --- 试点进度 --------------------------------------------------------------------------------------

PILOT_COLUMNS = (
    Column("序号", 6, "int"), Column("城市", 8), Column("试点名称", 34, "wrap"), Column("试点单位", 28, "wrap"),
    Column("试点产品", 10), Column("试点状态", 9), Column("序时进度（%）", 10, "number"),
    Column("实际进度（%）", 10, "number"), Column("滞后（百分点）", 10, "number"), Column("进度状态", 10),
    Column("逾期里程碑", 9, "int"), Column("风险线索", 8, "int"),
)  # fmt: skip


def pilot_row(index: int, p: PilotLine) -> list[Cell]:
    return [index, p.city, p.name, p.organisation, p.product, p.stage, p.expected, p.actual, p.gap, p.status_zh,
            p.overdue_milestones, p.open_flags]  # fmt: skip


def _progress_sheet(book: Workbook, styles: Styles, data: BulletinData) -> None:
    sheet = _sheet(book, styles, "试点进度", data, PILOT_COLUMNS)
    rows = [pilot_row(i, p) for i, p in enumerate(data.pilots, start=1)]
    last = _header_table(sheet, styles, PILOT_COLUMNS, rows, "本期无纳入调度的试点")
    if rows:
        _traffic_lights(sheet, styles, HEADER_ROW + 1, last, 9)


# --- 逾期里程碑, 风险线索, 更新提交情况 ----------------------------------------------------------------

MILESTONE_COLUMNS = (Column("序号", 6, "int"), Column("城市", 8), Column("试点名称", 34, "wrap"),
                     Column("阶段性目标", 34, "wrap"), Column("计划完成日期", 16, "date"), Column("逾期天数", 9, "int"),
                     Column("指标", 20, "wrap"), Column("目标值", 12))  # fmt: skip
FLAG_COLUMNS = (Column("序号", 6, "int"), Column("城市", 8), Column("试点名称", 30, "wrap"), Column("线索类型", 20),
                Column("风险等级", 8), Column("核查状态", 10), Column("线索内容", 56, "wrap"),
                Column("发现日期", 16, "date"))  # fmt: skip
SUBMISSION_COLUMNS = (Column("序号", 6, "int"), Column("城市", 8), Column("试点名称", 30, "wrap"),
                      Column("填报状态", 12), Column("首次提交日期", 16, "date"), Column("逾期报送", 8),
                      Column("本期工作进展", 50, "wrap"), Column("存在问题", 40, "wrap"))  # fmt: skip


def _milestones_sheet(book: Workbook, styles: Styles, data: BulletinData) -> None:
    sheet = _sheet(book, styles, "逾期里程碑", data, MILESTONE_COLUMNS)
    rows: list[list[Cell]] = [[i, m.city, m.pilot, m.title, m.due_date, m.days_overdue, m.indicator, m.target_value]
            for i, m in enumerate(data.milestones, start=1)]  # fmt: skip
    _header_table(sheet, styles, MILESTONE_COLUMNS, rows, "截至统计日无逾期未完成的阶段性目标")


def _flags_sheet(book: Workbook, styles: Styles, data: BulletinData) -> None:
    sheet = _sheet(book, styles, "风险线索", data, FLAG_COLUMNS)
    rows: list[list[Cell]] = [[i, f.city, f.pilot, f.rule, f.severity_zh, f.status_zh, f.message, f.first_seen]
            for i, f in enumerate(data.flags, start=1)]  # fmt: skip
    last = _header_table(sheet, styles, FLAG_COLUMNS, rows, "无待核查的风险线索")
    for name in SEVERITY_LIGHTS:
        sheet.conditional_format(HEADER_ROW + 1, 4, max(last, HEADER_ROW + 1), 4, {
            "type": "cell", "criteria": "==", "value": f'"{name}"', "format": styles[f"severity_{name}"]})  # fmt: skip


def _submissions_sheet(book: Workbook, styles: Styles, data: BulletinData) -> None:
    sheet = _sheet(book, styles, "更新提交情况", data, SUBMISSION_COLUMNS)
    rows = [[i, s.city, s.pilot, s.state, s.submitted_on, s.late, s.work_done, s.problems]
            for i, s in enumerate(data.submissions, start=1)]  # fmt: skip
    _header_table(sheet, styles, SUBMISSION_COLUMNS, rows, "本期无应报进展")


def _scope(data: BulletinData) -> str:
    """全省 or the city, in the reader's language."""
    if data.scope == "全省":
        return _(data.scope)
    return data.scope_en if english() and data.scope_en else data.scope


def summary_sentence(data: BulletinData) -> str:
    """The situation of the period in one sentence (the PDF's 总体情况, a message's body, the leadership
    page), in the reader's language: Chinese in documents, which the jobs build. Its counts partition
    the pilots it names (正常 + 滞后 + 全部完成 + 未开始), and it says the day they are counted on."""
    h = data.headline
    return _("截至{on}，{scope}纳入调度试点{pilots}个（{period}应报送）：进度正常{on_track}个，滞后{behind}个（其中严重滞后{serious}个），"
             "全部完成{finished}个，未开始{not_started}个；进展报送完整率{completeness}，及时率{timeliness}（{due}）；"
             "逾期里程碑{overdue}个，待核查风险线索{flags}条。").format(
        on=format_date(data.on), period=label_of(data.period), scope=_scope(data),
        pilots=h.pilots, on_track=h.by_progress[ProgressStatus.ON_TRACK], behind=h.behind,
        serious=h.by_progress[ProgressStatus.SERIOUSLY_BEHIND], finished=h.by_progress[ProgressStatus.FINISHED],
        not_started=h.by_progress[ProgressStatus.NOT_STARTED],
        completeness=completeness_label(h.reporting), timeliness=timeliness_label(h.reporting),
        due=reporting_text(h.reporting), overdue=h.overdue_milestones, flags=h.open_flags_total)  # fmt: skip


def summary_text(data: BulletinData) -> str:
    """The bulletin in a few lines, for an e-mail body or a group-robot message, in the reader's language
    (its title is the document's name, as issued)."""
    issued = _("印发日期：{day}").format(day=format_date(data.issued_on))
    return f"{data.title}\n{summary_sentence(data)}\n{issued}"
