"""The dispatch bulletin (调度通报): its figures come from the progress and completeness functions,
its workbook is read back with openpyxl, its leadership summary is a PDF with the font embedded."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from decimal import Decimal
from typing import Any

import openpyxl
import pytest

from reports.bulletin import bulletin_xlsx, file_name, summary_text
from reports.bulletin_pdf import leadership_pdf
from tests.factories import NOV, at
from tracker.access.permissions import Level, may_act, system_reader
from tracker.models import (
    Flag,
    FlagStatus,
    Milestone,
    PilotStatus,
    ProgressUpdate,
    Severity,
    TaskProgress,
    UpdateStatus,
)
from tracker.monitoring.bulletin_data import BulletinData, Cut, bulletin_data
from tracker.progress.completeness import completeness
from tracker.progress.expected import ProgressStatus, load_progress, thresholds_from

ON, ISSUED = dt.date(2025, 11, 30), dt.date(2025, 12, 8)
FORMULA = '=HYPERLINK("http://evil.example","点击")'
PROVINCE = Cut.province()
SHEETS = ["汇总", "分市情况", "试点进度", "逾期里程碑", "风险线索", "更新提交情况"]


def _flag(db: Any, pilot: Any, message: str, severity: Severity = Severity.HIGH,
          status: FlagStatus = FlagStatus.OPEN) -> None:  # fmt: skip
    db.add(Flag(fingerprint=uuid.uuid4().hex, rule_id="PROGRESS_BACKWARDS", severity=severity,
                subject_type="update", subject_id=1, city_id=pilot.city_id, pilot_id=pilot.id, status=status,
                message_zh=message, message_en="progress went backwards", evidence={}))  # fmt: skip


def _november_update(db: Any, pilot: Any, percent: str, *, late: bool, problems: str) -> None:
    update = ProgressUpdate(pilot_id=pilot.id, period_start=NOV.start, period_end=NOV.end, is_late=late,
                            status=UpdateStatus.ACCEPTED, submitted_at=at(dt.date(2025, 12, 7 if late else 3)),
                            work_done="完成数据采集系统部署", problems=problems)  # fmt: skip
    update.task_progress.append(TaskProgress(task_id=pilot.tasks[0].id, percent=Decimal(percent)))
    db.add(update)


@pytest.fixture
def world(factory, db) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Three pilots reporting for November 2025 in two cities, one not yet started in a third."""
    on_track = factory.pilot("长治", name="长治焦炭正常试点")
    factory.accepted_update(on_track, dt.date(2025, 9, 1), dt.date(2025, 9, 30), "5")
    _november_update(db, on_track, "25", late=False, problems="")
    behind = factory.pilot("长治", "法兰", name="长治法兰滞后试点")
    factory.accepted_update(behind, dt.date(2025, 10, 1), dt.date(2025, 10, 31), "2")
    db.add(Milestone(pilot_id=behind.id, title="建成数据采集系统", due_date=dt.date(2025, 10, 31),
                     indicator="覆盖阶段数", target_value="6"))  # fmt: skip
    _flag(db, behind, FORMULA)
    _flag(db, behind, "已核查完毕", status=FlagStatus.RESOLVED)
    taiyuan = factory.pilot("太原", "玻璃", name="太原玻璃试点")
    _november_update(db, taiyuan, "15", late=True, problems="=cmd|' /C calc'!A0")
    _flag(db, taiyuan, "太原的线索", Severity.MEDIUM, FlagStatus.CONFIRMED)
    factory.pilot("大同", name="大同未启动试点", status=PilotStatus.SELECTED, start=dt.date(2026, 1, 1))
    db.commit()
    return {"on_track": on_track, "behind": behind, "taiyuan": taiyuan}


def build(db: Any, settings: Any, cut: Cut = PROVINCE, number: int = 3) -> BulletinData:
    return bulletin_data(db, period=NOV, cut=cut, on=ON, number=number, issued_on=ISSUED, settings=settings)


def workbook(data: BulletinData) -> Any:
    return openpyxl.load_workbook(io.BytesIO(bulletin_xlsx(data)))


