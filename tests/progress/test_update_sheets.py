"""Bulk entry in Excel: the template a city downloads, filled and uploaded back; all-or-nothing,
every problem with its sheet, row and column; the same file twice changes nothing."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import func, select

from reports.update_template import update_template_xlsx
from tests.factories import MONTHLY, NOV, TZ
from tracker.core.validation import ValidationFailed
from tracker.models import AuditEvent, Milestone, ProgressUpdate, Role, Task, UpdateStatus
from tracker.progress.sheets import import_update_sheet, template_data
from tracker.progress.updates import UpdateEntry, review_update, save_update

NOW = dt.datetime(2025, 12, 3, 10, tzinfo=TZ)


@pytest.fixture
def setup(factory, db):  # type: ignore[no-untyped-def]
    coke = factory.pilot("长治", "焦炭", start=dt.date(2025, 9, 1))
    db.add(Task(pilot=coke, position=2, number="2", title="标准制定", weight=Decimal(3),
                planned_start=dt.date(2025, 9, 1), planned_end=dt.date(2026, 2, 28)))  # fmt: skip
    db.add(Milestone(pilot=coke, title="建成数据采集系统", due_date=dt.date(2025, 11, 30), indicator="覆盖阶段数",
                     target_value="6"))  # fmt: skip
    liquor = factory.pilot("长治", "白酒", start=dt.date(2025, 9, 1))
    factory.pilot("太原", "钢铁", start=dt.date(2025, 9, 1))
    db.commit()
    factory.accepted_update(coke, dt.date(2025, 10, 1), dt.date(2025, 10, 31), "30")
    return {"coke": coke, "liquor": liquor, "city": factory.user(Role.CITY_STAFF, "长治", username="czu"),
            "other": factory.user(Role.CITY_STAFF, "太原", username="tyu")}  # fmt: skip


def download(db, user) -> bytes:  # type: ignore[no-untyped-def]
    return update_template_xlsx(template_data(db, user, NOV))


def header_columns(sheet) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {cell.value: cell.column for cell in sheet[3] if cell.value}


def fill(content: bytes, changes: dict[str, list[tuple[int, str, object]]]) -> bytes:
    """Set cells by sheet, data row index (0 = first row under the header) and caption."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    for sheet_name, edits in changes.items():
        sheet = book[sheet_name]
        columns = header_columns(sheet)
        for index, caption, value in edits:
            sheet.cell(row=4 + index, column=columns[caption], value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_template_holds_the_citys_pilots_with_protected_keys(db, setup) -> None:  # type: ignore[no-untyped-def]
    book = openpyxl.load_workbook(io.BytesIO(download(db, setup["city"])))
    assert book.sheetnames == ["任务进度", "工作进展", "阶段性目标"]
    tasks = book["任务进度"]
    columns = header_columns(tasks)
    rows = list(tasks.iter_rows(min_row=4, values_only=True))
    assert len(rows) == 3  # coke: 2 tasks, liquor: 1 task; 太原's pilot is not there
    assert {r[columns["试点单位"] - 1] for r in rows} == {
        setup["coke"].organisation.name,
        setup["liquor"].organisation.name,
    }
    first = rows[0]
    assert first[columns["报告期"] - 1] == "2025-11"
    assert (
        first[columns["上期进度（%）"] - 1] == 30 and first[columns["本期进度（%）"] - 1] == 30
    )  # last values
    assert tasks.protection.sheet
    assert tasks.cell(row=4, column=columns["试点编号"]).protection.locked
    assert not tasks.cell(row=4, column=columns["本期进度（%）"]).protection.locked
    assert any(v.type == "decimal" for v in tasks.data_validations.dataValidation)
    milestones = book["阶段性目标"]
    assert any(v.type == "list" for v in milestones.data_validations.dataValidation)
    assert isinstance(
        milestones.cell(row=4, column=header_columns(milestones)["计划完成日期"]).value, dt.datetime
    )


def test_round_trip_then_the_same_file_again_changes_nothing(db, setup) -> None:  # type: ignore[no-untyped-def]
    city, coke = setup["city"], setup["coke"]
    filled = fill(download(db, city), {
        "任务进度": [(0, "本期进度（%）", 45), (1, "本期进度（%）", "20%"), (2, "本期进度（%）", 10)],
        "工作进展": [(0, "本期工作进展", "完成数据采集系统上线"), (1, "本期工作进展", "完成白酒核算边界")],
        "阶段性目标": [(0, "是否完成", "是"), (0, "完成日期", "2025年11月28日"), (0, "指标值", 6)],
    })  # fmt: skip
    result = import_update_sheet(db, city, filled, reporting=MONTHLY, now=NOW, tz=TZ)
    db.commit()
    assert (result.saved, result.unchanged) == (2, 0)
    update = db.scalars(select(ProgressUpdate).where(ProgressUpdate.pilot_id == coke.id,
                                                     ProgressUpdate.period_start == NOV.start)).one()  # fmt: skip
    assert update.status is UpdateStatus.DRAFT and update.work_done == "完成数据采集系统上线"
    assert sorted(r.percent for r in update.task_progress) == [Decimal(20), Decimal(45)]
    (reached,) = update.milestone_reports
    assert reached.reached and reached.achieved_on == dt.date(2025, 11, 28) and reached.indicator_value == 6
    version, events = update.version, db.scalar(select(func.count()).select_from(AuditEvent))
    again = import_update_sheet(db, city, filled, reporting=MONTHLY, now=NOW, tz=TZ)
    db.commit()
    db.refresh(update)
    assert (again.saved, again.unchanged) == (0, 2)
    assert update.version == version and db.scalar(select(func.count()).select_from(AuditEvent)) == events
    # The same file with "submit": submitted as they are, still nothing rewritten.
    submitted = import_update_sheet(db, city, filled, reporting=MONTHLY, now=NOW, tz=TZ, submit=True)
    db.commit()
    db.refresh(update)
    assert submitted.submitted == 2 and update.status is UpdateStatus.SUBMITTED and not update.is_late
    # A fresh download carries what was entered, and reads back unchanged.
    fresh = import_update_sheet(db, city, download(db, city), reporting=MONTHLY, now=NOW, tz=TZ)
    assert (fresh.saved, fresh.unchanged, fresh.submitted) == (0, 2, 0)


def test_a_broken_upload_writes_nothing_and_lists_every_problem(db, setup, factory) -> None:  # type: ignore[no-untyped-def]
    city = setup["city"]
    other_city_pilot = factory.pilot("太原", "玻璃", start=dt.date(2025, 9, 1))
    broken = fill(download(db, city), {
        "任务进度": [(0, "本期进度（%）", 120), (1, "本期进度（%）", "七十"), (2, "本期进度（%）", 10)],
        "工作进展": [(0, "本期工作进展", "正常推进"), (1, "试点编号", other_city_pilot.id)],
        "阶段性目标": [(0, "是否完成", "也许")],
    })  # fmt: skip
    with pytest.raises(ValidationFailed) as refused:
        import_update_sheet(db, city, broken, reporting=MONTHLY, now=NOW, tz=TZ)
    where = [(p.sheet, p.row, p.column) for p in refused.value.problems]
    texts = [p.where_zh() + "：" + p.message_zh for p in refused.value.problems]
    assert ("工作进展", 5, "A") in where  # another city's pilot
    assert ("任务进度", 4, "K") in where and ("任务进度", 5, "K") in where
    assert ("阶段性目标", 4, "H") in where
    assert any("本期进度应在0–100之间（填了120）" in t for t in texts)
    assert any("“任务进度”表 第5行 K列" in t and "不是数字" in t for t in texts)
    assert any("只能填“是”或“否”" in t for t in texts)
    db.rollback()
    assert (
        db.scalar(
            select(func.count()).select_from(ProgressUpdate).where(ProgressUpdate.period_start == NOV.start)
        )
        == 0
    )


def test_a_change_after_download_is_not_overwritten(db, setup, factory) -> None:  # type: ignore[no-untyped-def]
    city, coke = setup["city"], setup["coke"]
    tasks = {t.id: 40 for t in coke.tasks}
    save_update(db, city, coke.id, NOV, UpdateEntry(task_percents=tasks, work_done="网页填报"), reporting=MONTHLY,
                today=NOW.date())  # fmt: skip
    db.commit()
    template = download(db, city)  # carries version 1
    update = db.scalars(select(ProgressUpdate).where(ProgressUpdate.pilot_id == coke.id)
                        .order_by(ProgressUpdate.period_start.desc())).first()  # fmt: skip
    colleague = factory.user(Role.CITY_STAFF, "长治", username="czu2")
    db.info["actor"] = colleague
    save_update(db, colleague, coke.id, NOV, UpdateEntry(task_percents=tasks, work_done="同事又改了"),
                reporting=MONTHLY, today=NOW.date(), version=update.version)  # fmt: skip
    db.commit()
    stale = fill(template, {"工作进展": [(0, "本期工作进展", "模板里的说法")]})
    with pytest.raises(ValidationFailed) as refused:
        import_update_sheet(db, city, stale, reporting=MONTHLY, now=NOW, tz=TZ)
    assert any("下载模板后该试点的更新已被修改" in p.message_zh for p in refused.value.problems)
    db.rollback()
    db.refresh(update)
    assert update.work_done == "同事又改了"


def test_the_users_own_draft_uploaded_again_corrected_is_accepted(db, setup, factory) -> None:  # type: ignore[no-untyped-def]
    city, coke = setup["city"], setup["coke"]
    db.info["actor"] = city  # as in the app: the trail names who changed the update
    template = download(db, city)  # no update yet: the template carries no version
    draft = fill(
        template, {"任务进度": [(0, "本期进度（%）", 45), (1, "本期进度（%）", 20)]}
    )  # 本期工作进展 left empty
    assert import_update_sheet(db, city, draft, reporting=MONTHLY, now=NOW, tz=TZ).saved == 1
    db.commit()
    corrected = fill(draft, {"工作进展": [(0, "本期工作进展", "完成数据采集系统上线")]})
    result = import_update_sheet(db, city, corrected, reporting=MONTHLY, now=NOW, tz=TZ, submit=True)
    db.commit()
    update = db.scalars(select(ProgressUpdate).where(ProgressUpdate.pilot_id == coke.id,
                                                     ProgressUpdate.period_start == NOV.start)).one()  # fmt: skip
    assert (result.saved, result.submitted) == (1, 1)
    assert update.work_done == "完成数据采集系统上线" and update.status is UpdateStatus.SUBMITTED
    # Once a colleague has changed it, the same stale workbook is refused and changes nothing.
    review = fill(corrected, {"工作进展": [(0, "本期工作进展", "第三次上传")]})
    colleague = factory.user(Role.CITY_STAFF, "长治", username="czu3")
    province = factory.user(Role.PROVINCE_STAFF, username="shu")
    db.info["actor"] = province
    update = review_update(db, province, update.id, accept=False, version=update.version, now=NOW,
                           reason="请补充说明")  # returned: open for the colleague's edit  # fmt: skip
    db.commit()
    db.info["actor"] = colleague
    save_update(db, colleague, coke.id, NOV, UpdateEntry(task_percents={t.id: 50 for t in coke.tasks},
                work_done="同事的修改"), reporting=MONTHLY, today=NOW.date(), version=update.version)  # fmt: skip
    db.commit()
    db.info["actor"] = city
    with pytest.raises(ValidationFailed) as refused:
        import_update_sheet(db, city, review, reporting=MONTHLY, now=NOW, tz=TZ)
    assert any("下载模板后该试点的更新已被修改" in p.message_zh for p in refused.value.problems)
    db.rollback()
    db.refresh(update)
    assert update.work_done == "同事的修改"


def test_not_a_workbook_and_dry_run(db, setup) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed, match="不是有效的 Excel"):
        import_update_sheet(db, setup["city"], b"PK\x03\x04 not really", reporting=MONTHLY, now=NOW, tz=TZ)
    filled = fill(download(db, setup["city"]), {"工作进展": [(0, "本期工作进展", "试填")]})
    result = import_update_sheet(db, setup["city"], filled, reporting=MONTHLY, now=NOW, tz=TZ, dry_run=True)
    db.commit()
    # Only the first pilot was filled in; the other's rows are as downloaded and are not an update.
    assert result.dry_run and (result.saved, result.untouched) == (1, 1)
    assert "检查通过（未写入）" in result.summary.zh and "1个试点未填写" in result.summary.zh
    assert (
        db.scalar(
            select(func.count()).select_from(ProgressUpdate).where(ProgressUpdate.period_start == NOV.start)
        )
        == 0
    )


