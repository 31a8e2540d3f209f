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
ZH_SAMPLE = FIXTURES / "claims_zh_gb18030.csv"  # GB18030, Chinese headers, the number and date forms


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
    rows[3][header.index("published_on")] = "01/08/2025"  # day first: refused, not guessed
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
    assert result.new == 2 and "remark" in result.warnings[0].zh and count(db) == 0
    # A warning is a message: each language whole, nothing to split (was "中文 / English" in one string).
    assert result.warnings[0].zh.startswith("已忽略未知列：") and " / " not in result.warnings[0].zh
    assert result.warnings[0].en.startswith("Ignored unknown columns: remark")


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
    chinese = run(cli, ["claims", "import", str(ZH_SAMPLE), "--dry-run", "--as", "shengcl"])
    assert chinese.exit_code == 0 and "4 new claims" in chinese.output, chinese.output
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
            "文件既不是 UTF-8 也不是 GB18030（GBK）编码的 CSV，请在 Excel 中另存为“CSV UTF-8（逗号分隔）”", "无法读取：不是有效的 Excel（.xlsx）文件", "不是有效的 JSON 文件")  # fmt: skip
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
    assert (events[0].after["rows"], events[0].after["new"], events[0].after["unchanged"]) == (3, 3, 0)


# --- slice by slice: checked while the slice before is written ------------------------------------------


@pytest.fixture
def small_slices(monkeypatch):  # type: ignore[no-untyped-def]
    import tracker.claims.registry

    monkeypatch.setattr(tracker.claims.registry, "SLICE_ROWS", 7)
    monkeypatch.setattr(tracker.claims.registry, "FIRST_SLICE_ROWS", 7)


def test_the_first_slice_is_smaller_so_that_the_database_starts_writing_sooner() -> None:
    from tracker.claims.registry import _slices

    def bounds(rows: int, whole: bool = False) -> list[tuple[int, int]]:
        return [(part.start, part.stop) for part in _slices(rows, whole=whole)]

    assert bounds(250_000) == [(0, 5_000), (5_000, 105_000), (105_000, 205_000), (205_000, 250_000)]
    assert bounds(5_000) == [(0, 5_000)] and bounds(5) == [(0, 5)] and bounds(0) == []
    assert bounds(250_000, whole=True) == [(0, 250_000)] and bounds(0, whole=True) == []


def stored_rows(db) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    columns = [
        c
        for c in Claim.__table__.columns
        if c.name not in ("id", "import_id", "imported_at", "imported_by_id")
    ]
    return sorted(tuple(row) for row in db.execute(select(*columns)).all())


def test_a_file_in_many_slices_stores_what_one_slice_stores(db, province, factory, small_slices) -> None:  # type: ignore[no-untyped-def]
    import tracker.claims.registry

    rows = sample_rows()
    first = import_claims(db, province, as_csv(rows), "claims.csv")
    footprint = rows[0].index("footprint_kgco2e")
    for n in (1, 9, 10, 60, len(rows) - 1):  # new versions in several slices, the last one included
        rows[n][footprint] = "1234.5"
    again = import_claims(db, province, as_csv(rows), "claims.csv")
    assert (first.new, again.new_versions, again.unchanged) == (len(rows) - 1, 5, len(rows) - 6)
    sliced = stored_rows(db)
    db.rollback()
    tracker.claims.registry.SLICE_ROWS = tracker.claims.registry.FIRST_SLICE_ROWS = 100_000
    whole = factory.user(Role.PROVINCE_STAFF, username="whole")
    import_claims(db, whole, as_csv(sample_rows()), "claims.csv")
    import_claims(db, whole, as_csv(rows), "claims.csv")
    assert stored_rows(db) == sliced
    current = db.scalars(select(Claim).where(Claim.claim_key == rows[60][0]).order_by(Claim.version)).all()
    assert [(c.version, c.is_current) for c in current] == [(1, False), (2, True)]


