"""The reference library: product benchmarks, electricity factors and recognised certification bodies.

Only the provincial administrator edits it; every change to a benchmark or factor is a new version
with its reason, the old version kept. The claim rules read the current versions and record which
ones they judged against. Anyone who may view reads it, with each entry's history (files are read
into it by tracker.claims.library_import)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.access.permissions import require_library_admin
from tracker.audit import trail as audit
from tracker.core.db import utcnow
from tracker.core.errors import TrackerError
from tracker.core.messages import Label, Listed, Message
from tracker.core.validation import Problem, ValidationFailed
from tracker.models import AuditEvent, Certifier, EmissionFactor, Product, ProductBenchmark, User

BENCHMARK_FIGURES = ("plausible_low", "typical", "plausible_high", "physical_floor")
BENCHMARK_TEXTS = ("declared_unit", "confidence", "basis")
FACTOR_DETAILS = ("scope", "year", "kind", "unit", "confidence")
NEW_FACTOR_NEEDS = ("scope", "year", "kind", "unit")
CERTIFIER_FIELDS = ("is_active", "accreditation_no", "note")
REASON_ACTION = "library_reason"  # the audit event carrying why a certifier was changed
ORDER = ("physical_floor", "plausible_low", "typical", "plausible_high")  # the figures, rising
FIGURE_LIMIT = Decimal(10) ** 12  # the benchmark columns hold 12 digits before the point
# Each field of the library (and its files' columns) by name, as a problem or a change names it.
FIELD_ZH = {"product": "产品", "name_en": "英文名称", "declared_unit": "声明单位", "physical_floor": "物理下限",
            "plausible_low": "合理下限", "typical": "典型值", "plausible_high": "合理上限", "confidence": "可信度",
            "basis": "依据", "factor_id": "因子编号", "factor_key": "因子编号", "scope": "范围", "year": "年份",
            "kind": "类型", "value": "数值", "unit": "单位", "source": "来源", "name": "机构名称",
            "accreditation_no": "批准号", "is_active": "是否认可", "note": "备注", "benchmark": "产品基准",
            "factor": "电力排放因子"}  # fmt: skip
FIELD_EN = {"physical_floor": "physical floor", "plausible_low": "plausible low", "plausible_high": "plausible high",
            "factor_id": "factor id", "factor_key": "factor id", "accreditation_no": "approval number",
            "is_active": "recognised", "declared_unit": "declared unit", "name_en": "English name"}  # fmt: skip
UNCHANGED = Message("数值与现行版本相同，未保存新版本")


@dataclass(frozen=True)
class LibraryProblem(Problem):
    """A problem with a library entry or file, its field named in words (物理下限, not physical_floor)."""

    def where_zh(self) -> str:
        return Problem.where_zh(replace(self, field=FIELD_ZH.get(self.field, self.field)))

    def where_en(self) -> str:
        return Problem.where_en(replace(self, field=FIELD_EN.get(self.field, self.field)))


class NothingChanged(TrackerError):
    """A change that would save a version equal to the current one: nothing is saved."""

    def __init__(self) -> None:
        super().__init__(UNCHANGED)


def shown(value: object) -> str:
    """A stored value as text: decimals without trailing zeros, yes/no in Chinese."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, bool):
        return "是" if value else "否"
    return "" if value is None else str(value)


def as_number(value: object) -> Decimal | None:
    """A figure given as a number or its digits; None when it is not a usable number."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() and abs(number) < FIGURE_LIMIT else None


ProblemMaker = Callable[[str, Message], Problem]


def _field(key: str) -> Label:
    return Label(FIELD_ZH.get(key, key), FIELD_EN.get(key, key))


def order_problems(figures: dict[str, Decimal], make: ProblemMaker = LibraryProblem) -> list[Problem]:
    """floor ≤ low ≤ typical ≤ high: a problem at the lower figure of each broken step."""
    found = []
    for lower, upper in pairwise(ORDER):
        a, b = figures[lower], figures[upper]
        if a > b:
            found.append(make(lower, Message("{lower}（{a}）大于{upper}（{b}）；应满足 物理下限 ≤ 合理下限 ≤ 典型值 ≤ 合理上限",
                                             lower=_field(lower), a=shown(a), upper=_field(upper), b=shown(b))))  # fmt: skip
    return found


def current_benchmarks(session: Session) -> dict[int, ProductBenchmark]:
    """Each product's current benchmark, by product id."""
    return {
        b.product_id: b for b in session.scalars(select(ProductBenchmark).where(ProductBenchmark.is_current))
    }


def current_factors(session: Session) -> dict[str, EmissionFactor]:
    return {f.factor_key: f for f in session.scalars(select(EmissionFactor).where(EmissionFactor.is_current))}


def reason_text(reason: str | None) -> str:
    """The reason for a change, trimmed; refused when empty."""
    text = (reason or "").strip()
    if not text:
        raise TrackerError(Message("修改参考数据须说明理由和来源"))
    return text[:1000]


