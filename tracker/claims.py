"""The claims registry: reading the exchange file (DOMAIN.md §9, CSV or XLSX) into claim versions.

All or nothing: every problem is listed with its row (the file's line, the header being row 1) and
column, and nothing is written unless there is none. Unknown extra columns are ignored with a
warning; a missing required column rejects the file. Re-importing a ``claim_id`` with different
content adds a version (the earlier ones stay); the same content adds nothing, so the same file
twice changes nothing. A value that is wrong for the regulator (an invalid credit code, a figure
out of range) is a finding for the rules, not an import error: only what cannot be read is refused.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.applications import Problem, ValidationFailed, clean_text
from tracker.models import Boundary, City, Claim, LabelType, Organisation, Pilot, Product, User
from tracker.permissions import Level, may_act, visible_cities

REQUIRED = ("claim_id", "company_name", "credit_code", "city", "product", "declared_unit", "footprint_kgco2e",
            "boundary", "standard", "period_start", "period_end", "label_type", "published_on")  # fmt: skip
OPTIONAL = ("model", "stage_raw_materials", "stage_manufacturing", "stage_transport", "stage_use",
            "stage_end_of_life", "electricity_kwh", "electricity_factor", "green_power_kwh", "offsets_kgco2e",
            "certifier", "certificate_no", "certificate_issued", "certificate_expires", "baseline_kgco2e",
            "claimed_reduction_pct")  # fmt: skip
NUMBERS = {"footprint_kgco2e": "footprint", "stage_raw_materials": "stage_raw_materials",
           "stage_manufacturing": "stage_manufacturing", "stage_transport": "stage_transport",
           "stage_use": "stage_use", "stage_end_of_life": "stage_end_of_life", "electricity_kwh": "electricity_kwh",
           "electricity_factor": "electricity_factor", "green_power_kwh": "green_power_kwh",
           "offsets_kgco2e": "offsets", "baseline_kgco2e": "baseline", "claimed_reduction_pct": "claimed_reduction_pct"}  # fmt: skip
DATES = ("period_start", "period_end", "certificate_issued", "certificate_expires", "published_on")
TEXTS = {"company_name": 200, "credit_code": 32, "product": 200, "model": 200, "standard": 200, "certifier": 200,
         "certificate_no": 64}  # fmt: skip
UNITS = {"t": "t", "吨": "t", "kg": "kg", "千克": "kg", "公斤": "kg", "kwh": "kWh", "千瓦时": "kWh", "度": "kWh",
         "m3": "m3", "m³": "m3", "立方米": "m3", "l": "L", "升": "L", "瓶(500ml)": "bottle_500ml",
         "瓶（500ml）": "bottle_500ml", "kwp": "kWp", "件": "piece"}  # fmt: skip
BOUNDARIES = {"从摇篮到大门": Boundary.CRADLE_TO_GATE, "cradle-to-gate": Boundary.CRADLE_TO_GATE,
              "从摇篮到坟墓": Boundary.CRADLE_TO_GRAVE, "cradle-to-grave": Boundary.CRADLE_TO_GRAVE,
              "从大门到大门": Boundary.GATE_TO_GATE, "gate-to-gate": Boundary.GATE_TO_GATE}  # fmt: skip
LABELS = {"自我声明": LabelType.SELF_DECLARED, "self-declared": LabelType.SELF_DECLARED,
          "第三方认证": LabelType.THIRD_PARTY, "third-party": LabelType.THIRD_PARTY,
          "碳中和": LabelType.CARBON_NEUTRAL, "carbon-neutral": LabelType.CARBON_NEUTRAL}  # fmt: skip
LIMIT = 10**12  # no per-unit footprint is this large; larger is a broken cell, not a claim


@dataclass
class ClaimImportResult:
    new: int = 0
    new_versions: int = 0
    unchanged: int = 0
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False

    def summary_zh(self) -> str:
        head = "检查通过（未写入）：" if self.dry_run else ""
        return f"{head}新增声明{self.new}条，更新为新版本{self.new_versions}条，{self.unchanged}条与现有版本一致未改动"

    def summary_en(self) -> str:
        head = "checked, nothing written: " if self.dry_run else ""
        return f"{head}{self.new} new claims, {self.new_versions} new versions, {self.unchanged} unchanged"


def read_table(content: bytes, filename: str, city: str | None = None) -> list[list[str]]:
    """The file's rows as text: CSV (UTF-8, with or without BOM), the first sheet of an XLSX, or a
    PACT ProductFootprint JSON list mapped onto the exchange columns (``city`` for all of them)."""
    if filename.lower().endswith(".xlsx"):
        return _xlsx_rows(content)
    if filename.lower().endswith(".json"):
        return pact_rows(content, city)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(
            [Problem("file", "文件不是 UTF-8 编码的 CSV", "the file is not UTF-8 CSV")]
        ) from None
    return [list(row) for row in csv.reader(io.StringIO(text))]


def _xlsx_rows(content: bytes) -> list[list[str]]:
    import openpyxl

    try:
        sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
    except Exception:  # openpyxl raises many kinds of error for a file that is not a workbook
        raise ValidationFailed(
            [Problem("file", "不是有效的 Excel 文件（.xlsx）", "not a valid .xlsx file")]
        ) from None
    return [["" if v is None else (v.date().isoformat() if isinstance(v, dt.datetime) else str(v)) for v in row]
            for row in sheet.iter_rows(values_only=True)]  # fmt: skip


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


@dataclass
class _Row:
    number: int
    values: dict[str, str]
    letters: dict[str, str]

    def problem(self, column: str, zh: str, en: str) -> Problem:
        return Problem(column, zh, en, row=self.number, column=f"{self.letters[column]}（{column}）")


def _header(rows: list[list[str]], result: ClaimImportResult) -> dict[str, int]:
    if not rows:
        raise ValidationFailed([Problem("file", "文件是空的", "the file is empty")])
    header = {clean_text(name).lower(): index for index, name in enumerate(rows[0]) if clean_text(name)}
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ValidationFailed([Problem("file", f"缺少必填列：{'、'.join(missing)}", f"missing columns: {', '.join(missing)}",
                                        row=1)])  # fmt: skip
    extra = [name for name in header if name not in REQUIRED and name not in OPTIONAL]
    if extra:
        result.warnings.append(f"已忽略未知列 / ignored unknown columns: {', '.join(extra)}")
    return header


def _number(row: _Row, column: str, problems: list[Problem]) -> Decimal | None:
    text = row.values.get(column, "").replace(",", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        problems.append(row.problem(column, f"“{text}”不是数字", f"“{text}” is not a number"))
        return None
    if not value.is_finite() or abs(value) >= LIMIT:
        problems.append(row.problem(column, f"“{text}”不是可用的数值", f"“{text}” is not a usable number"))
        return None
    return value


def _date(row: _Row, column: str, problems: list[Problem]) -> dt.date | None:
    text = row.values.get(column, "")
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        problems.append(
            row.problem(column, f"“{text}”不是日期（应为 YYYY-MM-DD）", f"“{text}” is not a YYYY-MM-DD date")
        )
        return None


def _choice(row: _Row, column: str, choices: dict[str, Any], problems: list[Problem], shown: str) -> Any:
    text = row.values.get(column, "")
    found = choices.get(text.lower().replace(" ", ""))
    if found is None:
        problems.append(
            row.problem(column, f"“{text}”不是可识别的取值（{shown}）", f"“{text}” is not one of: {shown}")
        )
    return found


def _claim_values(row: _Row, cities: dict[str, City], problems: list[Problem]) -> dict[str, Any]:
    """One row as Claim column values; problems for what cannot be read."""
    before = len(problems)
    for column in REQUIRED:
        if not row.values.get(column) and column not in NUMBERS and column not in DATES:
            problems.append(row.problem(column, "必填项为空", "required value is empty"))
    values: dict[str, Any] = {key: (row.values.get(key) or None) for key in TEXTS}
    for key, limit in TEXTS.items():
        if values[key] and len(values[key]) > limit:
            problems.append(row.problem(key, f"超过{limit}个字符", f"longer than {limit} characters"))
    city_text = row.values.get("city", "")
    city = cities.get(city_text) or cities.get(city_text.removesuffix("市"))
    if city_text and city is None:
        problems.append(
            row.problem(
                "city", f"“{city_text}”不是本省的城市", f"“{city_text}” is not a city of the province"
            )
        )
    values["city"] = city
    values["declared_unit"] = _choice(
        row, "declared_unit", UNITS, problems, "t、kg、kWh、m3、L、瓶(500mL)、kWp、件"
    )
    values["boundary"] = _choice(
        row, "boundary", BOUNDARIES, problems, "从摇篮到大门、从摇篮到坟墓、从大门到大门"
    )
    values["label_type"] = _choice(row, "label_type", LABELS, problems, "自我声明、第三方认证、碳中和")
    for column, key in NUMBERS.items():
        values[key] = _number(row, column, problems)
    for column in DATES:
        values[column] = _date(row, column, problems)
    for column in ("footprint_kgco2e", "period_start", "period_end", "published_on"):
        if not row.values.get(column):
            problems.append(row.problem(column, "必填项为空", "required value is empty"))
    return values if len(problems) == before else {}


def _content_hash(values: dict[str, Any]) -> str:
    plain = {
        k: (v.id if isinstance(v, City) else str(v) if v is not None else None)
        for k, v in sorted(values.items())
    }
    return hashlib.sha256(json.dumps(plain, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def import_claims(session: Session, user: User, content: bytes, filename: str, *, dry_run: bool = False,
                  source: str | None = None, city: str | None = None) -> ClaimImportResult:  # fmt: skip
    """Import an exchange file (or PACT JSON, whose claims are all of ``city``) as the user: every row
    of a city the user may act for, or nothing."""
    result = ClaimImportResult(dry_run=dry_run)
    rows = read_table(content, filename, city)
    header = _header(rows, result)
    cities = {name: c for c in session.scalars(visible_cities(user)) for name in (c.short_zh, c.name_zh)}
    letters = {name: _column_letter(index) for name, index in header.items()}
    problems: list[Problem] = []
    parsed: list[tuple[_Row, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(rows[1:], start=2):
        if not any(clean_text(cell) for cell in raw):
            continue
        row = _Row(number, {name: clean_text(raw[index]) if index < len(raw) else "" for name, index in header.items()},
                   letters)  # fmt: skip
        key = row.values["claim_id"]
        if key and key in seen:
            problems.append(
                row.problem(
                    "claim_id", f"与第{seen[key]}行的 claim_id 重复", f"same claim_id as row {seen[key]}"
                )
            )
        seen[key] = number
        values = _claim_values(row, cities, problems)
        if values and not may_act(user, Level.EITHER, values["city"]):
            problems.append(
                row.problem("city", "您无权导入该城市的声明", "you may not import claims of this city")
            )
        elif values:
            parsed.append((row, values))
    if problems:
        raise ValidationFailed(problems)
    savepoint = session.begin_nested()
    for row, values in parsed:
        _store(session, user, row.values["claim_id"], values, source or _source(filename), result)
    session.flush()
    if dry_run:
        savepoint.rollback()
    else:
        savepoint.commit()
    return result


def _source(filename: str) -> str:
    suffix = filename.lower().rsplit(".", 1)[-1]
    return {"xlsx": "xlsx", "json": "pact"}.get(suffix, "csv")


# --- PACT Pathfinder ProductFootprint (v2 and v3 field names) --------------------------------------

PACT_UNITS = {"kilogram": "kg", "liter": "L", "kilowatt hour": "kWh", "cubic meter": "m3", "ton": "t",
              "metric ton": "t", "tonne": "t", "kg": "kg", "l": "L", "kwh": "kWh", "m3": "m3", "t": "t"}  # fmt: skip


def _first(mapping: dict[str, Any], *names: str) -> Any:
    return next((mapping[n] for n in names if mapping.get(n) not in (None, "")), None)


def _usci(company_ids: Any) -> str:
    """The unified social credit code among the company's URNs (its last segment, 18 characters)."""
    for urn in company_ids if isinstance(company_ids, list) else []:
        last = str(urn).rsplit(":", 1)[-1].strip()
        if len(last) == 18:
            return last
    return ""


