"""Reading reference-library files (CSV or XLSX) into the library: benchmarks, factors, certifiers.

The columns are those of the shipped catalogue files (tracker/catalogue/benchmarks.csv,
emission_factors.csv), which are also the layout of the public reference files they were copied
from (reference/products.csv, electricity_factors.csv); Chinese headers are accepted too. A
certifier file has ``name, accreditation_no, is_active, note``.

All or nothing, as for claims: every problem is listed with its row (the header is row 1) and
column, and nothing is written unless there is none. A row equal to the current entry adds
nothing; a changed row becomes a new version through ``set_benchmark`` / ``set_factor`` (or a
change through ``recognise_certifier``), so versions, reasons and the audit trail are the same as
for an edit by hand. An empty optional cell keeps what is stored. Entries not in the file are left
as they are: a file adds and changes, it never removes.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from itertools import pairwise
from typing import Any

from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import audit
from tracker.applications import Problem, ValidationFailed, clean_text
from tracker.library import (
    BENCHMARK_FIGURES,
    current_benchmarks,
    current_factors,
    reason_text,
    recognise_certifier,
    set_benchmark,
    set_factor,
)
from tracker.models import Certifier, EmissionFactor, Product, ProductBenchmark, User
from tracker.permissions import require_library_admin

LIMIT = Decimal(10) ** 12  # the benchmark columns hold 12 digits before the point
FACTOR_KEY = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
YES = {"是", "有效", "认可", "yes", "y", "true", "1"}
NO = {"否", "停用", "无效", "撤销", "no", "n", "false", "0"}


class LibraryKind(StrEnum):
    BENCHMARKS = "benchmarks"
    FACTORS = "factors"
    CERTIFIERS = "certifiers"


TABLES = {LibraryKind.BENCHMARKS: ProductBenchmark.__tablename__, LibraryKind.FACTORS: EmissionFactor.__tablename__,
          LibraryKind.CERTIFIERS: Certifier.__tablename__}  # fmt: skip
KIND_ZH = {
    LibraryKind.BENCHMARKS: "产品基准",
    LibraryKind.FACTORS: "电力排放因子",
    LibraryKind.CERTIFIERS: "认证机构",
}
# column → (required, other headers meaning it)
COLUMNS: dict[LibraryKind, dict[str, tuple[bool, tuple[str, ...]]]] = {
    LibraryKind.BENCHMARKS: {
        "product": (True, ("产品", "产品名称")), "name_en": (False, ("英文名称",)),
        "declared_unit": (False, ("声明单位", "单位")), "plausible_low": (True, ("合理下限",)),
        "typical": (True, ("典型值",)), "plausible_high": (True, ("合理上限",)),
        "physical_floor": (True, ("物理下限",)), "confidence": (False, ("可信度",)), "basis": (False, ("依据",)),
    },
    LibraryKind.FACTORS: {
        "factor_id": (True, ("factor_key", "因子编号")), "scope": (False, ("范围", "区域")),
        "year": (False, ("年份",)), "kind": (False, ("类型",)), "value": (True, ("数值", "因子值")),
        "unit": (False, ("单位",)), "confidence": (False, ("可信度",)), "source": (False, ("来源",)),
    },
    LibraryKind.CERTIFIERS: {
        "name": (True, ("机构名称", "认证机构")), "accreditation_no": (False, ("批准号", "批准书编号")),
        "is_active": (False, ("active", "是否认可", "状态")), "note": (False, ("备注",)),
    },
}  # fmt: skip
TEXT_LIMITS = {"declared_unit": 64, "confidence": 64, "scope": 64, "kind": 200, "unit": 64, "name": 200,
               "accreditation_no": 64}  # fmt: skip


@dataclass
class LibraryChange:
    """What one row of the file changes: a new entry (``before`` empty) or a new version."""

    row: int
    key: str
    before: dict[str, str]
    after: dict[str, str]
    values: dict[str, Any] = field(repr=False)  # what is passed to the library function

    @property
    def is_new(self) -> bool:
        return not self.before

    def text_zh(self) -> str:
        shown = "，".join(
            f"{k} {self.before[k]} → {v}" if k in self.before else f"{k} {v}" for k, v in self.after.items()
        )
        return f"第{self.row}行 {self.key}：{'新增' if self.is_new else '新版本'}（{shown}）"


@dataclass
class LibraryImportResult:
    kind: LibraryKind
    changes: list[LibraryChange] = field(default_factory=list)
    unchanged: int = 0
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def new(self) -> int:
        return sum(c.is_new for c in self.changes)

    @property
    def new_versions(self) -> int:
        return len(self.changes) - self.new

    def summary_zh(self) -> str:
        head = "检查通过（未写入）：" if self.dry_run else ""
        changed = "修改" if self.kind is LibraryKind.CERTIFIERS else "新版本"
        return f"{head}{KIND_ZH[self.kind]}新增{self.new}条，{changed}{self.new_versions}条，{self.unchanged}条与现有一致未改动"

    def summary_en(self) -> str:
        head = "checked, nothing written: " if self.dry_run else ""
        return (
            f"{head}{self.new} new, {self.new_versions} changed, {self.unchanged} unchanged {self.kind.value}"
        )


def read_library_table(content: bytes, filename: str) -> list[list[str]]:
    """The rows of a CSV (UTF-8, or GB18030 as Excel saves it on Chinese Windows) or of an XLSX's
    first sheet, as text."""
    if filename.lower().endswith(".xlsx"):
        return _xlsx_rows(content)
    if not filename.lower().endswith(".csv"):
        raise ValidationFailed(
            [Problem("file", "仅支持 CSV 或 XLSX 文件", "only CSV or XLSX files are accepted")]
        )
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        return [[clean_text(cell) for cell in row] for row in csv.reader(io.StringIO(text))]
    raise ValidationFailed(
        [Problem("file", "无法识别 CSV 文件的编码", "the CSV file's encoding is not readable")]
    )


def _xlsx_rows(content: bytes) -> list[list[str]]:
    import openpyxl

    try:
        sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
    except Exception:  # openpyxl raises many kinds of error for a file that is not a workbook
        raise ValidationFailed(
            [Problem("file", "不是有效的 Excel 文件（.xlsx）", "not a valid .xlsx file")]
        ) from None
    return [[clean_text(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]


@dataclass
class _Row:
    number: int
    values: dict[str, str]
    letters: dict[str, str]

    def get(self, column: str) -> str:
        return self.values.get(column, "")

    def problem(self, column: str, zh: str, en: str) -> Problem:
        letter = self.letters.get(column)
        return Problem(column, zh, en, row=self.number, column=f"{letter}（{column}）" if letter else column)


def _header(rows: list[list[str]], kind: LibraryKind, warnings: list[str]) -> dict[str, int]:
    """Column name → index; a missing required column refuses the file."""
    if not rows:
        raise ValidationFailed([Problem("file", "文件是空的", "the file is empty")])
    names = {
        alias.lower(): name for name, (_req, aliases) in COLUMNS[kind].items() for alias in (name, *aliases)
    }
    header: dict[str, int] = {}
    unknown = []
    for index, text in enumerate(rows[0]):
        name = names.get(text.lower())
        if name and name not in header:
            header[name] = index
        elif text:
            unknown.append(text)
    missing = [
        name for name, (required, _aliases) in COLUMNS[kind].items() if required and name not in header
    ]
    if missing:
        raise ValidationFailed([Problem("file", f"缺少必填列：{'、'.join(missing)}",
                                        f"missing columns: {', '.join(missing)}", row=1)])  # fmt: skip
    if unknown:
        warnings.append(f"已忽略未知列 / ignored unknown columns: {', '.join(unknown)}")
    return header


def _rows(rows: list[list[str]], header: dict[str, int]) -> list[_Row]:
    letters = {name: get_column_letter(index + 1) for name, index in header.items()}
    return [_Row(number, {name: raw[i] if i < len(raw) else "" for name, i in header.items()}, letters)
            for number, raw in enumerate(rows[1:], start=2) if any(raw)]  # fmt: skip


def _number(row: _Row, column: str, problems: list[Problem], places: int) -> Decimal | None:
    """A required number of at most ``places`` decimals (what the column stores, so a re-import of
    the same figure is unchanged, not rounded into a new version)."""
    text = row.get(column).replace(",", "").replace("，", "")
    if not text:
        problems.append(row.problem(column, "必填项为空", "required value is empty"))
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        problems.append(row.problem(column, f"“{text}”不是数字", f"“{text}” is not a number"))
        return None
    if not value.is_finite() or abs(value) >= LIMIT:
        problems.append(row.problem(column, f"“{text}”不是可用的数值", f"“{text}” is not a usable number"))
        return None
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        problems.append(
            row.problem(
                column, f"“{text}”最多保留{places}位小数", f"“{text}” has more than {places} decimals"
            )
        )
        return None
    return value


def _texts(row: _Row, columns: tuple[str, ...], problems: list[Problem]) -> dict[str, str]:
    """The non-empty optional texts of a row, each within its column's length."""
    found = {}
    for column in columns:
        text = row.get(column)
        limit = TEXT_LIMITS.get(column)
        if limit and len(text) > limit:
            problems.append(row.problem(column, f"超过{limit}个字符", f"longer than {limit} characters"))
        elif text:
            found[column] = text
    return found


