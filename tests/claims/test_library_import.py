"""Importing the reference library from files: the shipped and public reference files read whole and
change nothing; a changed row becomes a new version with the import's reason; a broken file names
every problem's row and column and writes nothing; only the provincial admin imports; and the
`tracker library` commands do the same from the command line."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from tests.cli.test_lifecycle_cli import PASSWORD, run
from tests.fixtures import FIXTURES
from tracker.access.permissions import PermissionDenied
from tracker.claims.library import current_benchmarks, current_factors, recognised_certifiers
from tracker.claims.library_import import LibraryKind, import_library
from tracker.core.validation import ValidationFailed
from tracker.models import AuditEvent, Certifier, EmissionFactor, ProductBenchmark, Role

CATALOGUE = Path(__file__).resolve().parents[2] / "tracker" / "catalogue"
B, F, C = LibraryKind.BENCHMARKS, LibraryKind.FACTORS, LibraryKind.CERTIFIERS


def rows_of(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def as_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


def as_xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)  # type: ignore[union-attr]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def versions(db, model) -> int:  # type: ignore[no-untyped-def]
    return db.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def admin(factory):  # type: ignore[no-untyped-def]
    return factory.user(Role.PROVINCE_ADMIN, username="lib-admin")


@pytest.mark.parametrize(("kind", "path"), [
    (B, CATALOGUE / "benchmarks.csv"), (F, CATALOGUE / "emission_factors.csv"),
    (B, FIXTURES / "products.csv"), (F, FIXTURES / "electricity_factors.csv"),
])  # fmt: skip
def test_the_shipped_and_reference_files_reimport_unchanged(db, admin, kind, path) -> None:  # type: ignore[no-untyped-def]
    before = (versions(db, ProductBenchmark), versions(db, EmissionFactor))
    result = import_library(db, admin, kind, path.read_bytes(), path.name, reason="核对")
    assert (result.new, result.new_versions, result.unchanged) == (0, 0, len(rows_of(path)) - 1)
    assert (versions(db, ProductBenchmark), versions(db, EmissionFactor)) == before


def test_a_changed_row_is_a_new_version_with_the_reason_and_the_import_is_audited(db, admin) -> None:  # type: ignore[no-untyped-def]
    rows = rows_of(CATALOGUE / "benchmarks.csv")
    header = rows[0]
    coke = next(r for r in rows if r[0] == "焦炭")
    coke[header.index("typical")] = "950"
    checked = import_library(db, admin, B, as_csv(rows), "b.csv", reason="2026年行业调研", dry_run=True)
    assert (checked.new_versions, checked.dry_run) == (1, True)
    assert checked.changes[0].text_zh() == "第2行 焦炭：新版本（典型值 900 → 950）"
    assert versions(db, ProductBenchmark) == len(rows) - 1  # the dry run wrote nothing
    result = import_library(db, admin, B, as_csv(rows), "b.csv", reason="2026年行业调研")
    assert (result.new, result.new_versions, result.unchanged) == (0, 1, len(rows) - 2)
    product_id = checked_product_id(db, "焦炭")
    current = current_benchmarks(db)[product_id]
    assert (current.version, current.typical, current.reason, current.changed_by_id) == (
        2, Decimal(950), "2026年行业调研", admin.id)  # fmt: skip
    assert current.physical_floor == 400 and current.basis.startswith("coking coal")  # the rest carried over
    again = import_library(db, admin, B, as_csv(rows), "b.csv", reason="再次导入")
    assert (again.new_versions, again.unchanged) == (0, len(rows) - 1)
    summaries = db.scalars(select(AuditEvent.summary).where(AuditEvent.action == "library_import")).all()
    assert summaries == ["b.csv：产品基准新增0条，新版本1条，17条与现有一致未改动；理由：2026年行业调研"]
    assert db.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.entity_type == "product_benchmarks", AuditEvent.entity_id == str(current.id))) == 1  # fmt: skip


def checked_product_id(db, name: str) -> int:  # type: ignore[no-untyped-def]
    from tracker.models import Product

    return db.scalars(select(Product.id).where(Product.name_zh == name)).one()


def test_factors_from_excel_with_chinese_headers_change_and_add(db, admin) -> None:  # type: ignore[no-untyped-def]
    content = as_xlsx([
        ["因子编号", "范围", "年份", "类型", "数值", "单位", "可信度", "来源"],
        ["shanxi_2022", "", "", "", 0.71, "", "", "复核公告"],
        ["north_china_2024", "华北", 2024, "grid average CO2 emission factor", 0.6012, "kgCO2/kWh", "confirmed", "公告"],
    ])  # fmt: skip
    result = import_library(db, admin, F, content, "因子.xlsx", reason="2024年因子发布")
    assert (result.new, result.new_versions) == (1, 1)
    factors = current_factors(db)
    assert (factors["shanxi_2022"].version, factors["shanxi_2022"].value) == (2, Decimal("0.71"))
    assert factors["shanxi_2022"].source == "复核公告" and factors["shanxi_2022"].scope == "山西"
    new = factors["north_china_2024"]
    assert (new.version, new.year, new.value, new.reason) == (1, 2024, Decimal("0.6012"), "2024年因子发布")


def test_certifiers_are_added_and_deactivated_and_their_reason_kept(db, admin) -> None:  # type: ignore[no-untyped-def]
    db.info["actor"] = admin  # as the edges (a command, a callback) open their sessions
    rows = [["name", "accreditation_no", "is_active", "note"], ["中国质量认证中心", "CNCA-R-2002-001", "是", ""],
            ["某认证有限公司", "", "否", "批准书已撤销"]]  # fmt: skip
    result = import_library(db, admin, C, as_csv(rows), "c.csv", reason="认监委名录")
    assert (result.new, result.new_versions) == (2, 0)
    assert recognised_certifiers(db) == {"中国质量认证中心"}
    rows[1][2] = "否"
    changed = import_library(db, admin, C, as_csv(rows), "c.csv", reason="批准书到期")
    assert (changed.new, changed.new_versions, changed.unchanged) == (0, 1, 1)
    assert recognised_certifiers(db) == set()
    from tracker.claims.library import certifier_history

    certifier = db.scalars(select(Certifier).where(Certifier.name == "中国质量认证中心")).one()
    history = certifier_history(db, certifier.id)
    assert [(h.figures.get("is_active"), h.reason, h.changed_by) for h in history] == [
        (False, "批准书到期", "lib-admin"), (True, "认监委名录", "lib-admin")]  # fmt: skip


def test_a_broken_file_lists_every_problem_with_its_row_and_column_and_writes_nothing(db, admin) -> None:  # type: ignore[no-untyped-def]
    rows = rows_of(CATALOGUE / "benchmarks.csv")
    header = rows[0]
    rows[1][header.index("typical")] = "九百"  # 焦炭, row 2
    rows[2][header.index("physical_floor")] = "3000"  # 法兰: floor above low
    rows[3][0] = "月饼"
    rows[4][header.index("plausible_high")] = ""
    rows.append(list(rows[5]))  # the same product twice
    before = versions(db, ProductBenchmark)
    with pytest.raises(ValidationFailed) as refused:
        import_library(db, admin, B, as_csv(rows), "b.csv", reason="批量修订")
    where = [(p.row, p.column) for p in refused.value.problems]
    assert where == [(2, "E（typical）"), (3, "G（physical_floor）"), (4, "A（product）"), (5, "F（plausible_high）"),
                     (len(rows), "A（product）")]  # fmt: skip
    assert "物理下限 ≤ 合理下限" in refused.value.problems[1].message_zh
    assert "第3行 G（physical_floor）列 物理下限：物理下限（3000）大于合理下限" in refused.value.message_zh
    assert "第2行 E（typical）列 典型值：“九百”不是数字" in refused.value.message_zh
    assert "第5行 F（plausible_high）列 合理上限：必填项为空" in refused.value.message_zh
    assert versions(db, ProductBenchmark) == before


def test_a_missing_column_or_a_bad_factor_refuses_the_file(db, admin) -> None:  # type: ignore[no-untyped-def]
    rows = rows_of(CATALOGUE / "benchmarks.csv")
    without = [row[:4] + row[5:] for row in rows]  # no typical
    with pytest.raises(ValidationFailed, match="缺少必填列：typical（典型值）"):
        import_library(db, admin, B, as_csv(without), "b.csv", reason="x")
    factors = [["factor_id", "value", "year"], ["shanxi_2022", "709.6", ""], ["new_one", "0.5", "明年"],
               ["shanxi_2022", "0.1234567", ""]]  # fmt: skip
    with pytest.raises(ValidationFailed) as refused:
        import_library(db, admin, F, as_csv(factors), "f.csv", reason="x")
    assert [(p.row, p.column) for p in refused.value.problems] == [
        (2, "B（value）"), (3, "C（year）"), (3, "scope"), (3, "kind"), (3, "unit"), (4, "A（factor_id）"),
        (4, "B（value）")]  # fmt: skip
    assert (
        "最多保留6位小数" in refused.value.problems[-1].message_zh
        and "与第2行重复" in refused.value.message_zh
    )
    assert current_factors(db)["shanxi_2022"].version == 1


def test_only_the_provincial_admin_imports_and_a_reason_is_required(db, factory, admin) -> None:  # type: ignore[no-untyped-def]
    content = (CATALOGUE / "emission_factors.csv").read_bytes()
    for role, city in ((Role.PROVINCE_STAFF, None), (Role.CITY_STAFF, "长治"), (Role.LEADER, None)):
        with pytest.raises(PermissionDenied, match="仅限省级管理员"):
            import_library(db, factory.user(role, city), F, content, "f.csv", reason="x", dry_run=True)
    with pytest.raises(Exception, match="须说明理由"):
        import_library(db, admin, F, content, "f.csv", reason="  ")
    with pytest.raises(ValidationFailed, match="仅支持 CSV 或 XLSX"):
        import_library(db, admin, F, content, "f.txt", reason="x")


def test_a_csv_saved_by_chinese_excel_reads(db, admin) -> None:  # type: ignore[no-untyped-def]
    rows = [["产品", "合理下限", "典型值", "合理上限", "物理下限"], ["玻璃", "600", "1000", "1500", "450"]]
    content = as_csv(rows).decode().encode("gb18030")
    result = import_library(db, admin, B, content, "基准.csv", reason="按 T/CECRPA 010-2024 修订")
    assert result.new_versions == 1 and result.changes[0].after == {"physical_floor": "450"}
    assert result.changes[0].text_zh() == "第2行 玻璃：新版本（物理下限 400 → 450）"


def test_a_dry_run_names_every_changed_column_in_chinese(db, admin) -> None:  # type: ignore[no-untyped-def]
    rows = [["factor_id", "value", "confidence", "source"], ["shanxi_2022", "0.71", "已复核", "复核公告"]]
    checked = import_library(db, admin, F, as_csv(rows), "f.csv", reason="x", dry_run=True)
    line = checked.changes[0].text_zh()
    assert line.startswith("第2行 shanxi_2022：新版本（数值 ") and "可信度 " in line and "来源 " in line
    assert not any(word in line for word in ("value", "confidence", "source"))


@pytest.fixture
def accounts(cli_database: str) -> str:
    for name, role in (("admin", "province_admin"), ("sheng", "province_staff")):
        assert run("users", "add", name, "--role", role, "--password", PASSWORD).exit_code == 0
    return cli_database


def test_the_commands_import_check_refuse_and_list(accounts: str, tmp_path: Path) -> None:
    rows = rows_of(CATALOGUE / "emission_factors.csv")
    rows[1][rows[0].index("value")] = "0.5570"
    path = tmp_path / "factors.csv"
    path.write_bytes(as_csv(rows))
    args = ["library", "import-factors", str(path), "--reason", "更正"]
    staff = run(*args, "--as", "sheng")
    assert (
        staff.exit_code == 1
        and "参考数据仅限省级管理员修改" in staff.output
        and "Only the provincial" in staff.output
    )
    checked = run(*args, "--dry-run", "--as", "admin")
    assert checked.exit_code == 0 and "检查通过（未写入）" in checked.output
    assert "第2行 cn_grid_avg_2021：新版本（数值 0.5568 → 0.557）" in checked.output
    done = run(*args, "--as", "admin")
    assert done.exit_code == 0 and "新版本1条" in done.output and "1 changed" in done.output
    listed = run("library", "list", "factors")
    assert (
        listed.exit_code == 0
        and "cn_grid_avg_2021" in listed.output
        and "0.557 kgCO2/kWh v2" in listed.output
    )
    rows[2][rows[0].index("value")] = "abc"
    path.write_bytes(as_csv(rows))
    broken = run(*args, "--as", "admin")
    assert broken.exit_code == 1
    assert "第3行 E（value）列" in broken.output and "row 3, column E（value）" in broken.output
    everything = run("library", "list")
    assert "产品基准" in everything.output and "焦炭" in everything.output and "认证机构" in everything.output
