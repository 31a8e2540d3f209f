"""The applications and pilots commands: imports all-or-nothing with every problem, steps as an account."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tests.lifecycle.test_forms_import import sample_bytes

PASSWORD = "Cli-password-2025"


def run(*args: str):  # type: ignore[no-untyped-def]
    from tracker_cli.main import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def accounts(cli_database: str) -> str:
    for name, role, city in (("sheng", "province_staff", None), ("changzhi", "city_staff", "长治"),
                             ("taiyuan", "city_staff", "太原"), ("lingdao", "leader", None)):  # fmt: skip
        args = ["users", "add", name, "--role", role, "--password", PASSWORD]
        assert run(*(args + (["--city", city] if city else []))).exit_code == 0
    # Every batch of 2025 has closed by now: the province reopens batch 3 for 长治.
    result = run("deadlines", "grant", "--batch", "3", "--city", "长治", "--until", "2099-12-31",
                 "--reason", "补报", "--as", "sheng")  # fmt: skip
    assert result.exit_code == 0, result.output
    return cli_database


def application_id(url: str, organisation: str) -> int:
    from sqlalchemy import select

    from tracker.core.db import make_engine
    from tracker.models import Application, Organisation

    engine = make_engine(url)
    with engine.connect() as conn:
        found = conn.execute(
            select(Application.id).join(Organisation).where(Organisation.name == organisation)
        ).scalar_one()
    engine.dispose()
    return int(found)


def pilot_id(url: str) -> int:
    from sqlalchemy import func, select

    from tracker.core.db import make_engine
    from tracker.models import Pilot

    engine = make_engine(url)
    with engine.connect() as conn:
        found = conn.execute(select(func.max(Pilot.id))).scalar_one()
    engine.dispose()
    return int(found)


def test_city_staff_cannot_grant_exceptions(accounts: str) -> None:
    result = run("deadlines", "grant", "--batch", "3", "--city", "长治", "--until", "2099-12-31",
                 "--reason", "x", "--as", "changzhi")  # fmt: skip
    assert result.exit_code != 0 and "仅限省级" in result.output and "provincial bureau" in result.output


def test_import_export_and_steps(accounts: str, tmp_path: Path) -> None:
    sample = tmp_path / "annex1.xlsx"
    sample.write_bytes(sample_bytes())
    dry = run(
        "applications",
        "import",
        str(sample),
        "--city",
        "长治",
        "--batch",
        "3",
        "--dry-run",
        "--as",
        "changzhi",
    )
    assert dry.exit_code == 0 and "将新增5条" in dry.output and "dry run" in dry.output
    result = run("applications", "import", str(sample), "--city", "长治", "--as", "changzhi")
    assert result.exit_code == 0, result.output
    assert "已新增5条" in result.output and "created 5" in result.output and "第三批" in result.output
    # 太原's staff may not import for 长治, nor act on its applications
    other = run("applications", "import", str(sample), "--city", "长治", "--batch", "3", "--as", "taiyuan")
    assert other.exit_code != 0
    ident = str(application_id(accounts, "示例长治白酒有限公司1"))  # ids differ by backend (sequences)
    refused = run("applications", "advance", ident, "pass", "--as", "taiyuan")
    assert refused.exit_code != 0 and "仅限申报单位所在市" in refused.output
    leader = run("applications", "advance", ident, "pass", "--as", "lingdao")
    assert leader.exit_code != 0
    assert run("applications", "advance", ident, "pass", "--as", "changzhi").exit_code == 0
    assert run("applications", "advance", ident, "forward", "--as", "changzhi").exit_code == 0
    early = run("applications", "advance", ident, "select", "--as", "sheng")
    assert early.exit_code != 0 and "不能确定入选" in early.output
    assert run("applications", "advance", ident, "start_review", "--as", "sheng").exit_code == 0
    assert run("applications", "advance", ident, "select", "--as", "sheng").exit_code == 0
    assert run("pilots", "advance", str(pilot_id(accounts)), "publish", "--as", "sheng").exit_code == 0
    out = tmp_path / "list.xlsx"
    listed = run("pilots", "export-list", str(out), "--as", "lingdao")
    assert listed.exit_code == 0 and "exported 1 pilot" in listed.output
    sheet = openpyxl.load_workbook(out).active
    assert sheet["C4"].value == "示例长治白酒有限公司1"
    table = tmp_path / "table.xlsx"
    exported = run("applications", "export", "--batch", "3", "--city", "长治", str(table), "--as", "changzhi")
    assert exported.exit_code == 0 and "exported 5 row" in exported.output
    form = tmp_path / "form.xlsx"
    assert run("applications", "export-form", ident, str(form), "--as", "changzhi").exit_code == 0
    assert run("applications", "export-form", ident, str(form), "--as", "taiyuan").exit_code != 0


def test_a_bad_file_writes_nothing_and_lists_every_problem_in_both_languages(
    accounts: str, tmp_path: Path
) -> None:
    book = openpyxl.load_workbook(io.BytesIO(sample_bytes()))
    sheet = book.active
    sheet["E5"] = "优" * 501
    sheet["C10"] = "服务试点"
    bad = tmp_path / "bad.xlsx"
    book.save(bad)
    result = CliRunner().invoke(__import__("tracker_cli.main", fromlist=["cli"]).cli,
                                ["applications", "import", str(bad), "--city", "长治", "--as", "changzhi"])  # fmt: skip
    assert result.exit_code != 0
    assert (
        "第5行 E列" in result.output and "row 5, column E" in result.output and "超过500字" in result.output
    )
    assert "第10行 C列" in result.output and "row 10, column C" in result.output
    assert "未写入任何数据" in result.output and "nothing was written" in result.output
    listing = tmp_path / "after.xlsx"
    assert (
        run(
            "applications", "export", "--batch", "3", "--city", "长治", str(listing), "--as", "changzhi"
        ).exit_code
        == 0
    )
    assert "exported 0 row" in run("applications", "export", "--batch", "3", "--city", "长治", str(listing),
                                   "--as", "changzhi").output  # fmt: skip
