"""tracker workplan …: provincial staff save and submit a department's progress, the admin reviews,
and bad input is refused in Chinese and English with nothing changed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.cli.test_lifecycle_cli import PASSWORD, run

SAVE = ["workplan", "save", "3", "--department", "市场监管", "--period", "2025-11", "--progress", "40%",
        "--work-done", "起草碳标识认证实施细则"]  # fmt: skip


@pytest.fixture
def accounts(cli_database: str) -> str:
    for name, role, city in (("sheng", "province_staff", None), ("admin", "province_admin", None),
                             ("changzhi", "city_staff", "长治"), ("lingdao", "leader", None)):  # fmt: skip
        args = ["users", "add", name, "--role", role, "--password", PASSWORD]
        assert run(*(args + (["--city", city] if city else []))).exit_code == 0
    return cli_database


def stored_updates(url: str) -> int:
    from tracker.core.db import make_engine
    from tracker.models import WorkPlanUpdate

    engine = make_engine(url)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(WorkPlanUpdate)).scalar_one()
    engine.dispose()
    return int(count)


def task3_line(listed: str) -> list[str]:
    return next(row for row in listed.splitlines() if "落实产品碳标识认证制度" in row).split("\t")


def test_save_submit_list_and_review(accounts: str) -> None:
    saved = run(*SAVE, "--submit", "--as", "sheng")
    assert saved.exit_code == 0, saved.output
    assert "已提交 / submitted（逾期 / late）" in saved.output and "省市场监管局" in saved.output
    listed = run("workplan", "list", "--period", "2025-11", "--as", "lingdao")
    assert listed.exit_code == 0, listed.output
    update_id, version, status, progress, late = task3_line(listed.output)[:5]
    assert (status, progress, late) == ("已提交待审核/submitted", "40.0%", "是/yes")
    assert "已报/submitted 1" in listed.output
    staff = run("workplan", "review", update_id, "accept", "--version", version, "--as", "sheng")
    assert (
        staff.exit_code != 0
        and "仅限省级管理员审核" in staff.output
        and "Only the provincial admin" in staff.output
    )
    no_reason = run("workplan", "review", update_id, "return", "--version", version, "--as", "admin")
    assert (
        no_reason.exit_code != 0
        and "退回须填写理由" in no_reason.output
        and "needs a reason" in no_reason.output
    )
    returned = run(
        "workplan",
        "review",
        update_id,
        "return",
        "--version",
        version,
        "--reason",
        "补充目录",
        "--as",
        "admin",
    )
    assert returned.exit_code == 0, returned.output
    version = task3_line(run("workplan", "list", "--period", "2025-11").output)[1]
    resubmitted = run(*SAVE, "--version", version, "--submit", "--as", "sheng")
    assert resubmitted.exit_code == 0, resubmitted.output
    version = task3_line(run("workplan", "list", "--period", "2025-11").output)[1]
    accepted = run("workplan", "review", update_id, "accept", "--version", version, "--as", "admin")
    assert accepted.exit_code == 0 and "已采纳 / accepted" in accepted.output
    stale = run("workplan", "review", update_id, "accept", "--version", version, "--as", "admin")
    assert (
        stale.exit_code != 0 and "已被他人修改" in stale.output and "nothing was overwritten" in stale.output
    )
    assert task3_line(run("workplan", "list", "--period", "2025-11").output)[2] == "已采纳/accepted"
    assert stored_updates(accounts) == 1


@pytest.mark.parametrize(("args", "zh", "en"), [
    (["workplan", "save", "三", *SAVE[3:], "--as", "sheng"], "应为整数", "not a whole number"),
    (["workplan", "save", "13", *SAVE[3:], "--as", "sheng"], "工作方案没有第13项任务", "no task 13"),
    ([*SAVE[:4], "不存在的部门", *SAVE[5:], "--as", "sheng"], "找不到唯一的部门", "No single department"),
    ([*SAVE[:4], "省生态环境厅", *SAVE[5:], "--as", "sheng"], "不是第3项任务的牵头或负责部门", "does not report on task 3"),
    ([*SAVE[:8], "120", *SAVE[9:], "--as", "sheng"], "进度应在0–100之间", "progress must be 0–100"),
    ([*SAVE[:8], "四十", *SAVE[9:], "--as", "sheng"], "不是数字", "not a number"),
    ([*SAVE[:6], "2025-13", *SAVE[7:], "--as", "sheng"], "无法识别的报告期", "Not a reporting period"),
    ([*SAVE[:6], "2099-01", *SAVE[7:], "--as", "sheng"], "尚未开始", "has not begun"),
    ([*SAVE[:6], "2024-11", *SAVE[7:], "--as", "sheng"], "早于工作方案印发", "before the work plan was issued"),
    ([*SAVE, "--version", "v2", "--as", "sheng"], "应为整数", "not a whole number"),
    ([*SAVE, "--as", "changzhi"], "仅限省级用户和省级领导查看", "provincial users only"),
    ([*SAVE, "--as", "lingdao"], "仅限省级业务人员填报", "Only provincial staff"),
    ([*SAVE, "--as", "nobody"], "用户不存在", "No such user"),
    (["workplan", "list", "--as", "changzhi"], "仅限省级用户和省级领导查看", "provincial users only"),
    (["workplan", "review", "1", "maybe", "--version", "1", "--as", "admin"], "审核结论应为", "must be accept or return"),
    (["workplan", "review", "999999", "accept", "--version", "1", "--as", "admin"], "该进展不存在", "No such work-plan update"),
])  # fmt: skip
def test_bad_input_is_refused_in_both_languages_and_changes_nothing(accounts: str, args: list[str], zh: str,
                                                                     en: str) -> None:  # fmt: skip
    result = run(*args)
    assert result.exit_code != 0
    assert zh in result.output and en in result.output, result.output
    assert stored_updates(accounts) == 0
