"""The official forms: the city summary table (附件1) and the application form (附件3), in and out."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import func, select

from reports.forms import application_form_xlsx, pilot_list_xlsx, summary_table_xlsx
from tests.fixtures import FIXTURES
from tracker.core.validation import ValidationFailed, count_chars
from tracker.lifecycle.forms import (
    form_values,
    import_applications,
    read_application_form,
    read_summary_table,
    summary_table_rows,
)
from tracker.models import Application, ApplicationStatus, Batch, Organisation, Role

SAMPLE = FIXTURES / "annex1_sample.xlsx"
TZ = ZoneInfo("Asia/Shanghai")
# Before 长治's first-batch deadline (2025-06-28).
NOW = dt.datetime(2025, 6, 20, 9, 0, tzinfo=TZ)
EXPECTED_UNITS = ["示例长治白酒有限公司1", "示例长治电解铝有限公司2", "示例长治法兰有限公司3",
                  "示例长治陈醋有限公司4", "示例长治碳足迹服务中心"]  # fmt: skip


def sample_bytes() -> bytes:
    return SAMPLE.read_bytes()


def batch(db, number: int = 1) -> Batch:  # type: ignore[no-untyped-def]
    return db.scalars(select(Batch).where(Batch.number == number)).one()


def do_import(db, user, content: bytes, **kwargs):  # type: ignore[no-untyped-def]
    db.info["actor"] = user
    kwargs.setdefault("now", NOW)
    return import_applications(db, user, content, city=user.city, batch=kwargs.pop("batch", batch(db)),
                               tz=TZ, **kwargs)  # fmt: skip


def edited_sample(edit) -> bytes:  # type: ignore[no-untyped-def]
    book = openpyxl.load_workbook(io.BytesIO(sample_bytes()))
    edit(book.active)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_sample_reads_as_exactly_its_five_rows() -> None:
    table = read_summary_table(sample_bytes())
    assert [r.data.text("organisation_name") for r in table.rows] == EXPECTED_UNITS
    assert [r.row for r in table.rows] == [5, 6, 7, 9, 10]  # row 8 is blank, row 12 is the 备注 line
    assert table.filler == "长治市生态环境局"
    first, second, _third, fourth, service = (r.data for r in table.rows)
    assert second.text("contact_phone") == "13993982757"  # typed as a number in Excel
    assert first.text("contact_phone") == "0355-6971432"
    assert fourth.category_text == "产品碳足迹管理试点"  # trailing space gone
    assert service.category_text == "碳足迹专业化服务试点" and service.text("product_text") == ""
    assert count_chars(second.text("summary_advantages")) == 500  # exactly at the limit


def test_importing_the_sample_creates_its_applications_as_submitted(db, factory) -> None:  # type: ignore[no-untyped-def]
    user = factory.user(Role.CITY_STAFF, "长治")
    result = do_import(db, user, sample_bytes())
    assert result.kind == "summary" and len(result.created) == 5 and not result.updated
    apps = db.scalars(select(Application).join(Application.organisation).order_by(Application.id)).all()
    assert [a.organisation.name for a in apps] == EXPECTED_UNITS
    assert {a.status for a in apps} == {ApplicationStatus.SUBMITTED}
    assert [a.product.name_zh if a.product else None for a in apps] == [
        "白酒",
        "电解铝",
        "法兰",
        "陈醋",
        None,
    ]
    assert all(a.organisation.credit_code is None for a in apps)  # the summary table carries no codes
    again = do_import(db, user, sample_bytes())
    assert len(again.unchanged) == 5 and not again.created and not again.updated  # idempotent


def test_one_bad_row_writes_nothing_and_every_problem_is_listed(db, factory) -> None:  # type: ignore[no-untyped-def]
    def spoil(sheet) -> None:  # type: ignore[no-untyped-def]
        sheet["F6"] = "计" * 501  # over the 500-character limit
        sheet["C9"] = "产品碳足迹试点"  # not one of the two categories

    user = factory.user(Role.CITY_STAFF, "长治")
    with pytest.raises(ValidationFailed) as caught:
        do_import(db, user, edited_sample(spoil))
    spots = {(p.row, p.column) for p in caught.value.problems}
    assert spots == {(6, "F"), (9, "C")}
    texts = [p.text() for p in caught.value.problems]
    assert any("超过500字" in t and "501" in t for t in texts)
    assert any("试点类别" in t and "产品碳足迹试点" in t for t in texts)
    assert db.scalar(select(func.count(Application.id))) == 0
    assert db.scalar(select(func.count(Organisation.id))) == 0


def test_headers_are_found_by_meaning_not_position(db, factory) -> None:  # type: ignore[no-untyped-def]
    source = openpyxl.load_workbook(io.BytesIO(sample_bytes())).active
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"] = "（内部流转用）"
    for row in source.iter_rows():
        for cell in row:  # two rows down, one column right
            sheet.cell(cell.row + 2, cell.column + 1, cell.value)
    out = io.BytesIO()
    book.save(out)
    table = read_summary_table(out.getvalue())
    assert [r.data.text("organisation_name") for r in table.rows] == EXPECTED_UNITS
    assert table.rows[0].row == 7 and table.rows[0].columns["organisation_name"] == "C"


def test_chinese_characters_count_one_each() -> None:
    assert count_chars("碳足迹") == 3
    assert count_chars("碳" * 1000) == 1000


def test_round_trip_keeps_every_field(db, factory) -> None:  # type: ignore[no-untyped-def]
    user = factory.user(Role.CITY_STAFF, "长治")
    do_import(db, user, sample_bytes())
    rows = summary_table_rows(db, user, user.city, batch(db))
    exported = summary_table_xlsx("长治市生态环境局", rows)
    original = [r.data for r in read_summary_table(sample_bytes()).rows]
    again = [r.data for r in read_summary_table(exported).rows]
    assert [(d.category_text, d.texts) for d in again] == [(d.category_text, d.texts) for d in original]
    assert len(do_import(db, user, exported).unchanged) == 5  # importing the export changes nothing


def test_summary_export_is_laid_out_for_print() -> None:
    content = summary_table_xlsx("长治市生态环境局", [{"organisation_name": "甲公司", "category_text": "产品碳足迹管理试点",
                                                     "product_text": "白酒", "contact_phone": "0355-1234567"}])  # fmt: skip
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet["A1"].value == "附件1" and sheet["A2"].value == "拟申报产品碳足迹管理体系试点汇总表"
    assert sheet["A3"].value == "填报单位（盖章）：长治市生态环境局"
    assert sheet["B4"].value == "试点申报单位" and sheet["B4"].alignment.wrap_text
    assert sheet["H5"].value == "0355-1234567" and sheet["H5"].data_type == "s"
    assert sheet["A6"].value.startswith("备注")
    assert sheet.page_setup.paperSize == 9 and sheet.page_setup.orientation == "landscape"
    assert sheet.print_title_rows == "$1:$4"
    assert sheet.column_dimensions["E"].width > 40


def test_formula_text_stays_text() -> None:
    content = summary_table_xlsx("x", [{"organisation_name": '=HYPERLINK("http://evil")'}])
    cell = openpyxl.load_workbook(io.BytesIO(content)).active["B5"]
    assert cell.data_type == "s" and cell.value.startswith("=")


def test_application_form_round_trip(db, factory) -> None:  # type: ignore[no-untyped-def]
    values = {
        "organisation_name": "示例长治焦化有限公司", "leader_name": "王某", "leader_title": "董事长",
        "leader_phone": "0355-1111111", "leader_email": "wang@example.cn", "contact_name": "李某",
        "contact_title": "能源部长", "contact_phone": "13800000000", "contact_email": "li@example.cn",
        "category_text": "产品碳足迹管理试点", "product_text": "焦炭", "overall_goal": "建成焦炭产品碳足迹管理体系",
        "tasks_summary": "数据采集与核算", "unit_intro": "简" * 1000, "eligibility": "符合", "advantages": "优势",
        "future_plan": "计划",
    }  # fmt: skip
    content = application_form_xlsx(values)
    data, _where = read_application_form(content)
    assert data.category_text == "产品碳足迹管理试点"
    for key, value in values.items():
        if key != "category_text":
            assert data.text(key) == value, key
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet.page_setup.paperSize == 9 and sheet.page_setup.orientation == "portrait"
    user = factory.user(Role.CITY_STAFF, "长治")
    result = do_import(db, user, content)
    assert result.kind == "form" and result.created == ["示例长治焦化有限公司"]
    application = db.scalars(select(Application)).one()
    assert form_values(application)["contact_email"] == "li@example.cn"
    assert application.unit_intro == "简" * 1000


def test_application_form_over_limit_reports_the_cell(db, factory) -> None:  # type: ignore[no-untyped-def]
    content = application_form_xlsx({"organisation_name": "甲", "contact_name": "李", "contact_phone": "13800000000",
                                     "category_text": "产品碳足迹管理试点", "product_text": "焦炭",
                                     "future_plan": "计" * 1001})  # fmt: skip
    user = factory.user(Role.CITY_STAFF, "长治")
    with pytest.raises(ValidationFailed) as caught:
        do_import(db, user, content)
    [problem] = caught.value.problems
    assert problem.field == "future_plan" and problem.column == "B" and "超过1000字" in problem.message_zh
    assert db.scalar(select(func.count(Application.id))) == 0


def test_not_an_excel_file_is_a_clear_error(db, factory) -> None:  # type: ignore[no-untyped-def]
    user = factory.user(Role.CITY_STAFF, "长治")
    with pytest.raises(ValidationFailed, match="不是有效的 Excel"):
        do_import(db, user, b"not a spreadsheet")


def test_pilot_list_layout() -> None:
    rows = [{"category": "product", "city": "长治", "organisation": "甲公司", "product": "焦炭", "batch": "第一批",
             "published_on": dt.date(2025, 8, 1)},
            {"category": "service", "city": "太原", "organisation": "乙中心", "product": None, "batch": "第一批",
             "published_on": dt.date(2025, 8, 1)}]  # fmt: skip
    sheet = openpyxl.load_workbook(io.BytesIO(pilot_list_xlsx(rows))).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "产品碳足迹管理体系试点名单"
    assert values[1][:3] == ["序号", "所在市", "试点单位"]
    assert values[2][0] == "一、产品碳足迹管理试点" and values[3][:4] == [1, "长治", "甲公司", "焦炭"]
    assert values[4][0] == "二、产品碳足迹专业化服务试点" and values[5][:3] == [1, "太原", "乙中心"]
    assert isinstance(values[3][5], dt.datetime)
    assert sheet.print_title_rows == "$1:$2"