def column(sheet: Any, caption: str, header_row: int = 4) -> list[Any]:
    """The values under a header (the bulletin's tables start on row 4)."""
    headers = [c.value for c in sheet[header_row]]
    index = headers.index(caption) + 1
    return [sheet.cell(row, index).value for row in range(header_row + 1, sheet.max_row + 1)]


def fitted_to(sheet: Any) -> tuple[int, int]:
    """Pages wide and tall the sheet prints on (an absent attribute is the OOXML default, 1)."""
    setup = sheet.page_setup
    return tuple(1 if value is None else int(value) for value in (setup.fitToWidth, setup.fitToHeight))  # type: ignore[return-value]


def row_of(sheet: Any, text: str) -> list[Any]:
    for row in sheet.iter_rows():
        if any(cell.value == text for cell in row):
            return list(row)
    raise AssertionError(f"{text} not on {sheet.title}")


# --- the data ----------------------------------------------------------------------------------------


def test_each_pilots_figures_are_exactly_what_load_progress_returns(db, settings, world) -> None:  # type: ignore[no-untyped-def]
    data = build(db, settings)
    ids = [p.id for p in world.values()]
    expected = load_progress(db, ids, ON, thresholds_from(settings))
    assert {line.pilot_id: (line.expected, line.actual, line.gap, line.status) for line in data.pilots} == {
        pid: (f.expected, f.actual, f.gap, f.status) for pid, f in expected.items()
    }
    assert expected[world["behind"].id].status is ProgressStatus.SERIOUSLY_BEHIND  # the world is as meant
    assert [p.name for p in data.attention] == ["长治法兰滞后试点", "太原玻璃试点"]


def test_completeness_and_timeliness_per_city_come_from_the_updates_module(db, settings, world) -> None:  # type: ignore[no-untyped-def]
    data = build(db, settings)
    reader = system_reader(world["behind"].city.province_id)
    by_city = {c.city_id: c for c in completeness(db, reader, NOV)}
    changzhi = next(c for c in data.cities if c.city == "长治市")
    assert (changzhi.updates_expected, changzhi.updates_submitted, changzhi.updates_on_time) == (2, 1, 1)
    assert changzhi.completeness == by_city[world["behind"].city_id].completeness == Decimal("50.0")
    assert data.headline.completeness == by_city[None].completeness
    assert data.headline.timeliness == Decimal("33.3")  # of three owed updates, one came on time
    assert len(data.cities) == 11  # every city is listed, those without pilots with zeros


def test_open_flags_are_open_under_review_or_confirmed(db, settings, world) -> None:  # type: ignore[no-untyped-def]
    data = build(db, settings)
    assert sorted(f.message for f in data.flags) == sorted([FORMULA, "太原的线索"])
    assert data.headline.open_flags == {Severity.HIGH: 1, Severity.MEDIUM: 1, Severity.LOW: 0}
    assert data.flags[0].severity is Severity.HIGH  # most severe first


def test_a_city_cut_holds_only_that_citys_pilots_flags_and_updates(db, settings, world) -> None:  # type: ignore[no-untyped-def]
    data = build(db, settings, Cut.city("140400"))
    assert {p.city for p in data.pilots} == {"长治市"}
    assert [c.city for c in data.cities] == ["长治市"]
    assert {f.city for f in data.flags} == {"长治市"}
    assert {s.city for s in data.submissions} == {"长治市"}
    assert data.headline.pilots == 2 and data.headline.completeness == Decimal("50.0")
    assert data.title == "山西省长治市产品碳足迹管理试点调度通报（第3期）"


def test_the_system_reader_sees_the_province_and_may_do_nothing(db, world) -> None:  # type: ignore[no-untyped-def]
    reader = system_reader(world["behind"].city.province_id)
    assert not may_act(reader, Level.PROVINCE, world["behind"])
    assert not may_act(reader, Level.CITY, world["behind"])
    assert reader not in db  # never stored


# --- the workbook ------------------------------------------------------------------------------------