def set_benchmark(session: Session, user: User, product_name: str, *, reason: str | None,
                  **changes: object) -> ProductBenchmark:  # fmt: skip
    """A new version of a product's benchmark with the given figures changed (others carried over).
    The figures must be numbers ≥ 0, ordered floor ≤ low ≤ typical ≤ high, each refused by name
    otherwise. Nothing is saved (NothingChanged) when all would be as in the current version, as the
    file import skips a row equal to the current entry."""
    require_library_admin(user)
    why = reason_text(reason)
    product = session.scalars(select(Product).where(Product.name_zh == product_name.strip())).first()
    if product is None:
        raise TrackerError(Message("未知产品：{product_name}", product_name=product_name))
    current = session.scalars(
        select(ProductBenchmark).where(ProductBenchmark.product_id == product.id, ProductBenchmark.is_current)
    ).first()
    base = (
        {
            name: getattr(current, name)
            for name in (*BENCHMARK_FIGURES, "declared_unit", "confidence", "basis")
        }
        if current
        else {}
    )
    unknown = set(changes) - set(base or (*BENCHMARK_FIGURES, "declared_unit", "confidence", "basis"))
    if unknown:
        raise TrackerError(Message("未知字段：{fields}", fields=Listed(sorted(unknown))))
    values = {**base, **{k: v for k, v in changes.items() if v is not None}}
    figures: dict[str, Decimal] = {}
    problems: list[Problem] = []
    for name in ORDER:
        given, number = values.get(name), as_number(values.get(name))
        if given is None or given == "":
            problems.append(LibraryProblem(name, Message("不能为空，请填写数值")))
        elif number is None:
            problems.append(LibraryProblem(name, Message("“{given}”不是可用的数值", given=given)))
        elif number < 0:
            problems.append(LibraryProblem(name, Message("不能小于0")))
        else:
            figures[name] = number
    if problems or (problems := order_problems(figures)):
        raise ValidationFailed(problems)
    if current is not None and all(
        getattr(current, k) == (figures[k] if k in figures else values.get(k)) for k in base
    ):
        raise NothingChanged
    if current is not None:
        current.is_current = False
        session.flush()
    row = ProductBenchmark(product_id=product.id, version=(current.version + 1) if current else 1, is_current=True,
                           **figures,
                           declared_unit=values.get("declared_unit") or product.declared_unit,
                           confidence=values.get("confidence") or "unconfirmed", basis=values.get("basis") or why,
                           changed_by_id=user.id, reason=why)  # fmt: skip
    session.add(row)
    session.flush()
    return row


def set_factor(session: Session, user: User, factor_key: str, *, value: Decimal | float | str, reason: str | None,
               source: str | None = None, **details: object) -> EmissionFactor:  # fmt: skip
    """A new version of an electricity factor with a new value (and source, and any of scope, year,
    kind, unit, confidence). A key not in the library is added as version 1 only when its scope,
    year, kind and unit are all given, so a mistyped key is refused rather than added. Nothing is
    saved (NothingChanged) when all would be as in the current version."""
    require_library_admin(user)
    why = reason_text(reason)
    unknown = set(details) - set(FACTOR_DETAILS)
    if unknown:
        raise TrackerError(Message("未知字段：{fields}", fields=Listed(sorted(unknown))))
    key = factor_key.strip()
    current = session.scalars(
        select(EmissionFactor).where(EmissionFactor.factor_key == key, EmissionFactor.is_current)
    ).first()
    given = {name: v for name, v in details.items() if v is not None and v != ""}
    if current is None and (not 0 < len(key) <= 64 or not all(n in given for n in NEW_FACTOR_NEEDS)):
        raise TrackerError(Message("未知因子：{factor_key}", factor_key=factor_key))
    number = as_number(value)
    if number is None:
        raise TrackerError(Message("因子数值“{value}”不是数字", value=value))
    if not Decimal(0) < number < Decimal(10):
        raise TrackerError(Message("因子数值应在0到10之间（大于0且小于10）"))
    base = (
        {n: getattr(current, n) for n in (*FACTOR_DETAILS, "source")}
        if current
        else {"confidence": "unconfirmed"}
    )
    values = {**base, **given, "value": number, "source": (source or "").strip() or base.get("source") or why}
    values["year"] = int(values["year"])
    if current is not None and all(getattr(current, k) == v for k, v in values.items()):
        raise NothingChanged
    if current is not None:
        current.is_current = False
        session.flush()
    row = EmissionFactor(factor_key=key, version=(current.version + 1) if current else 1, is_current=True,
                         scope=values["scope"], year=values["year"], kind=values["kind"], value=number,
                         unit=values["unit"], confidence=values["confidence"], source=values["source"],
                         changed_by_id=user.id, reason=why)  # fmt: skip
    session.add(row)
    session.flush()
    return row