def test_a_problem_in_a_late_slice_stores_nothing_and_every_problem_is_listed(
    db, province, small_slices, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import tracker.claims.registry
    from tracker.models import ClaimImport

    original = tracker.claims.registry._Writer.write

    rows = sample_rows()
    header = rows[0]
    rows[30][header.index("declared_unit")] = "桶"  # slice 5: slices 1 to 4 are being written by then
    rows[50][0] = rows[2][0]  # a claim id of slice 1 again in slice 8
    rows[len(rows) - 1][header.index("footprint_kgco2e")] = "八百"  # the last slice
    written = []
    monkeypatch.setattr(
        tracker.claims.registry._Writer,
        "write",
        lambda self, frame: (written.append(len(frame)), original(self, frame)),
    )
    with pytest.raises(ValidationFailed) as refused:
        import_claims(db, province, as_csv(rows), "claims.csv")
    assert written == [7, 7, 7, 7]  # the slices before the first problem went to the writer
    assert [(p.row, p.column.split("（")[0]) for p in refused.value.problems] == [
        (31, "G"),
        (51, "A"),
        (len(rows), "H"),
    ]
    assert "与第3行的 claim_id 重复" in refused.value.problems[1].message.text("zh_CN")
    db.rollback()
    assert count(db) == 0 and db.scalar(select(func.count()).select_from(ClaimImport)) == 0


# --- spreadsheets as Chinese users save them (DOMAIN.md §9) ---------------------------------------------


def zh_rows() -> list[list[str]]:
    return list(csv.reader(io.StringIO(ZH_SAMPLE.read_bytes().decode("gb18030"))))


def as_gb18030(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("gb18030")


def zh_workbook() -> bytes:
    """The GB18030 sample's claims as Excel keeps them: dates in date cells (2025年6月28日 and
    2025/6/28 formats), plain amounts in number cells (the others as the sample writes them), one
    date left as its serial number in a General cell; two headers by their other Chinese names."""
    import datetime as dt

    import xlsxwriter

    rows = zh_rows()
    header = [{"核算期起": "核算周期开始", "核算期止": "核算周期结束"}.get(h, h) for h in rows[0]]
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out)
    sheet = book.add_worksheet("声明")
    formats = [book.add_format({"num_format": f}) for f in ('yyyy"年"m"月"d"日"', "yyyy/m/d")]
    sheet.write_row(0, 0, header)
    for number, (row, expected) in enumerate(zip(rows[1:], ZH_EXPECTED.values(), strict=True), start=1):
        sheet.write_row(number, 0, row)
        for index, cell in enumerate(row):
            day = (
                expected[ZH_FIELDS.index(ZH_DATE_FIELDS[rows[0][index]])]
                if rows[0][index] in ZH_DATE_FIELDS
                else None
            )
            if isinstance(day, dt.date):
                sheet.write_datetime(number, index, dt.datetime.combine(day, dt.time()), formats[number % 2])
            elif index > 6 and re.fullmatch(r"[0-9]+(\.[0-9]+)?", cell):
                sheet.write_number(number, index, float(cell))
    sheet.write_number(3, rows[0].index("发布日期"), 45836)  # 2025-06-28 as Excel's serial day
    book.close()
    return out.getvalue()


def _zh_expected() -> tuple[tuple[str, ...], dict[str, tuple[object, ...]]]:
    import datetime as dt
    from decimal import Decimal as D

    day = dt.date.fromisoformat
    fields = ("company_name", "city", "product", "model", "declared_unit", "footprint", "boundary", "standard",
              "period_start", "period_end", "stage_raw_materials", "stage_manufacturing", "stage_transport",
              "stage_use", "stage_end_of_life", "electricity_kwh", "electricity_factor", "green_power_kwh",
              "offsets", "label_type", "certifier", "certificate_no", "certificate_issued",
              "certificate_expires", "published_on", "baseline", "claimed_reduction_pct")  # fmt: skip
    gate, own, third = Boundary.CRADLE_TO_GATE, LabelType.SELF_DECLARED, LabelType.THIRD_PARTY
    expected = {
        "ZH-001": ("示例长治焦化有限公司", "长治", "焦炭", "一级冶金焦", "t", D("1234.5"), gate, "GB/T 24067-2024",
                   day("2024-01-01"), day("2024-12-31"), D("800"), D("400.5"), D("34"), D("0"), D("0"),
                   D("1200"), D("0.6361"), D("0"), D("0"), own, None, None, None, None, day("2025-06-28"),
                   None, None),
        "ZH-002": ("示例太原䶮玻璃有限公司", "太原", "玻璃", "浮法5mm", "t", D("860.8"), gate, "ISO 14067:2018",
                   day("2024-01-01"), day("2024-12-31"), D("329.558"), D("512.5619"), D("18.6801"), D("0"),
                   D("0"), D("169.35"), D("0.6361"), D("0"), D("0"), third, "示例质量认证有限公司",
                   "CFP2025-020002", day("2025-03-01"), day("2027-02-28"), day("2025-06-28"), None, None),
        "ZH-003": ("示例运城铝业有限公司", "运城", "电解铝", "A00", "t", D("16500"), gate, "GB/T 24067-2024",
                   day("2024-01-01"), day("2024-12-31"), D("12000"), D("4000"), D("500"), D("0"), D("0"),
                   D("13500"), D("0.6361"), D("0"), D("0"), third, "示例标准认证所", "CFP2025-020003",
                   day("2025-03-01"), day("2027-02-28"), day("2025-06-28"), D("17000"), D("2.9")),
        "ZH-004": ("示例晋中光伏有限公司", "晋中", "光伏组件", "550W", "kWp", D("637.5"), gate, "GB/T 24067-2024",
                   day("2023-10-01"), day("2024-09-30"), D("374.1468"), D("306.9255"), D("41.8563"), D("0"),
                   D("-85.4286"), D("296.617"), D("0.6361"), D("0"), D("0"), own, None, None, None, None,
                   day("2025-06-28"), D("700"), D("8.9")),
    }  # fmt: skip
    return fields, expected


ZH_FIELDS, ZH_EXPECTED = _zh_expected()
ZH_DATE_FIELDS = {"核算期起": "period_start", "核算期止": "period_end", "证书颁发日期": "certificate_issued",
                  "证书有效期至": "certificate_expires", "发布日期": "published_on"}  # fmt: skip


def stored_claims(db) -> dict[str, tuple[object, ...]]:  # type: ignore[no-untyped-def]
    claims = db.scalars(select(Claim).where(Claim.is_current)).all()
    values = {
        c.claim_key: tuple(c.city.short_zh if f == "city" else getattr(c, f) for f in ZH_FIELDS)
        for c in claims
    }
    return dict(sorted(values.items()))


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_chinese_sheet_imports_with_every_value_exact(db, province, kind: str) -> None:  # type: ignore[no-untyped-def]
    content = ZH_SAMPLE.read_bytes() if kind == "csv" else zh_workbook()
    assert kind == "xlsx" or not content.startswith(b"\xef\xbb\xbf")  # no BOM: Excel's plain "CSV"
    result = import_claims(db, province, content, f"声明.{kind}")
    assert (result.new, result.warnings) == (4, [])
    assert stored_claims(db) == ZH_EXPECTED


def test_the_same_claims_as_gb18030_utf8_and_xlsx_are_the_same_content(db, province) -> None:  # type: ignore[no-untyped-def]
    import_claims(db, province, ZH_SAMPLE.read_bytes(), "声明.csv")
    text = ZH_SAMPLE.read_bytes().decode("gb18030")
    for content, name in ((text.encode("utf-8"), "u.csv"), (b"\xef\xbb\xbf" + text.encode("utf-8"), "b.csv"),
                          (zh_workbook(), "x.xlsx")):  # fmt: skip
        again = import_claims(db, province, content, name)
        assert (again.new, again.new_versions, again.unchanged) == (0, 0, 4), name
    assert count(db) == 4


def test_numbers_and_dates_that_could_mean_two_things_are_refused_with_their_cell(db, province) -> None:  # type: ignore[no-untyped-def]
    rows = zh_rows()
    header = rows[0]
    cases = [  # (row, header, cell, what the message says)
        (2, "声明碳足迹（kgCO2e）", "1,23", "不是数字"),  # no thousands grouping of two digits
        (2, "发布日期", "2025年2月30日", "不是存在的日期"),
        (3, "声明碳足迹（kgCO2e）", "1.234,5", "不是数字"),
        (3, "核算期起", "1/1/2024", "不是日期"),  # year last: refused, not guessed
        (3, "证书有效期至", "0000-12-31", "不是存在的日期"),  # pandas reads it; no database stores it
        (4, "声明碳足迹（kgCO2e）", "16.5 tCO2e", "单位不是本列的kgCO2e"),  # never converted
        (4, "证书颁发日期", "12345", "不是日期"),  # a serial day before 1990: no date here
        (5, "外购电力（kWh）", "２９６。６", "不是数字"),  # 。 is no decimal point
        (5, "减排比例（%）", "8.9 kgCO2e", "单位不是本列的%"),
        (5, "核算期止", "2024/9-30", "不是日期"),  # numbers are checked before dates
    ]
    for row, name, cell, _said in cases:
        rows[row - 1][header.index(name)] = cell
    with pytest.raises(ValidationFailed) as refused:
        import_claims(db, province, as_gb18030(rows), "声明.csv")
    found = [(p.row, p.column.split("（", 1)[1][:-1], p.message_zh) for p in refused.value.problems]
    assert [(row, column) for row, column, _ in found] == [(row, name) for row, name, _, _ in cases]
    assert all(said in message for (_, _, message), (*_, said) in zip(found, cases, strict=True))
    assert refused.value.problems[0].where_zh() == "第2行 H（声明碳足迹（kgCO2e））列 footprint_kgco2e"
    assert count(db) == 0


def test_a_header_naming_a_column_twice_or_in_another_unit_is_refused(db, province) -> None:  # type: ignore[no-untyped-def]
    rows = zh_rows()
    rows[0] = [*rows[0], "product"]
    rows[0][rows[0].index("声明碳足迹（kgCO2e）")] = "声明碳足迹（tCO2e/t）"
    rows[0][rows[0].index("核算边界")] = "边界说明"  # unknown: boundary is then missing
    rows[1:] = [[*row, "焦炭"] for row in rows[1:]]
    with pytest.raises(ValidationFailed) as refused:
        import_claims(db, province, as_gb18030(rows), "声明.csv")
    problems = [(p.row, p.field, p.column, p.message_zh) for p in refused.value.problems]
    assert problems == [
        (1, "footprint_kgco2e", "H（声明碳足迹（tCO2e/t））", "列标题中的单位不是本列的kgCO2e"),
        (1, "product", "AD（product）", "与E（产品名称）列都是 product 列，每列只能有一个"),
        (1, "file", None, "缺少必填列：boundary（核算边界）"),
    ]
    assert count(db) == 0


@pytest.mark.parametrize(
    "content",
    [
        "声明编号,企业名称\r\n".encode("utf-16"),  # Excel's "Unicode text"
        b"\xef\xbb\xbf" + "声明编号,企业名称\r\n".encode("gb18030"),  # a UTF-8 mark on GB18030 bytes
        b"claim_id,company_name\r\n\xff\xfe\x80,x\r\n",  # neither
    ],
)
def test_a_csv_in_neither_utf8_nor_gb18030_is_refused(db, province, content: bytes) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed, match="既不是 UTF-8 也不是 GB18030") as refused:
        import_claims(db, province, content, "声明.csv")
    assert "neither UTF-8 nor GB18030" in refused.value.problems[0].message_en and count(db) == 0