def _once(row: _Row, column: str, seen: dict[str, int], problems: list[Problem]) -> str:
    """The row's key, with a problem if it is empty or an earlier row has it."""
    key = row.get(column)
    if not key:
        problems.append(row.problem(column, "必填项为空", "required value is empty"))
    elif key in seen:
        problems.append(row.problem(column, f"与第{seen[key]}行重复", f"same as row {seen[key]}"))
    else:
        seen[key] = row.number
    return key


def _shown(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, bool):
        return "是" if value else "否"
    return "" if value is None else str(value)


def _change(row: _Row, key: str, stored: dict[str, Any], wanted: dict[str, Any]) -> LibraryChange | None:
    """The change from ``stored`` (empty for a new entry) to ``wanted``, or None when they agree."""
    after = {k: _shown(v) for k, v in wanted.items() if not stored or stored.get(k) != v}
    if stored and not after:
        return None
    before = {k: _shown(stored.get(k)) for k in after} if stored else {}
    return LibraryChange(row.number, key, before, after, wanted)


# --- benchmarks ----------------------------------------------------------------------------------


def _benchmark_changes(session: Session, rows: list[_Row], problems: list[Problem],
                       result: LibraryImportResult) -> list[LibraryChange]:  # fmt: skip
    products = {p.name_zh: p for p in session.scalars(select(Product))}
    current = current_benchmarks(session)
    seen: dict[str, int] = {}
    changes = []
    for row in rows:
        before = len(problems)
        name = _once(row, "product", seen, problems)
        if name and name not in products:
            problems.append(
                row.problem("product", f"“{name}”不是目录中的产品", f"“{name}” is not a catalogue product")
            )
        figures = {column: _number(row, column, problems, 4) for column in BENCHMARK_FIGURES}
        if None not in figures.values():
            _check_order(row, figures, problems)
        wanted: dict[str, Any] = {
            **figures,
            **_texts(row, ("declared_unit", "confidence", "basis"), problems),
        }
        if len(problems) > before:
            continue
        stored = current.get(products[name].id)
        values = {k: getattr(stored, k) for k in wanted} if stored else {}
        change = _change(row, name, values, wanted)
        if change is None:
            result.unchanged += 1
        else:
            changes.append(change)
    return changes


