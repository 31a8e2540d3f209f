"""Editing the reference library (product benchmarks, electricity factors): only the provincial
administrator, every change a new version with its reason, the old version kept. The claim rules
read the current versions and record which ones they judged against."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.applications import Problem, ValidationFailed
from tracker.errors import TrackerError
from tracker.models import Certifier, EmissionFactor, Product, ProductBenchmark, User
from tracker.permissions import require_library_admin

BENCHMARK_FIGURES = ("plausible_low", "typical", "plausible_high", "physical_floor")


def current_benchmarks(session: Session) -> dict[int, ProductBenchmark]:
    """Each product's current benchmark, by product id."""
    return {
        b.product_id: b for b in session.scalars(select(ProductBenchmark).where(ProductBenchmark.is_current))
    }


def current_factors(session: Session) -> dict[str, EmissionFactor]:
    return {f.factor_key: f for f in session.scalars(select(EmissionFactor).where(EmissionFactor.is_current))}


def _reason(reason: str | None) -> str:
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
    why = _reason(reason)
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
               source: str | None = None) -> EmissionFactor:  # fmt: skip
    """A new version of an electricity factor with a new value (and source)."""
    require_library_admin(user)
    why = _reason(reason)
    current = session.scalars(
        select(EmissionFactor).where(EmissionFactor.factor_key == factor_key, EmissionFactor.is_current)
    ).first()
    if current is None:
        raise TrackerError(f"未知因子：{factor_key}", f"Unknown factor: {factor_key}")
    if not value.is_finite() or not Decimal(0) < value < Decimal(10):
        raise TrackerError("因子数值应在0–10之间", "A factor must be between 0 and 10")
    current.is_current = False
    session.flush()
    row = EmissionFactor(factor_key=factor_key, version=current.version + 1, is_current=True, scope=current.scope,
                         year=current.year, kind=current.kind, value=value, unit=current.unit,
                         confidence=current.confidence, source=(source or "").strip() or current.source,
                         changed_by_id=user.id, reason=why)  # fmt: skip
    session.add(row)
    session.flush()
    return row


def recognise_certifier(session: Session, user: User, name: str, *, accreditation_no: str | None = None,
                        note: str | None = None, active: bool = True) -> Certifier:  # fmt: skip
    """Add a certification body to the recognised list, or change whether it is recognised."""
    require_library_admin(user)
    text = name.strip()
    if not 0 < len(text) <= 200:
        raise TrackerError("认证机构名称应为1–200字", "A certifier's name needs 1–200 characters")
    row = session.scalars(select(Certifier).where(Certifier.name == text)).first()
    if row is None:
        row = Certifier(name=text)
        session.add(row)
    row.is_active, row.changed_by_id = active, user.id
    if accreditation_no is not None:
        row.accreditation_no = accreditation_no.strip() or None
    if note is not None:
        row.note = note.strip() or None
    session.flush()
    return row


def recognised_certifiers(session: Session) -> set[str]:
    return set(session.scalars(select(Certifier.name).where(Certifier.is_active)))
