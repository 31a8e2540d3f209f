"""The leadership summary of a dispatch bulletin as a one-page PDF (A4 portrait), Chinese fonts embedded.

The font is Noto Sans CJK SC from the system (Debian/Ubuntu package ``fonts-noto-cjk``, SIL Open
Font License 1.1): an OpenType collection with CFF outlines, which fpdf2 (≥2.8) reads from the
collection and embeds as a subset (/FontFile3), so the PDF shows and copies the same text on any
reader, with no font installed there. Nothing is shipped in this repository. On a server without the
package the summary degrades instead of failing its bulletin: a one-page PDF in a built-in Latin font
with the headline figures and a notice to install the package (and a warning in the log, in Chinese
and English, the same one ``missing_font()`` gives).
"""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import WrapMode
from fpdf.fonts import FontFace

from reports.bulletin import summary_sentence
from tracker.models.labels import format_date_zh
from tracker.monitoring.bulletin_data import BulletinData
from tracker.monitoring.palette import STATUS_CELL, rgb
from tracker.progress.expected import ProgressStatus

NOTO_DIR = Path("/usr/share/fonts/opentype/noto")
SIMPLIFIED_CHINESE = 2  # the SC face inside the Noto Sans CJK collections (JP, KR, SC, TC, HK, …)
FONTS = {"": NOTO_DIR / "NotoSansCJK-Regular.ttc", "B": NOTO_DIR / "NotoSansCJK-Bold.ttc"}
FAMILY = "NotoSansSC"
log = logging.getLogger("tracker.reports")
STATUS_COLOURS = {status: rgb(fill) for status, (fill, _font) in STATUS_CELL.items()}  # the workbook's lights


def missing_font() -> tuple[str, str] | None:
    """Why the summary cannot be set in Chinese (Chinese, English), or None when the fonts are there."""
    for path in FONTS.values():
        if not path.exists():
            return (f"缺少中文字体 {path}，领导摘要 PDF 将只含英文数字摘要；请安装 fonts-noto-cjk",
                    f"Chinese font {path} missing: the leadership PDF is reduced to a Latin-script "
                    "summary of the figures; install the fonts-noto-cjk package")  # fmt: skip
    return None


