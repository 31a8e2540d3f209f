"""Importing the claims exchange file: the sample reads whole; re-importing the same file changes
nothing; a changed claim becomes a new version with the old kept; a broken file writes nothing and
names every problem's row and column; a city imports only its own claims."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest
from sqlalchemy import func, select

from tests.fixtures import FIXTURES
from tracker.claims.registry import import_claims
from tracker.core.validation import ValidationFailed
from tracker.models import Boundary, Claim, LabelType, Role

SAMPLE = FIXTURES / "claims_sample.csv"


def sample_rows() -> list[list[str]]:
    return list(csv.reader(io.StringIO(SAMPLE.read_text(encoding="utf-8"))))


def as_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


def count(db) -> int:  # type: ignore[no-untyped-def]
    return db.scalar(select(func.count()).select_from(Claim)) or 0


@pytest.fixture
def province(factory):  # type: ignore[no-untyped-def]
    return factory.user(Role.PROVINCE_STAFF, username="shcl")


def test_the_sample_imports_whole_and_twice_changes_nothing(db, province) -> None:  # type: ignore[no-untyped-def]
    rows = sample_rows()
    first = import_claims(db, province, as_csv(rows), "claims.csv")
    assert (first.new, first.new_versions, first.unchanged) == (len(rows) - 1, 0, 0)
    again = import_claims(db, province, as_csv(rows), "claims.csv")
    assert (again.new, again.new_versions, again.unchanged) == (0, 0, len(rows) - 1)
    assert count(db) == len(rows) - 1
    claim = db.scalars(select(Claim).where(Claim.claim_key == "CL-10003")).one()
    assert claim.boundary is Boundary.CRADLE_TO_GATE and claim.city.short_zh == "运城"  # 从摇篮到大门, 运城市
    assert claim.label_type is LabelType.THIRD_PARTY and claim.product_id is not None


def test_a_changed_claim_is_a_new_version_and_the_old_stays(db, province) -> None:  # type: ignore[no-untyped-def]
    rows = sample_rows()
    import_claims(db, province, as_csv(rows[:3]), "claims.csv")
    footprint = rows[0].index("footprint_kgco2e")
    rows[1][footprint] = "900.1"
    result = import_claims(db, province, as_csv(rows[:3]), "claims.csv")
    assert (result.new_versions, result.unchanged) == (1, 1)
    versions = db.scalars(select(Claim).where(Claim.claim_key == rows[1][0]).order_by(Claim.version)).all()
    assert [(v.version, v.is_current, str(v.footprint).rstrip("0")) for v in versions] == [
        (1, False, "860.8"), (2, True, "900.1")]  # fmt: skip


def test_a_broken_file_writes_nothing_and_names_every_problem(db, province) -> None:  # type: ignore[no-untyped-def]
    rows = sample_rows()[:4]
    header = rows[0]
    rows[1][header.index("footprint_kgco2e")] = "八百"
    rows[2][header.index("declared_unit")] = "桶"
    rows[3][header.index("published_on")] = "2025/08/01"
    rows[3][header.index("city")] = "上海"
    with pytest.raises(ValidationFailed) as refused:
        import_claims(db, province, as_csv(rows), "claims.csv")
    spots = {(p.row, p.column.split("（")[0]) for p in refused.value.problems}
    assert spots == {(2, "H"), (3, "G"), (4, "AA"), (4, "D")}
    assert count(db) == 0
    with pytest.raises(ValidationFailed, match="缺少必填列：boundary"):
        import_claims(db, province, as_csv([[c for c in header if c != "boundary"]]), "claims.csv")


def test_extra_columns_warn_and_xlsx_reads_the_same(db, province) -> None:  # type: ignore[no-untyped-def]
    rows = [[*row, "备注"] for row in sample_rows()[:3]]
    rows[0][-1] = "remark"
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    result = import_claims(db, province, out.getvalue(), "claims.xlsx", dry_run=True)
    assert result.new == 2 and "remark" in result.warnings[0] and count(db) == 0


def test_a_city_imports_only_its_own_claims(db, factory) -> None:  # type: ignore[no-untyped-def]
    city = factory.user(Role.CITY_STAFF, "长治", username="czcl")
    rows = sample_rows()
    header, city_column = rows[0], rows[0].index("city")
    changzhi = [r for r in rows[1:] if r[city_column].removesuffix("市") == "长治"]
    assert import_claims(db, city, as_csv([header, *changzhi]), "c.csv").new == len(changzhi)
    other = next(r for r in rows[1:] if r[city_column].removesuffix("市") != "长治")
    with pytest.raises(ValidationFailed, match=r"不是本省的城市|无权导入"):
        import_claims(db, city, as_csv([header, other]), "c.csv")
    # Another city's claim id cannot be taken over: a 长治 row may not replace 运城's current version.
    yuncheng = next(r for r in rows[1:] if r[city_column].removesuffix("市") == "运城")
    import_claims(
        db, factory.user(Role.PROVINCE_STAFF, username="shcl2"), as_csv([header, yuncheng]), "y.csv"
    )
    hijack = [*yuncheng]
    hijack[city_column] = "长治"
    with pytest.raises(ValidationFailed, match="已是其他城市的声明") as refused:
        import_claims(db, city, as_csv([header, hijack]), "c.csv")
    assert [(p.row, p.field) for p in refused.value.problems] == [(2, "claim_id")]
    kept = db.scalars(select(Claim).where(Claim.claim_key == yuncheng[0])).one()
    assert kept.is_current and kept.city.short_zh == "运城"


def test_the_cli_imports_and_refuses_in_both_languages(cli_database: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from tracker_cli.main import cli

    run = CliRunner().invoke
    assert run(cli, ["users", "add", "shengcl", "--role", "province_staff"],
               input="Good-pass-2025\nGood-pass-2025\n").exit_code == 0  # fmt: skip
    rows = sample_rows()[:3]
    good = tmp_path / "claims.csv"
    good.write_bytes(as_csv(rows))
    checked = run(cli, ["claims", "import", str(good), "--dry-run", "--as", "shengcl"])
    assert (
        checked.exit_code == 0 and "检查通过（未写入）" in checked.output and "2 new claims" in checked.output
    )
    rows[2][rows[0].index("footprint_kgco2e")] = "n/a"
    bad = tmp_path / "bad.csv"
    bad.write_bytes(as_csv(rows))
    refused = run(cli, ["claims", "import", str(bad), "--as", "shengcl"])
    assert refused.exit_code != 0 and "第3行" in refused.output and "row 3" in refused.output
    done = run(cli, ["claims", "import", str(good), "--as", "shengcl"])
    assert done.exit_code == 0 and "新增声明2条" in done.output


def test_the_cli_scans_and_exports_open_flags(cli_database: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from tracker_cli.main import cli

    run = CliRunner().invoke
    assert run(cli, ["users", "add", "admcl", "--role", "province_admin"],
               input="Good-pass-2025\nGood-pass-2025\n").exit_code == 0  # fmt: skip
    good = tmp_path / "claims.csv"
    good.write_bytes(SAMPLE.read_bytes())
    assert run(cli, ["claims", "import", str(good), "--as", "admcl"]).exit_code == 0
    scanned = run(cli, ["claims", "scan"])
    assert scanned.exit_code == 0, scanned.output
    assert "新发现" in scanned.output and "STAGE_SUM_MISMATCH" in scanned.output and "high" in scanned.output
    judged = re.search(r"BELOW_PHYSICAL_FLOOR\s+(\d+) 条声明 / claims", scanned.output)
    assert judged and int(judged.group(1)) > 0 and "无法比对 / not comparable" in scanned.output
    assert "新发现0条" in run(cli, ["claims", "scan"]).output  # the same findings are not recorded twice
    out = tmp_path / "flags.csv"
    exported = run(cli, ["flags", "export", str(out)])
    assert exported.exit_code == 0, exported.output
    with out.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and {"claim_id", "rule_id", "severity", "status", "message"} <= set(rows[0])
    labels = {r["claim_id"]: r["issue"] for r in csv.DictReader(io.StringIO(
        (FIXTURES / "claims_sample_labels.csv").read_text(encoding="utf-8")))}  # fmt: skip
    assert {r["claim_id"] for r in rows} <= set(labels) and all(r["status"] == "open" for r in rows)
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel opens it as UTF-8
    assert rows[0]["flag_id"].isdigit() and rows[0]["first_seen"].endswith("+08:00")


def test_pact_footprints_of_v2_and_v3_import_as_claims(db, province) -> None:  # type: ignore[no-untyped-def]
    import json

    v2 = {
        "id": "3893bb5d-da16-4dc1-9185-11d97476c254",
        "specVersion": "2.0.0",
        "created": "2025-06-01T00:00:00Z",
        "companyName": "示例长治焦化有限公司",
        "companyIds": ["urn:pathfinder:company:customcode:usci:91140400068288362P"],
        "productNameCompany": "焦炭",
        "productDescription": "一级冶金焦",
        "pcf": {
            "declaredUnit": "kilogram",
            "pCfExcludingBiogenic": 0.9,
            "referencePeriodStart": "2024-01-01T00:00:00Z",
            "referencePeriodEnd": "2024-12-31T23:59:59Z",
            "crossSectoralStandardsUsed": ["ISO Standard 14067"],
        },
    }
    v3 = {"id": "9c5b94b1-35ad-49bb-b118-8e8fc24abf88", "specVersion": "3.0.0", "created": "2025-07-01T00:00:00Z",
          "companyName": "示例长治光伏有限公司", "companyIds": ["urn:usci:91140100MA0K3B2C78"], "productNameCompany": "光伏组件",
          "pcf": {"declaredUnitOfMeasurement": "kWp", "pcfExcludingBiogenicUptake": 550, "referencePeriodStart": "2024-01-01T00:00:00Z",
                  "referencePeriodEnd": "2025-01-01T00:00:00Z", "crossSectoralStandards": ["ISO14067"],
                  "assurance": {"assurance": True, "providerName": "示例认证中心"}}}  # fmt: skip
    result = import_claims(db, province, json.dumps({"data": [v2, v3]}).encode(), "pcf.json", city="长治")
    assert result.new == 2
    claims = {c.claim_key: c for c in db.scalars(select(Claim))}
    coke, pv = claims[v2["id"]], claims[v3["id"]]
    assert (coke.declared_unit, str(coke.footprint).rstrip("0"), coke.credit_code, coke.source) == (
        "kg", "0.9", "91140400068288362P", "pact")  # fmt: skip
    assert coke.boundary is Boundary.CRADLE_TO_GATE and coke.label_type is LabelType.SELF_DECLARED
    assert (pv.label_type, pv.certifier, pv.city.short_zh) == (LabelType.THIRD_PARTY, "示例认证中心", "长治")
    with pytest.raises(ValidationFailed, match="PACT 文件不含城市"):
        import_claims(db, province, json.dumps([v2]).encode(), "pcf.json")  # no city given
    with pytest.raises(ValidationFailed, match="不是有效的 JSON"):
        import_claims(db, province, b"{not json", "pcf.json", city="长治")


def test_negative_amounts_and_reversed_periods_are_refused(db, province) -> None:  # type: ignore[no-untyped-def]
    rows = sample_rows()[:3]
    header = rows[0]
    rows[1][header.index("footprint_kgco2e")] = "-12.5"
    rows[1][header.index("stage_end_of_life")] = "-3"  # a recycling credit may be negative: no problem
    rows[2][header.index("electricity_kwh")] = "-1"
    rows[2][header.index("period_start")], rows[2][header.index("period_end")] = "2024-12-31", "2024-01-01"
    with pytest.raises(ValidationFailed) as refused:
        import_claims(db, province, as_csv(rows), "claims.csv")
    spots = [(p.row, p.field) for p in refused.value.problems]
    assert spots == [(2, "footprint_kgco2e"), (3, "electricity_kwh"), (3, "period_end")]
    assert "为负数" in refused.value.problems[0].message_zh and count(db) == 0


def test_values_the_database_could_not_store_are_problems_with_their_cell(db, province) -> None:  # type: ignore[no-untyped-def]
    rows = sample_rows()[:4]
    header = rows[0]
    rows[1][header.index("claim_id")] = "C" * 65  # claims.claim_key holds 64 characters
    rows[2][header.index("claimed_reduction_pct")] = "12000"  # Numeric(7, 3)
    rows[3][header.index("electricity_factor")] = "10000"  # Numeric(10, 6)
    with pytest.raises(ValidationFailed) as refused:
        import_claims(db, province, as_csv(rows), "claims.csv")
    spots = [(p.row, p.field) for p in refused.value.problems]
    assert spots == [(2, "claim_id"), (3, "claimed_reduction_pct"), (4, "electricity_factor")]
    assert "超过64个字符" in refused.value.problems[0].message_zh and count(db) == 0


def test_a_large_junk_file_is_refused_clearly(db, province) -> None:  # type: ignore[no-untyped-def]
    import random

    junk = random.Random(5).randbytes(10 * 1024 * 1024)
    for name in ("claims.csv", "claims.xlsx", "claims.json"):
        with pytest.raises(ValidationFailed) as refused:
            import_claims(db, province, junk, name)
        assert refused.value.problems[0].message_zh in (
            "文件不是 UTF-8 编码的 CSV", "无法读取：不是有效的 Excel（.xlsx）文件", "不是有效的 JSON 文件")  # fmt: skip
    text_junk = ("废话,", "x" * 100 + "\n") * 50_000  # UTF-8 text, ~10 MB, no header we know
    with pytest.raises(ValidationFailed, match="缺少必填列"):
        import_claims(db, province, "".join(text_junk).encode(), "claims.csv")
    assert count(db) == 0


def test_an_xlsx_with_formulas_is_read_as_its_values_never_run(db, province) -> None:  # type: ignore[no-untyped-def]
    rows = sample_rows()[:3]
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    footprint = rows[0].index("footprint_kgco2e") + 1
    book.active.cell(2, footprint).value = "=1+1"  # a formula: no cached value, so it reads as empty
    book.active.cell(3, 2).value = '=HYPERLINK("http://127.0.0.1/x","点我")'
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(ValidationFailed) as refused:
        import_claims(db, province, out.getvalue(), "claims.xlsx")
    assert [(p.row, p.field) for p in refused.value.problems] == [
        (2, "footprint_kgco2e"),
        (3, "company_name"),
    ]
    assert count(db) == 0


def test_an_import_is_recorded_once_with_its_file_and_every_version_points_at_it(db, province) -> None:  # type: ignore[no-untyped-def]
    from tracker.models import AuditEvent, ClaimImport

    content = as_csv(sample_rows()[:4])
    result = import_claims(db, province, content, "claims.csv")
    record = db.get(ClaimImport, result.import_id)
    assert (record.rows, record.new, record.imported_by_id) == (3, 3, province.id)
    assert record.sha256 == __import__("hashlib").sha256(content).hexdigest()
    assert {c.import_id for c in db.scalars(select(Claim))} == {record.id}
    db.flush()
    events = db.scalars(select(AuditEvent).where(AuditEvent.entity_type == "claim_imports")).all()
    assert len(events) == 1 and events[0].after["filename"] == "claims.csv"
