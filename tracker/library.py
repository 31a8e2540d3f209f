"""The reference library: product benchmarks, electricity factors and recognised certification bodies.

Only the provincial administrator edits it; every change to a benchmark or factor is a new version
with its reason, the old version kept. The claim rules read the current versions and record which
ones they judged against. Anyone who may view reads it, with each entry's history (files are read
into it by tracker.library_import)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import audit
from tracker.applications import Problem, ValidationFailed
from tracker.db import utcnow
from tracker.errors import TrackerError
from tracker.models import AuditEvent, Certifier, EmissionFactor, Product, ProductBenchmark, User
from tracker.permissions import require_library_admin

BENCHMARK_FIGURES = ("plausible_low", "typical", "plausible_high", "physical_floor")
BENCHMARK_TEXTS = ("declared_unit", "confidence", "basis")
FACTOR_DETAILS = ("scope", "year", "kind", "unit", "confidence")
NEW_FACTOR_NEEDS = ("scope", "year", "kind", "unit")
CERTIFIER_FIELDS = ("is_active", "accreditation_no", "note")
REASON_ACTION = "library_reason"  # the audit event carrying why a certifier was changed


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
        raise TrackerError(
            "修改参考数据须说明理由和来源", "A change to reference data needs a reason and source"
        )
    return text[:1000]


def set_benchmark(session: Session, user: User, product_name: str, *, reason: str | None,
                  **changes: Any) -> ProductBenchmark:  # fmt: skip
    """A new version of a product's benchmark with the given figures changed (others carried over).
    The figures must be ordered: floor ≤ low ≤ typical ≤ high."""
    require_library_admin(user)
    why = reason_text(reason)
    product = session.scalars(select(Product).where(Product.name_zh == product_name.strip())).first()
    if product is None:
        raise TrackerError(f"未知产品：{product_name}", f"Unknown product: {product_name}")
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
        raise TrackerError(
            f"未知字段：{'、'.join(sorted(unknown))}", f"Unknown fields: {', '.join(sorted(unknown))}"
        )
    values = {**base, **{k: v for k, v in changes.items() if v is not None}}
    figures = [
        Decimal(str(values.get(name))) if values.get(name) is not None else None for name in BENCHMARK_FIGURES
    ]
    if None in figures or not all(f is not None and f >= 0 for f in figures):
        raise ValidationFailed(
            [Problem("benchmark", "四个数值均须填写且不小于0", "all four figures are required, ≥ 0")]
        )
    low, typical, high, floor = figures
    assert low is not None and typical is not None and high is not None and floor is not None
    if not floor <= low <= typical <= high:
        raise ValidationFailed([Problem("benchmark", "应满足 物理下限 ≤ 合理下限 ≤ 典型值 ≤ 合理上限",
                                        "need floor ≤ low ≤ typical ≤ high")])  # fmt: skip
    if current is not None:
        current.is_current = False
        session.flush()
    row = ProductBenchmark(product_id=product.id, version=(current.version + 1) if current else 1, is_current=True,
                           plausible_low=low, typical=typical, plausible_high=high, physical_floor=floor,
                           declared_unit=values.get("declared_unit") or product.declared_unit,
                           confidence=values.get("confidence") or "unconfirmed", basis=values.get("basis") or why,
                           changed_by_id=user.id, reason=why)  # fmt: skip
    session.add(row)
    session.flush()
    return row


def set_factor(session: Session, user: User, factor_key: str, *, value: Decimal, reason: str | None,
               source: str | None = None, **details: Any) -> EmissionFactor:  # fmt: skip
    """A new version of an electricity factor with a new value (and source, and any of scope, year,
    kind, unit, confidence). A key not in the library is added as version 1 only when its scope,
    year, kind and unit are all given, so a mistyped key is refused rather than added."""
    require_library_admin(user)
    why = reason_text(reason)
    unknown = set(details) - set(FACTOR_DETAILS)
    if unknown:
        raise TrackerError(
            f"未知字段：{'、'.join(sorted(unknown))}", f"Unknown fields: {', '.join(sorted(unknown))}"
        )
    key = factor_key.strip()
    current = session.scalars(
        select(EmissionFactor).where(EmissionFactor.factor_key == key, EmissionFactor.is_current)
    ).first()
    given = {name: v for name, v in details.items() if v is not None and v != ""}
    if current is None and (not 0 < len(key) <= 64 or not all(n in given for n in NEW_FACTOR_NEEDS)):
        raise TrackerError(f"未知因子：{factor_key}", f"Unknown factor: {factor_key}")
    if not value.is_finite() or not Decimal(0) < value < Decimal(10):
        raise TrackerError("因子数值应在0–10之间", "A factor must be between 0 and 10")
    base = (
        {n: getattr(current, n) for n in (*FACTOR_DETAILS, "source")}
        if current
        else {"confidence": "unconfirmed"}
    )
    values = {**base, **given}
    if current is not None:
        current.is_current = False
        session.flush()
    row = EmissionFactor(factor_key=key, version=(current.version + 1) if current else 1, is_current=True,
                         scope=values["scope"], year=int(values["year"]), kind=values["kind"], value=value,
                         unit=values["unit"], confidence=values["confidence"],
                         source=(source or "").strip() or values.get("source") or why,
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
        raise TrackerError("认证机构名称应为1–200字", "A certifier's name needs 1–200 characters")
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

    version: int | None
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
    """A certifier's recorded changes, newest first, each with the reason given beside it. They come
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
            changes.append(LibraryVersion(None, False, event.at, name, "", after))
    if changes:
        changes[-1] = replace(changes[-1], is_current=True)
    return changes[::-1]