def _check_order(row: _Row, figures: dict[str, Decimal | None], problems: list[Problem]) -> None:
    """floor ≤ low ≤ typical ≤ high, each ≥ 0; each broken step named at its first column."""
    chain = ("physical_floor", "plausible_low", "typical", "plausible_high")
    negative = [column for column in chain if (figures[column] or 0) < 0]
    for column in negative:
        problems.append(row.problem(column, "数值不能为负", "a figure cannot be negative"))
    if negative:
        return
    for lower, upper in pairwise(chain):
        a, b = figures[lower], figures[upper]
        if a is not None and b is not None and a > b:
            problems.append(row.problem(lower, f"{lower}（{_shown(a)}）大于{upper}（{_shown(b)}）；应满足 物理下限 ≤ 合理下限 ≤ 典型值 ≤ 合理上限",
                                        f"{lower} ({_shown(a)}) > {upper} ({_shown(b)}); need floor ≤ low ≤ typical ≤ high"))  # fmt: skip


# --- factors -------------------------------------------------------------------------------------


def _factor_changes(session: Session, rows: list[_Row], problems: list[Problem],
                    result: LibraryImportResult) -> list[LibraryChange]:  # fmt: skip
    current = current_factors(session)
    seen: dict[str, int] = {}
    changes = []
    for row in rows:
        before = len(problems)
        key = _once(row, "factor_id", seen, problems)
        if key and not FACTOR_KEY.match(key):
            problems.append(row.problem("factor_id", "因子编号只能由字母、数字、下划线组成（不超过64位）",
                                        "a factor id is letters, digits and underscores (64 at most)"))  # fmt: skip
        value = _number(row, "value", problems, 6)
        if value is not None and not Decimal(0) < value < Decimal(10):
            problems.append(row.problem("value", "因子数值应在0–10之间", "a factor must be between 0 and 10"))
        wanted: dict[str, Any] = {
            "value": value,
            **_texts(row, ("scope", "kind", "unit", "confidence", "source"), problems),
        }
        wanted |= _year(row, problems)
        stored = current.get(key)
        if stored is None and key:
            for column in ("scope", "year", "kind", "unit"):
                if not row.get(column):
                    problems.append(row.problem(column, "新增因子须填写此项", "required for a new factor"))
        if len(problems) > before:
            continue
        values = {k: getattr(stored, k) for k in wanted} if stored else {}
        change = _change(row, key, values, wanted)
        if change is None:
            result.unchanged += 1
        else:
            changes.append(change)
    return changes