def leadership_pdf(data: BulletinData) -> bytes:
    """The leadership summary: title, the situation in one paragraph, headline figures, and the
    pilots needing attention (without the Chinese font: ``_without_chinese_font``)."""
    missing = missing_font()
    if missing is not None:
        log.warning("%s / %s", *missing)
        return _without_chinese_font(data)
    pdf = _document(data)
    _heading(pdf, data)
    _section(pdf, "一、总体情况")
    pdf.multi_cell(0, 7, summary_sentence(data), wrapmode=WrapMode.CHAR, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _section(pdf, "二、主要指标")
    _figures(pdf, data)
    _section(pdf, "三、需重点关注的试点")
    _attention(pdf, data)
    pdf.ln(4)
    pdf.set_font(FAMILY, size=10)
    pdf.cell(0, 6, f"印发日期：{format_date_zh(data.issued_on)}", align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _document(data: BulletinData) -> FPDF:
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    for style, path in FONTS.items():
        pdf.add_font(FAMILY, style, str(path), collection_font_number=SIMPLIFIED_CHINESE)
    pdf.set_title(data.title)
    pdf.set_lang("zh-CN")
    pdf.set_creator("碳足迹试点监管平台")
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=14)
    pdf.add_page()
    return pdf


def _heading(pdf: FPDF, data: BulletinData) -> None:
    pdf.set_font(FAMILY, "B", 15)
    pdf.multi_cell(0, 9, data.title, align="C", wrapmode=WrapMode.CHAR, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, size=9.5)
    pdf.cell(0, 6, data.subtitle, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(192, 0, 0)
    pdf.line(pdf.l_margin, pdf.get_y() + 1, pdf.w - pdf.r_margin, pdf.get_y() + 1)
    pdf.ln(4)


def _section(pdf: FPDF, title: str) -> None:
    pdf.set_font(FAMILY, "B", 12)
    pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, size=10.5)


def _shown(value: Decimal | int | None, unit: str = "") -> str:
    return "—" if value is None else f"{value}{unit}"


# Which figures carry their change since the last period (tracker.monitoring.figures.headline_changes).
CHANGED = {"纳入调度的试点": "pilots", "进度正常": "on_track", "进度滞后（含严重）": "behind",
           "其中严重滞后": "serious", "报送完整率": "completeness", "逾期里程碑": "overdue"}  # fmt: skip


def _figures(pdf: FPDF, data: BulletinData) -> None:
    """The headline figures two to a row, each count with its 较上期 under it (the bulletin's own)."""
    h = data.headline
    pairs = [
        ("纳入调度的试点", f"{h.pilots}个"), ("进度正常", f"{h.by_progress[ProgressStatus.ON_TRACK]}个"),
        ("进度滞后（含严重）", f"{h.behind}个"), ("其中严重滞后", f"{h.by_progress[ProgressStatus.SERIOUSLY_BEHIND]}个"),
        ("平均序时进度", _shown(h.expected, "%")), ("平均实际进度", _shown(h.actual, "%")),
        ("全部完成", f"{h.by_progress[ProgressStatus.FINISHED]}个"), ("未开始", f"{h.by_progress[ProgressStatus.NOT_STARTED]}个"),
        ("报送完整率", _shown(h.completeness, "%") if h.reporting.applicable else "不适用"),
        ("报送及时率（按首次报送）", _shown(h.timeliness, "%") if h.reporting.applicable else "不适用"),
        ("逾期里程碑", f"{h.overdue_milestones}个"), ("待核查风险线索", f"{h.open_flags_total}条"),
    ]  # fmt: skip
    pairs = [(name, _with_change(value, data, CHANGED.get(name))) for name, value in pairs]
    label = FontFace(emphasis="BOLD", fill_color=(231, 238, 247))
    with pdf.table(col_widths=(32, 20, 32, 20), first_row_as_headings=False, line_height=5.5,
                   text_align=("LEFT", "RIGHT", "LEFT", "RIGHT")) as table:  # fmt: skip
        for left, right in zip(pairs[::2], pairs[1::2], strict=True):
            row = table.row()
            row.cell(left[0], style=label)
            row.cell(left[1])
            row.cell(right[0], style=label)
            row.cell(right[1])
    pdf.ln(3)


def _with_change(value: str, data: BulletinData, key: str | None) -> str:
    change = data.changes.get(key) if key else None
    return value if change is None else f"{value}\n{change.text('zh_CN')}"


def _attention(pdf: FPDF, data: BulletinData) -> None:
    if not data.attention:
        pdf.cell(0, 7, "本期无进度滞后的试点。", new_x="LMARGIN", new_y="NEXT")
        return
    headings = FontFace(emphasis="BOLD", fill_color=(231, 238, 247))
    pdf.set_font(FAMILY, size=9.5)
    with pdf.table(col_widths=(8, 46, 14, 14, 14, 14, 16), headings_style=headings, line_height=6,
                   wrapmode=WrapMode.CHAR, text_align="CENTER") as table:  # fmt: skip
        header = table.row()
        for caption in ("序号", "试点名称", "城市", "序时进度", "实际进度", "滞后", "进度状态"):
            header.cell(caption)
        for index, line in enumerate(data.attention, start=1):
            row = table.row()
            for text in (
                str(index),
                line.name,
                line.city,
                f"{line.expected}%",
                f"{line.actual}%",
                f"{line.gap}",
            ):
                row.cell(text, align="LEFT" if text == line.name else None)
            colour = STATUS_COLOURS.get(line.status)
            row.cell(line.status_zh, style=FontFace(fill_color=colour) if colour else None)


def _without_chinese_font(data: BulletinData) -> bytes:
    """The degraded summary: what a built-in font can print (the figures, in English) and why."""
    h = data.headline
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_title(f"Dispatch bulletin no. {data.number}, {data.period.label_en}: leadership summary")
    pdf.set_creator("CFP Pilot Tracker")
    pdf.set_margins(18, 16, 18)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(0, 8, f"Product carbon-footprint pilots: dispatch bulletin no. {data.number}, leadership summary",
                   new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    pdf.set_font("Helvetica", size=10)
    pdf.cell(0, 6, f"Period: {data.period.label_en}. Progress as of {data.on.isoformat()}. "
             f"Issued {data.issued_on.isoformat()}.", new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    pdf.ln(3)
    pdf.set_text_color(192, 0, 0)
    pdf.multi_cell(0, 6, "This summary could not be set in Chinese: the server has no Chinese font "
                   "(install the fonts-noto-cjk package, then download the summary again). "
                   "The full bulletin is in the Excel files of the same issue.",
                   new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    pdf.set_text_color(0, 0, 0)
    pdf.ln(3)
    figures = [
        ("Pilots reporting", h.pilots), ("On track", h.by_progress[ProgressStatus.ON_TRACK]),
        ("Behind (incl. seriously)", h.behind), ("Seriously behind", h.by_progress[ProgressStatus.SERIOUSLY_BEHIND]),
        ("Average expected progress", _shown(h.expected, "%")), ("Average actual progress", _shown(h.actual, "%")),
        ("Updates complete", _shown(h.completeness, "%")), ("Updates on time", _shown(h.timeliness, "%")),
        ("Overdue milestones", h.overdue_milestones), ("Open risk flags", h.open_flags_total),
    ]  # fmt: skip
    for caption, value in figures:
        pdf.cell(70, 7, caption)
        pdf.cell(0, 7, str(value), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