def test_one_pilot_filled_is_submitted_and_the_rest_left_alone(db, setup) -> None:  # type: ignore[no-untyped-def]
    """A city fills one pilot of several and submits: the others, left as downloaded, are neither
    imported nor reported as problems; a problem with the narrative points at its own cell."""
    template = download(db, setup["city"])
    tasks = openpyxl.load_workbook(io.BytesIO(template))["任务进度"]
    columns = header_columns(tasks)
    first = tasks.cell(row=4, column=columns["试点单位"]).value
    rows_of_first = [i for i, row in enumerate(tasks.iter_rows(min_row=4, values_only=True))
                     if row[columns["试点单位"] - 1] == first]  # fmt: skip
    no_text = fill(template, {"任务进度": [(i, "本期进度（%）", 30) for i in rows_of_first]})
    with pytest.raises(ValidationFailed) as refused:
        import_update_sheet(db, setup["city"], no_text, reporting=MONTHLY, now=NOW, tz=TZ, submit=True)
    [problem] = refused.value.problems
    texts = openpyxl.load_workbook(io.BytesIO(template))["工作进展"]
    assert (problem.sheet, problem.column) == (
        "工作进展",
        openpyxl.utils.get_column_letter(header_columns(texts)["本期工作进展"]),
    )
    db.rollback()
    done = fill(no_text, {"工作进展": [(0, "本期工作进展", "完成核算边界确定")]})
    result = import_update_sheet(db, setup["city"], done, reporting=MONTHLY, now=NOW, tz=TZ, submit=True)
    assert (result.saved, result.submitted, result.untouched) == (1, 1, 1)
    assert (
        db.scalar(
            select(func.count()).select_from(ProgressUpdate).where(ProgressUpdate.period_start == NOV.start)
        )
        == 1
    )