def pact_rows(content: bytes, city: str | None) -> list[list[str]]:
    """PACT ProductFootprints as exchange rows. v2 names (pCfExcludingBiogenic, declaredUnit) and v3
    names (pcfExcludingBiogenicUptake, declaredUnitOfMeasurement) both map; PACT footprints are
    cradle-to-gate; an assurance block makes the label third-party certified by its provider."""
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValidationFailed([Problem("file", "不是有效的 JSON 文件", "not a valid JSON file")]) from None
    footprints = data.get("data", data) if isinstance(data, dict) else data
    if isinstance(footprints, dict):
        footprints = [footprints]
    if not isinstance(footprints, list) or not all(isinstance(f, dict) for f in footprints):
        raise ValidationFailed(
            [Problem("file", "JSON 应为 ProductFootprint 列表", "expected a list of ProductFootprints")]
        )
    header = [*REQUIRED, "model", "certifier"]
    rows = [header]
    for footprint in footprints:
        pcf = footprint.get("pcf") if isinstance(footprint.get("pcf"), dict) else {}
        assurance = pcf.get("assurance") if isinstance(pcf.get("assurance"), dict) else None
        unit = str(_first(pcf, "declaredUnitOfMeasurement", "declaredUnit") or "")
        values = {
            "claim_id": str(footprint.get("id") or ""), "company_name": str(footprint.get("companyName") or ""),
            "credit_code": _usci(footprint.get("companyIds")), "city": city or "",
            "product": str(_first(footprint, "productNameCompany", "productName", "productDescription") or ""),
            "declared_unit": PACT_UNITS.get(unit.lower(), unit),
            "footprint_kgco2e": str(_first(pcf, "pcfExcludingBiogenicUptake", "pCfExcludingBiogenic",
                                           "pcfExcludingBiogenic") or ""),
            "boundary": "cradle-to-grave" if str(footprint.get("partialFullPcf", "")).lower() == "cradle-to-grave"
            else "cradle-to-gate",
            "standard": "; ".join(str(s) for s in (_first(pcf, "crossSectoralStandards", "crossSectoralStandardsUsed") or [])),
            "period_start": str(pcf.get("referencePeriodStart") or "")[:10],
            "period_end": str(pcf.get("referencePeriodEnd") or "")[:10],
            "label_type": "第三方认证" if assurance else "自我声明",
            "published_on": str(footprint.get("created") or "")[:10],
            "model": str(footprint.get("productDescription") or ""),
            "certifier": str(assurance.get("providerName") or "") if assurance else "",
        }  # fmt: skip
        rows.append([values[name] for name in header])
    return rows