def test_a_gb18030_file_with_a_ragged_row_is_read_the_careful_way(db, province) -> None:  # type: ignore[no-untyped-def]
    rows = zh_rows()
    rows[1][1] = "示例长治焦化\n有限公司"  # a quoted line break: Arrow refuses, csv reads it
    rows[2] = rows[2][:-2]  # two empty trailing cells left off
    result = import_claims(db, province, as_gb18030(rows), "声明.csv")
    assert result.new == 4
    assert (
        db.scalars(select(Claim.company_name).where(Claim.claim_key == "ZH-001")).one()
        == "示例长治焦化\n有限公司"
    )


def test_sqlite_writes_a_column_of_one_value_into_the_statement_and_binds_the_others() -> None:
    import datetime as dt

    import pyarrow as pa

    from tracker.claims.registry import _sqlite_values

    stamp = dt.datetime(2026, 12, 4, 19, 0, 0, 123456, tzinfo=dt.UTC)
    arrow = pa.table({
        "version": pa.array([1, 1, 1]), "source": pa.array(["o'csv"] * 3), "imported_at": pa.array([stamp] * 3),
        "import_id": pa.array([7, 8, 7]), "model": pa.array([None, None, None], pa.string()),
        "footprint": pa.array([1.5, 1.5, 1.5]), "claim_key": pa.array(["a", "a", "a"]),
        "published_on": pa.array([dt.date(2025, 6, 28)] * 3),
    })  # fmt: skip
    values, bound = _sqlite_values(arrow)
    assert values == ["1", "'o''csv'", "'2026-12-04 19:00:00.123456'", "?", "NULL", "?", "?", "?"]
    # only the import's own columns are looked at for one value: the file's fields are bound as given
    assert bound == [[7, 8, 7], [1.5, 1.5, 1.5], ["a", "a", "a"], ["2025-06-28"] * 3]