@pytest.mark.parametrize(("edit", "expected"), [
    (("完成日期", "明天"), "完成日期“明天”无法识别"),
    (("指标值", "六"), "指标值“六”不是数字"),
    (("目标编码", 999999), "目标编码不是该试点的阶段性目标"),
])  # fmt: skip
def test_each_kind_of_bad_cell_is_named_with_its_sheet_row_and_column(db, setup, edit, expected) -> None:  # type: ignore[no-untyped-def]
    from tracker.core.i18n import use_locale
    from tracker.progress.sheets import NARRATIVE_LIMIT

    city = setup["city"]
    broken = fill(download(db, city), {
        "工作进展": [(0, "本期工作进展", "长" * (NARRATIVE_LIMIT + 1)), (1, "版本", "改过")],
        "任务进度": [(0, "任务编码", 999999)],
        "阶段性目标": [(0, *edit)],
    })  # fmt: skip
    with pytest.raises(ValidationFailed) as refused:
        import_update_sheet(db, city, broken, reporting=MONTHLY, now=NOW, tz=TZ)
    problems = refused.value.problems
    texts = [p.text("zh_CN") for p in problems]
    assert any(t.startswith("“阶段性目标”表 第4行") and expected in t for t in texts), texts
    assert any("“工作进展”表 第4行" in t and f"本期工作进展超过{NARRATIVE_LIMIT}字" in t for t in texts)
    assert any("“工作进展”表 第5行" in t and "版本号被改动" in t for t in texts)
    assert any("“任务进度”表 第4行" in t and "不是该试点的任务" in t for t in texts)
    with use_locale("en"):  # the field is named in the reader's language too
        english = " ".join(p.text() for p in problems)
    assert "work done" in english.lower() and "本期工作进展" not in english
