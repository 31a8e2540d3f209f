"""tracker updates …: the month's template, filled and imported (all-or-nothing, bilingual problems),
listed, reviewed by the province, and the completeness it gives."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest

from tests.cli.test_lifecycle_cli import PASSWORD, run


@pytest.fixture
def pilot(cli_database: str) -> str:
    from tests.factories import Factory
    from tracker.core.db import make_engine, make_session_factory

    for name, role, city in (("sheng", "province_staff", None), ("changzhi", "city_staff", "长治")):
        args = ["users", "add", name, "--role", role, "--password", PASSWORD]
        assert run(*(args + (["--city", city] if city else []))).exit_code == 0
    engine = make_engine(cli_database)
    with make_session_factory(engine)() as session:
        # Started 200 days ago: it owes whichever period is being reported today.
        made = Factory(session).pilot("长治", start=dt.date.today() - dt.timedelta(days=200))
        name = made.organisation.name
    engine.dispose()
    return name


def fill(path: Path, percent: object, work_done: str = "完成数据采集") -> bytes:
    book = openpyxl.load_workbook(path)
    tasks, texts = book["任务进度"], book["工作进展"]
    tasks.cell(row=4, column=[c.value for c in tasks[3]].index("本期进度（%）") + 1, value=percent)
    texts.cell(row=4, column=[c.value for c in texts[3]].index("本期工作进展") + 1, value=work_done)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_template_import_review_and_completeness(pilot: str, tmp_path: Path) -> None:
    template = tmp_path / "template.xlsx"
    result = run("updates", "template", str(template), "--as", "changzhi")
    assert result.exit_code == 0, result.output
    assert "1个试点" in result.output and "1 pilot" in result.output
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(fill(template, 150))
    result = run("updates", "import", str(broken), "--as", "changzhi", "--submit")
    assert result.exit_code != 0
    assert "“任务进度”表 第4行 K列" in result.output and "sheet “任务进度”, row 4, column K" in result.output
    assert "0–100" in result.output
    filled = tmp_path / "filled.xlsx"
    filled.write_bytes(fill(template, 35))
    result = run("updates", "import", str(filled), "--as", "changzhi", "--submit")
    assert result.exit_code == 0, result.output
    assert "保存1个试点的更新" in result.output and "1 submitted" in result.output
    again = run("updates", "import", str(filled), "--as", "changzhi", "--submit")
    assert "1个与系统中一致未改动" in again.output and "submitted" not in again.output.split("/")[-1]
    listed = run("updates", "list", "--status", "submitted", "--as", "sheng").output
    line = next(row for row in listed.splitlines() if pilot in row)
    update_id, version = line.split("\t")[:2]
    refused = run("updates", "review", update_id, "accept", "--version", version, "--as", "changzhi")
    assert refused.exit_code != 0 and "此操作仅限省级生态环境部门" in refused.output
    assert "Only the provincial bureau" in refused.output
    no_reason = run("updates", "review", update_id, "return", "--version", version, "--as", "sheng")
    assert no_reason.exit_code != 0 and "退回须填写理由" in no_reason.output
    accepted = run("updates", "review", update_id, "accept", "--version", version, "--as", "sheng")
    assert accepted.exit_code == 0, accepted.output
    stale = run("updates", "review", update_id, "accept", "--version", version, "--as", "sheng")
    assert stale.exit_code != 0 and "已被他人修改" in stale.output
    table = run("updates", "completeness", "--as", "sheng").output
    # Expected 1, submitted 1, completeness 100% (on time or not depends on today's date).
    (row,) = [r.split("\t") for r in table.splitlines() if r.startswith("长治市")]
    assert row[1:3] == ["1", "1"] and row[4] == "100.0%", table


def test_accepting_with_a_warning_needs_acknowledge(pilot: str, tmp_path: Path) -> None:
    template = tmp_path / "template.xlsx"
    assert run("updates", "template", str(template), "--as", "changzhi").exit_code == 0
    filled = tmp_path / "filled.xlsx"
    filled.write_bytes(fill(template, 60))  # from nothing to 60% in one period: over the 50 points
    assert run("updates", "import", str(filled), "--as", "changzhi", "--submit").exit_code == 0
    listed = run("updates", "list", "--status", "submitted", "--as", "sheng").output
    update_id, version = next(row for row in listed.splitlines() if pilot in row).split("\t")[:2]
    refused = run("updates", "review", update_id, "accept", "--version", version, "--as", "sheng")
    assert (
        refused.exit_code != 0
        and "我已核实以上提示" in refused.output
        and "此前没有采纳的进度，本期即报60.0%" in refused.output
    )
    assert "I have checked the warnings above" in refused.output
    accepted = run(
        "updates", "review", update_id, "accept", "--version", version, "--acknowledge", "--as", "sheng"
    )
    assert accepted.exit_code == 0, accepted.output
    assert "已核实 / acknowledged" in accepted.output and "no accepted progress before" in accepted.output