def recognise_certifier(session: Session, user: User, name: str, *, accreditation_no: str | None = None,
                        note: str | None = None, active: bool = True, reason: str | None = None) -> Certifier:  # fmt: skip
    """Add a certification body to the recognised list, or change whether it is recognised (or its
    approval number, note). Nothing changes, and nothing is audited, when all is as stored; the
    reason, when given, is kept in the audit trail beside the change (certifiers have no versions)."""
    require_library_admin(user)
    text = name.strip()
    if not 0 < len(text) <= 200:
        raise TrackerError(Message("认证机构名称应为1–200字"))
    row = session.scalars(select(Certifier).where(Certifier.name == text)).first()
    wanted: dict[str, Any] = {"is_active": active}
    if accreditation_no is not None:
        wanted["accreditation_no"] = accreditation_no.strip()[:64] or None
    if note is not None:
        wanted["note"] = note.strip() or None
    if row is not None and all(getattr(row, k) == v for k, v in wanted.items()):
        return row
    if row is None:
        row = Certifier(name=text)
        session.add(row)
    for field_name, value in wanted.items():
        setattr(row, field_name, value)
    row.changed_at, row.changed_by_id = utcnow(), user.id
    session.flush()
    why = (reason or "").strip()
    if why:
        audit.record(session, REASON_ACTION, Certifier.__tablename__, row.id, summary=why[:1000])
        session.flush()
    return row


def recognised_certifiers(session: Session) -> set[str]:
    return set(session.scalars(select(Certifier.name).where(Certifier.is_active)))


# --- reading: the current lists and each entry's history -------------------------------------------


@dataclass(frozen=True)
class LibraryVersion:
    """One version of a library entry (or, for a certifier, one recorded change), as shown in its
    history: when, by whom, why, and what it said."""

    version: int | None  # for a certifier, the change's number in order
    is_current: bool
    changed_at: dt.datetime | None
    changed_by: str  # empty for the shipped figures (loaded by ``tracker init``)
    reason: str
    figures: dict[str, Any]


def _names(session: Session, user_ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    return {
        user_id: name
        for user_id, name in session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    }


def list_benchmarks(session: Session) -> list[ProductBenchmark]:
    """The current benchmarks, by product name."""
    stmt = select(ProductBenchmark).join(Product).where(ProductBenchmark.is_current).order_by(Product.id)
    return list(session.scalars(stmt))


def list_factors(session: Session) -> list[EmissionFactor]:
    """The current electricity factors, by scope, year and key."""
    stmt = select(EmissionFactor).where(EmissionFactor.is_current)
    return list(session.scalars(stmt.order_by(EmissionFactor.year, EmissionFactor.factor_key)))


def list_certifiers(session: Session) -> list[Certifier]:
    """Every certification body on the list, recognised or not, the recognised first."""
    return list(session.scalars(select(Certifier).order_by(Certifier.is_active.desc(), Certifier.name)))


def benchmark_history(session: Session, product_id: int) -> list[LibraryVersion]:
    """Every version of a product's benchmark, newest first."""
    rows = session.scalars(select(ProductBenchmark).where(ProductBenchmark.product_id == product_id)
                           .order_by(ProductBenchmark.version.desc())).all()  # fmt: skip
    names = _names(session, {r.changed_by_id for r in rows})
    return [LibraryVersion(r.version, r.is_current, r.changed_at, names.get(r.changed_by_id or 0, ""), r.reason or "",
                           {k: getattr(r, k) for k in (*BENCHMARK_FIGURES, *BENCHMARK_TEXTS)})
            for r in rows]  # fmt: skip


def factor_history(session: Session, factor_key: str) -> list[LibraryVersion]:
    """Every version of an electricity factor, newest first."""
    rows = session.scalars(select(EmissionFactor).where(EmissionFactor.factor_key == factor_key)
                           .order_by(EmissionFactor.version.desc())).all()  # fmt: skip
    names = _names(session, {r.changed_by_id for r in rows})
    return [LibraryVersion(r.version, r.is_current, r.changed_at, names.get(r.changed_by_id or 0, ""), r.reason or "",
                           {k: getattr(r, k) for k in ("value", *FACTOR_DETAILS, "source")})
            for r in rows]  # fmt: skip


def certifier_history(session: Session, certifier_id: int) -> list[LibraryVersion]:
    """A certifier's recorded changes, newest first, each with the reason given beside it and its
    number in order (1 for the first; certifiers have no versions, so this counts changes). They come
    from the audit trail (certifiers are changed in place); the list is public reference data, so
    whoever reads the library reads this, as with the benchmarks' and factors' versions."""
    events = session.scalars(select(AuditEvent).where(AuditEvent.entity_type == Certifier.__tablename__,
                                                      AuditEvent.entity_id == str(certifier_id))
                             .order_by(AuditEvent.id)).all()  # fmt: skip
    # The account that made the change: the session's actor, else the one the row itself names.
    who = {e.id: e.actor_id or (e.after or {}).get("changed_by_id") for e in events}
    names = _names(session, set(who.values()))
    changes: list[LibraryVersion] = []
    for event in events:
        if event.action == REASON_ACTION and changes:
            changes[-1] = replace(changes[-1], reason=event.summary or "")
        elif event.action in ("create", "update"):
            after = {k: v for k, v in (event.after or {}).items() if k in CERTIFIER_FIELDS}
            name = names.get(who[event.id] or 0, event.actor_name)
            changes.append(LibraryVersion(len(changes) + 1, False, event.at, name, "", after))
    if changes:
        changes[-1] = replace(changes[-1], is_current=True)
    return changes[::-1]
