"""The reference library the claim rules judge against: product benchmarks and electricity factors,
each change a new version (the old kept, so every flag can name the version it was judged on)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.core.db import Base, intpk, short_str, utcnow
from tracker.models.audited import Audited
from tracker.models.catalogue import Product

kg = Numeric(16, 4)


class ProductBenchmark(Base, Audited):
    """What a product's footprint per declared unit can plausibly be: a range, a typical value and
    a physical floor below which no honest figure can go; with its basis and how sure it is."""

    __tablename__ = "product_benchmarks"
    __table_args__ = (UniqueConstraint("product_id", "version"),)

    id: Mapped[intpk]
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    is_current: Mapped[bool] = mapped_column(default=True, index=True)
    declared_unit: Mapped[short_str]
    plausible_low: Mapped[Decimal] = mapped_column(kg)
    typical: Mapped[Decimal] = mapped_column(kg)
    plausible_high: Mapped[Decimal] = mapped_column(kg)
    physical_floor: Mapped[Decimal] = mapped_column(kg)
    confidence: Mapped[short_str]
    basis: Mapped[str] = mapped_column(Text)  # the source and reasoning, kept verbatim
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(Text)  # why this version replaced the last

    product: Mapped[Product] = relationship()


class EmissionFactor(Base, Audited):
    """An official electricity factor (grid average, residual, life-cycle) for a scope and year."""

    __tablename__ = "emission_factors"
    __table_args__ = (UniqueConstraint("factor_key", "version"),)

    id: Mapped[intpk]
    factor_key: Mapped[short_str]  # e.g. north_china_2023
    version: Mapped[int] = mapped_column(Integer, default=1)
    is_current: Mapped[bool] = mapped_column(default=True, index=True)
    scope: Mapped[short_str]  # 全国, 华北, 山西
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(200))
    value: Mapped[Decimal] = mapped_column(Numeric(10, 6))
    unit: Mapped[short_str]
    confidence: Mapped[short_str]
    source: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(Text)


class Certifier(Base, Audited):
    """A certification body recognised for carbon-footprint labels (the provincial admin keeps the
    list). A certified label from a body not on it is a finding, once the list has entries."""

    __tablename__ = "certifiers"

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(200), unique=True)
    accreditation_no: Mapped[str | None] = mapped_column(String(64))  # e.g. the CNCA approval number
    is_active: Mapped[bool] = mapped_column(default=True)
    note: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