def _store(session: Session, user: User, key: str, values: dict[str, Any], source: str,
           result: ClaimImportResult) -> None:  # fmt: skip
    digest = _content_hash(values)
    current = session.scalars(select(Claim).where(Claim.claim_key == key, Claim.is_current)).first()
    if current is not None and current.content_hash == digest:
        result.unchanged += 1
        return
    if current is not None:
        current.is_current = False  # the earlier version stays, no longer current
        session.flush()
        result.new_versions += 1
    else:
        result.new += 1
    city: City = values.pop("city")
    session.add(Claim(
        claim_key=key, version=(current.version + 1) if current else 1, is_current=True, content_hash=digest,
        source=source, imported_by_id=user.id, city_id=city.id,
        pilot_id=_pilot_of(session, values["credit_code"]), product_id=_product_of(session, values["product"]),
        **values,
    ))  # fmt: skip
    session.flush()


def _pilot_of(session: Session, credit_code: str) -> int | None:
    """The pilot of the claiming company, when it is a pilot unit (its latest pilot)."""
    return session.scalar(
        select(Pilot.id).join(Organisation, Pilot.organisation_id == Organisation.id)
        .where(Organisation.credit_code == credit_code.upper()).order_by(Pilot.id.desc())
    )  # fmt: skip


def _product_of(session: Session, name: str) -> int | None:
    return session.scalar(select(Product.id).where(Product.name_zh == name))
