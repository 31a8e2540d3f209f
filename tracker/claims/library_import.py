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

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.access.permissions import require_library_admin
from tracker.audit import trail as audit
from tracker.claims.library import (
    BENCHMARK_FIGURES,
    FIELD_ZH,
    current_benchmarks,
    current_factors,
    order_problems,
    reason_text,
    recognise_certifier,
    set_benchmark,
    set_factor,
    shown,
)
from tracker.claims.library_file import (
    Columns,
    FileRow,
    control_problems,
    file_rows,
    read_header,
    read_key,
    read_library_table,
    read_number,
    read_texts,
)
from tracker.core.messages import Label, Message
from tracker.core.validation import Problem, ValidationFailed
from tracker.models import Certifier, EmissionFactor, Product, ProductBenchmark, User

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
COLUMNS: dict[LibraryKind, Columns] = {
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
        what = "，".join(
            f"{FIELD_ZH.get(k, k)} {self.before[k]} → {v}"
            if k in self.before
            else f"{FIELD_ZH.get(k, k)} {v}"
            for k, v in self.after.items()
        )
        return f"第{self.row}行 {self.key}：{'新增' if self.is_new else '新版本'}（{what}）"


@dataclass
class LibraryImportResult:
    kind: LibraryKind
    changes: list[LibraryChange] = field(default_factory=list)
    unchanged: int = 0
    warnings: list[Message] = field(default_factory=list)
    dry_run: bool = False

    @property
    def new(self) -> int:
        return sum(c.is_new for c in self.changes)

    @property
    def new_versions(self) -> int:
        return len(self.changes) - self.new

    @property
    def summary(self) -> Message:
        """What the import did, in the reader's language."""
        n = self.new_versions
        changed = (
            Message("修改{n}条", n=n) if self.kind is LibraryKind.CERTIFIERS else Message("新版本{n}条", n=n)
        )
        return Message("{head}{kind}新增{new}条，{changed}，{unchanged}条与现有一致未改动",
                       head=Message("检查通过（未写入）：") if self.dry_run else "", kind=Label(KIND_ZH[self.kind], self.kind.value),
                       new=self.new, changed=changed, unchanged=self.unchanged)  # fmt: skip


_shown = shown


def _stored_values(stored: object, wanted: dict[str, object]) -> dict[str, object]:
    return {k: getattr(stored, k) for k in wanted} if stored else {}


def _tally(change: LibraryChange | None, changes: list[LibraryChange], result: LibraryImportResult) -> None:
    """A row's change joins the list; a row that changes nothing is counted as unchanged."""
    if change is None:
        result.unchanged += 1
    else:
        changes.append(change)


def _change(
    row: FileRow, key: str, stored: dict[str, object], wanted: dict[str, object]
) -> LibraryChange | None:
    """The change from ``stored`` (empty for a new entry) to ``wanted``, or None when they agree."""
    after = {k: _shown(v) for k, v in wanted.items() if not stored or stored.get(k) != v}
    if stored and not after:
        return None
    before = {k: _shown(stored.get(k)) for k in after} if stored else {}
    return LibraryChange(row.number, key, before, after, wanted)


# --- benchmarks ----------------------------------------------------------------------------------


def _benchmark_changes(session: Session, rows: list[FileRow], problems: list[Problem],
                       result: LibraryImportResult) -> list[LibraryChange]:  # fmt: skip
    products = {p.name_zh: p for p in session.scalars(select(Product))}
    current = current_benchmarks(session)
    seen: dict[str, int] = {}
    changes: list[LibraryChange] = []
    for row in rows:
        before = len(problems)
        name = read_key(row, "product", seen, problems)
        if name and name not in products:
            problems.append(row.problem("product", Message("“{name}”不是目录中的产品", name=name)))
        figures = {column: read_number(row, column, problems, 4) for column in BENCHMARK_FIGURES}
        if None not in figures.values():
            _check_order(row, figures, problems)
        wanted: dict[str, Any] = {
            **figures,
            **read_texts(row, ("declared_unit", "confidence", "basis"), problems),
        }
        if len(problems) > before:
            continue
        stored = current.get(products[name].id)
        _tally(_change(row, name, _stored_values(stored, wanted), wanted), changes, result)
    return changes


def _check_order(row: FileRow, figures: dict[str, Decimal | None], problems: list[Problem]) -> None:
    """floor ≤ low ≤ typical ≤ high, each ≥ 0; each broken step named at its first column."""
    chain = ("physical_floor", "plausible_low", "typical", "plausible_high")
    negative = [column for column in chain if (figures[column] or 0) < 0]
    for column in negative:
        problems.append(row.problem(column, Message("不能小于0")))
    if not negative:
        problems.extend(order_problems({c: f for c, f in figures.items() if f is not None}, row.problem))


# --- factors -------------------------------------------------------------------------------------


def _factor_changes(session: Session, rows: list[FileRow], problems: list[Problem],
                    result: LibraryImportResult) -> list[LibraryChange]:  # fmt: skip
    current = current_factors(session)
    seen: dict[str, int] = {}
    changes: list[LibraryChange] = []
    for row in rows:
        before = len(problems)
        key = read_key(row, "factor_id", seen, problems)
        if key and not FACTOR_KEY.match(key):
            problems.append(row.problem("factor_id", Message("因子编号只能由字母、数字、下划线组成（不超过64位）")))  # fmt: skip
        value = read_number(row, "value", problems, 6)
        if value is not None and not Decimal(0) < value < Decimal(10):
            problems.append(row.problem("value", Message("因子数值应在0到10之间（大于0且小于10）")))
        wanted: dict[str, Any] = {
            "value": value,
            **read_texts(row, ("scope", "kind", "unit", "confidence", "source"), problems),
        }
        wanted |= _year(row, problems)
        stored = current.get(key)
        if stored is None and key:
            for column in ("scope", "year", "kind", "unit"):
                if not row.get(column):
                    problems.append(row.problem(column, Message("新增因子须填写此项")))
        if len(problems) > before:
            continue
        _tally(_change(row, key, _stored_values(stored, wanted), wanted), changes, result)
    return changes


def _year(row: FileRow, problems: list[Problem]) -> dict[str, int]:
    text = row.get("year")
    if not text:
        return {}
    if not text.isdigit() or not 1990 <= int(text) <= 2100:
        problems.append(row.problem("year", Message("“{text}”不是有效年份", text=text)))
        return {}
    return {"year": int(text)}


# --- certifiers ----------------------------------------------------------------------------------


def _certifier_changes(session: Session, rows: list[FileRow], problems: list[Problem],
                       result: LibraryImportResult) -> list[LibraryChange]:  # fmt: skip
    stored_by_name = {c.name: c for c in session.scalars(select(Certifier))}
    seen: dict[str, int] = {}
    changes: list[LibraryChange] = []
    for row in rows:
        before = len(problems)
        name = read_key(row, "name", seen, problems)
        wanted: dict[str, Any] = {**read_texts(row, ("name", "accreditation_no", "note"), problems)}
        active = row.get("is_active").lower()
        if active and active not in YES | NO:
            problems.append(row.problem("is_active", Message("“{active}”应为 是 或 否", active=active)))
        wanted["is_active"] = active not in NO
        if len(problems) > before:
            continue
        wanted.pop("name")
        stored = stored_by_name.get(name)
        _tally(_change(row, name, _stored_values(stored, wanted), wanted), changes, result)
    return changes


# --- the import ----------------------------------------------------------------------------------

Planner = Callable[[Session, list[FileRow], list[Problem], LibraryImportResult], list[LibraryChange]]
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
    rows = file_rows(table, read_header(table, COLUMNS[result.kind], result.warnings))
    problems: list[Problem] = control_problems(rows)
    changes = PLANNERS[result.kind](session, rows, problems, result)
    if problems:
        raise ValidationFailed(problems)
    result.changes = changes
    if dry_run or not changes:
        return result
    for change in changes:
        _apply(session, user, result.kind, change, why)
    summary = Message("{file}：{summary}；理由：{why}", file=filename, summary=result.summary, why=why).zh
    audit.record(session, "library_import", TABLES[result.kind], summary=summary[:2000])
    session.flush()
    return result