def _year(row: _Row, problems: list[Problem]) -> dict[str, int]:
    text = row.get("year")
    if not text:
        return {}
    if not text.isdigit() or not 1990 <= int(text) <= 2100:
        problems.append(row.problem("year", f"“{text}”不是有效年份", f"“{text}” is not a year"))
        return {}
    return {"year": int(text)}


# --- certifiers ----------------------------------------------------------------------------------


def _certifier_changes(session: Session, rows: list[_Row], problems: list[Problem],
                       result: LibraryImportResult) -> list[LibraryChange]:  # fmt: skip
    stored_by_name = {c.name: c for c in session.scalars(select(Certifier))}
    seen: dict[str, int] = {}
    changes = []
    for row in rows:
        before = len(problems)
        name = _once(row, "name", seen, problems)
        wanted: dict[str, Any] = {**_texts(row, ("name", "accreditation_no", "note"), problems)}
        active = row.get("is_active").lower()
        if active and active not in YES | NO:
            problems.append(
                row.problem("is_active", f"“{active}”应为 是 或 否", f"“{active}” should be yes or no")
            )
        wanted["is_active"] = active not in NO
        if len(problems) > before:
            continue
        wanted.pop("name")
        stored = stored_by_name.get(name)
        values = {k: getattr(stored, k) for k in wanted} if stored else {}
        change = _change(row, name, values, wanted)
        if change is None:
            result.unchanged += 1
        else:
            changes.append(change)
    return changes


# --- the import ----------------------------------------------------------------------------------

Planner = Callable[[Session, list[_Row], list[Problem], LibraryImportResult], list[LibraryChange]]
PLANNERS: dict[LibraryKind, Planner] = {
    LibraryKind.BENCHMARKS: _benchmark_changes,
    LibraryKind.FACTORS: _factor_changes,
    LibraryKind.CERTIFIERS: _certifier_changes,
}


def _apply(session: Session, user: User, kind: LibraryKind, change: LibraryChange, reason: str) -> None:
    values = change.values
    if kind is LibraryKind.BENCHMARKS:
        set_benchmark(session, user, change.key, reason=reason, **values)
    elif kind is LibraryKind.FACTORS:
        set_factor(session, user, change.key, reason=reason, **values)
    else:
        recognise_certifier(session, user, change.key, accreditation_no=values.get("accreditation_no"),
                            note=values.get("note"), active=values["is_active"], reason=reason)  # fmt: skip


def import_library(session: Session, user: User, kind: LibraryKind, content: bytes, filename: str, *,
                   reason: str | None, dry_run: bool = False) -> LibraryImportResult:  # fmt: skip
    """Read a library file and, unless ``dry_run``, write its changes as the provincial admin:
    every row or none. The import itself is audited with its file name and reason."""
    require_library_admin(user)
    why = reason_text(reason)
    result = LibraryImportResult(LibraryKind(kind), dry_run=dry_run)
    table = read_library_table(content, filename)
    rows = _rows(table, _header(table, result.kind, result.warnings))
    problems: list[Problem] = []
    changes = PLANNERS[result.kind](session, rows, problems, result)
    if problems:
        raise ValidationFailed(problems)
    result.changes = changes
    if dry_run or not changes:
        return result
    for change in changes:
        _apply(session, user, result.kind, change, why)
    summary = f"{filename}：{result.summary_zh()}；理由：{why}"
    audit.record(session, "library_import", TABLES[result.kind], summary=summary[:2000])
    session.flush()
    return result