def test_the_workbook_has_its_sheets_title_and_headers(db, settings, world) -> None:  # type: ignore[no-untyped-def]
    book = workbook(build(db, settings))
    assert book.sheetnames == SHEETS
    summary = book["汇总"]
    assert summary["A1"].value == "山西省产品碳足迹管理试点调度通报（第3期）"
    assert "2025年11月" in summary["A2"].value and "2025年12月8日" in summary["A2"].value
    assert [c.value for c in book["试点进度"][4]] == [
        "序号", "城市", "试点名称", "试点单位", "试点产品", "试点状态", "序时进度（%）", "实际进度（%）",
        "滞后（百分点）", "进度状态", "逾期里程碑", "风险线索",
    ]  # fmt: skip
    assert [c.value for c in book["分市情况"][4]][:6] == [
        "城市",
        "试点数",
        "正常",
        "滞后（含严重）",
        "严重滞后",
        "全部完成",
    ]
    assert [c.value for c in book["逾期里程碑"][4]][3:5] == ["阶段性目标", "计划完成日期"]
    assert [c.value for c in book["风险线索"][4]][6] == "线索内容"
    assert [c.value for c in book["更新提交情况"][4]][3:6] == ["填报状态", "首次提交日期", "逾期报送"]


def test_a_known_pilots_figures_in_the_workbook_equal_the_progress_function(db, settings, world) -> None:  # type: ignore[no-untyped-def]
    pilot = world["behind"]
    figure = load_progress(db, [pilot.id], ON, thresholds_from(settings))[pilot.id]
    row = [c.value for c in row_of(workbook(build(db, settings))["试点进度"], "长治法兰滞后试点")]
    assert row[6:10] == [float(figure.expected), float(figure.actual), float(figure.gap), "严重滞后"]


def test_the_summary_counts_pilots_by_status(db, settings, world) -> None:  # type: ignore[no-untyped-def]
    summary = workbook(build(db, settings))["汇总"]
    assert row_of(summary, "纳入调度的试点（个）")[1].value == 3
    assert row_of(summary, "进度滞后（个，含严重滞后）")[1].value == 2
    assert row_of(summary, "已入选")[1].value == 1  # the 大同 pilot, not yet reporting
    assert row_of(summary, "　其中高风险（条）")[1].value == 1


def test_native_charts_traffic_lights_and_frozen_headers(db, settings, world) -> None:  # type: ignore[no-untyped-def]
    book = workbook(build(db, settings))
    assert len(book["汇总"]._charts) == 1 and len(book["分市情况"]._charts) == 1
    for name in SHEETS[1:]:
        assert book[name].freeze_panes == "A5", name  # title rows and the header stay in view
    rules = [rule for cf in book["试点进度"].conditional_formatting for rule in cf.rules]
    assert {rule.formula[0] for rule in rules} == {'"严重滞后"', '"滞后"', '"正常"', '"全部完成"', '"未开始"'}


def test_every_sheet_prints_on_a4_landscape_fitted_to_the_width(db, settings, world) -> None:  # type: ignore[no-untyped-def]
    book = workbook(build(db, settings))
    for sheet in book.worksheets:
        assert sheet.page_setup.orientation == "landscape", sheet.title
        assert sheet.page_setup.paperSize == 9  # A4
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert fitted_to(sheet) == (1, 0)  # one page wide, as long as needed
        assert sheet.print_title_rows


def test_text_starting_with_equals_is_stored_as_text(db, settings, world) -> None:  # type: ignore[no-untyped-def]
    book = workbook(build(db, settings))
    message = row_of(book["风险线索"], FORMULA)[6]
    assert (message.value, message.data_type) == (FORMULA, "s")
    problems = row_of(book["更新提交情况"], "太原玻璃试点")[7]
    assert (problems.value, problems.data_type) == ("=cmd|' /C calc'!A0", "s")


def test_dates_are_dates_in_chinese_format(db, settings, world) -> None:  # type: ignore[no-untyped-def]
    book = workbook(build(db, settings))
    issued = book["汇总"]["B3"]
    assert issued.value == dt.datetime(2025, 12, 8) and "年" in issued.number_format
    due = row_of(book["逾期里程碑"], "建成数据采集系统")
    assert due[4].value == dt.datetime(2025, 10, 31) and due[5].value == 30  # 30 days overdue on 30 November
    submitted = row_of(book["更新提交情况"], "太原玻璃试点")
    assert submitted[4].value == dt.datetime(2025, 12, 7) and submitted[5].value == "是"


def test_a_city_workbook_has_only_its_citys_rows(db, settings, world) -> None:  # type: ignore[no-untyped-def]
    book = workbook(build(db, settings, Cut.city("140400")))
    assert set(column(book["试点进度"], "城市")) == {"长治市"}
    assert column(book["分市情况"], "城市") == ["长治市"]
    assert set(column(book["风险线索"], "城市")) == {"长治市"}
    assert "太原玻璃试点" not in column(book["更新提交情况"], "试点名称")


def test_the_leadership_summary_is_one_page(db, settings, world) -> None:  # type: ignore[no-untyped-def]
    data = build(db, settings, Cut.leadership())
    book = workbook(data)
    assert book.sheetnames == ["汇总"]
    sheet = book["汇总"]
    assert fitted_to(sheet) == (1, 1)
    assert row_of(sheet, "长治法兰滞后试点")[5].value == "严重滞后"
    assert file_name(data) == "调度通报_2025年11月_第3期_领导摘要.xlsx"
    assert "滞后2个" in summary_text(data)


def test_a_period_without_pilots_still_builds(db, settings) -> None:  # type: ignore[no-untyped-def]
    book = workbook(build(db, settings, number=1))
    assert book.sheetnames == SHEETS
    assert book["逾期里程碑"]["A5"].value == "截至统计日无逾期未完成的阶段性目标"


# --- the leadership PDF ------------------------------------------------------------------------------


def pdf_text(page: Any) -> str:
    """A page's text without spacing. fpdf2 writes two-byte glyph codes under an embedded CMap that
    pypdf reads one byte at a time: every character comes out right, each after a NUL."""
    return "".join(ch for ch in page.extract_text() if ch.isprintable() and not ch.isspace())


def test_the_leadership_pdf_embeds_its_chinese_font_and_its_text_extracts(db, settings, world) -> None:  # type: ignore[no-untyped-def]
    from pypdf import PdfReader

    content = leadership_pdf(build(db, settings, Cut.leadership()))
    assert content.startswith(b"%PDF")
    assert b"/FontFile" in content  # embedded (a CFF subset: /FontFile3), not merely named
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) == 1
    text = pdf_text(reader.pages[0])
    assert "山西省产品碳足迹管理试点调度通报（领导摘要）（第3期）" in text
    assert "长治法兰滞后试点" in text and "严重滞后" in text
    assert "印发日期：2025年12月8日" in text


def test_a_leadership_pdf_with_no_pilot_behind_says_so(db, settings) -> None:  # type: ignore[no-untyped-def]
    from pypdf import PdfReader

    content = leadership_pdf(build(db, settings, Cut.leadership(), number=1))
    text = pdf_text(PdfReader(io.BytesIO(content)).pages[0])
    assert "本期无进度滞后的试点" in text


def test_a_full_attention_list_still_fits_the_leadership_summary_on_one_page(db, settings, factory) -> None:  # type: ignore[no-untyped-def]
    for n in range(12):
        pilot = factory.pilot(
            "晋城", name=f"晋城示例焦化有限公司焦炭产品碳足迹管理体系建设试点（第{n + 1}号）"
        )
        factory.accepted_update(pilot, dt.date(2025, 10, 1), dt.date(2025, 10, 31), str(n))
    data = build(db, settings, Cut.leadership())
    assert len(data.attention) == 10
    from pypdf import PdfReader

    assert len(PdfReader(io.BytesIO(leadership_pdf(data))).pages) == 1


def test_enums_that_share_a_value_keep_their_own_words() -> None:
    from tracker.models import ApplicationStatus, PilotStatus, UpdateStatus
    from tracker.models.labels import label

    assert (label(PilotStatus.SELECTED), label(ApplicationStatus.SELECTED)) == ("已入选", "入选")
    assert (label(ApplicationStatus.SUBMITTED), label(UpdateStatus.SUBMITTED)) == ("已提交", "待审核")
