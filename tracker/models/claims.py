"""Carbon-label claims (碳足迹声明/碳标识) as received: one row per version of a claim."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.core.db import Base, intpk, name_str, short_str, utcnow
from tracker.models.audited import Audited
from tracker.models.enums import enum_column
from tracker.models.geography import City

# kg CO2e figures: up to 12 integer digits and 4 decimals (a tonne-slip of a large product fits)
kg = Numeric(16, 4)


class Boundary(StrEnum):
    CRADLE_TO_GATE = "cradle_to_gate"  # 从摇篮到大门
    CRADLE_TO_GRAVE = "cradle_to_grave"  # 从摇篮到坟墓
    GATE_TO_GATE = "gate_to_gate"  # 从大门到大门


class LabelType(StrEnum):
    SELF_DECLARED = "self_declared"  # 自我声明
    THIRD_PARTY = "third_party"  # 第三方认证
    CARBON_NEUTRAL = "carbon_neutral"  # 碳中和


class ClaimImport(Base, Audited):
    """One import of a claims file: who, when, which file (its SHA-256) and what it did. Each claim
    version points at the import that brought it, so a bulk import is audited as one act with its
    provenance kept on every row it wrote."""

    __tablename__ = "claim_imports"

    id: Mapped[intpk]
    filename: Mapped[name_str]
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))  # csv, xlsx, pact
    imported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    rows: Mapped[int] = mapped_column(Integer)
    new: Mapped[int] = mapped_column(Integer)
    new_versions: Mapped[int] = mapped_column(Integer)
    unchanged: Mapped[int] = mapped_column(Integer)
    # Claims the import took out of force: PACT footprints it brought as Deprecated, or that a
    # footprint it brought replaces (its precedingPfIds).
    retired: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Claim(Base, Audited):
    """One version of a claim. Re-importing a ``claim_key`` with different content adds a version
    and marks it current; the earlier versions stay, so a flag can say what it was judged on."""

    __tablename__ = "claims"
    __table_args__ = (
        UniqueConstraint("claim_key", "version"),
        # No index on (is_current, city_id): nearly every version is current, so the rule engine reads
        # them by a sequential pass, and no page lists claims by city; it cost a bulk import 1.1 s per
        # million on PostgreSQL (docs/PERFORMANCE.md, migration 0027).
        # A pilot's claims; most claimants are not pilot units, so only the linked rows are indexed.
        Index(
            "ix_claims_pilot_id",
            "pilot_id",
            postgresql_where=text("pilot_id IS NOT NULL"),
            sqlite_where=text("pilot_id IS NOT NULL"),
        ),
        # Claims taken out of force (PACT), whose next version the importer numbers after them: few.
        Index(
            "ix_claims_retired",
            "claim_key",
            postgresql_where=text("superseded_by IS NOT NULL OR pact_status = 'deprecated'"),
            sqlite_where=text("superseded_by IS NOT NULL OR pact_status = 'deprecated'"),
        ),
        # No index on certificate_no or credit_code: the cross-claim rules group in memory, and each
        # index would slow a bulk import by a third (docs/PERFORMANCE.md).
    )

    id: Mapped[intpk]
    claim_key: Mapped[str] = mapped_column(String(64))  # claim_id in the submitting system
    version: Mapped[int] = mapped_column(Integer, default=1)
    is_current: Mapped[bool] = mapped_column(default=True)
    content_hash: Mapped[str] = mapped_column(String(64))  # the same file twice adds no version
    source: Mapped[str] = mapped_column(String(16))  # csv, xlsx, pact
    imported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The user, pilot, product and import ids are set by the importer in the same transaction (the
    # import row is written first; the others are looked up), and none of those rows is ever
    # deleted. They carry no foreign-key constraint, whose per-row trigger would nearly double the
    # time of a bulk import on PostgreSQL (docs/PERFORMANCE.md); nor does the city (below).
    imported_by_id: Mapped[int | None] = mapped_column(Integer)
    import_id: Mapped[int | None] = mapped_column(Integer)

    company_name: Mapped[name_str]
    credit_code: Mapped[str] = mapped_column(
        String(32)
    )  # as given: an invalid code is a finding, not an error
    # No foreign key (a per-row trigger, a third of a bulk import on PostgreSQL): the importer takes
    # the id from the cities table, and the database refuses to delete or renumber a city (0027).
    city_id: Mapped[int] = mapped_column(Integer)
    pilot_id: Mapped[int | None] = mapped_column(Integer)  # the company is a pilot unit
    product: Mapped[name_str]
    product_id: Mapped[int | None] = mapped_column(Integer)  # None: no benchmark
    model: Mapped[str | None] = mapped_column(String(200))
    declared_unit: Mapped[short_str]  # normalised: t, kg, kWh, m3, L, bottle_500ml, kWp, piece, m2, tkm…
    footprint: Mapped[Decimal] = mapped_column(kg)
    boundary: Mapped[Boundary] = mapped_column(enum_column(Boundary, "claim_boundary"))
    standard: Mapped[str] = mapped_column(String(200))
    period_start: Mapped[dt.date]
    period_end: Mapped[dt.date]
    stage_raw_materials: Mapped[Decimal | None] = mapped_column(kg)
    stage_manufacturing: Mapped[Decimal | None] = mapped_column(kg)
    stage_transport: Mapped[Decimal | None] = mapped_column(kg)
    stage_use: Mapped[Decimal | None] = mapped_column(kg)
    stage_end_of_life: Mapped[Decimal | None] = mapped_column(kg)
    electricity_kwh: Mapped[Decimal | None] = mapped_column(kg)
    electricity_factor: Mapped[Decimal | None] = mapped_column(Numeric(10, 6))
    green_power_kwh: Mapped[Decimal | None] = mapped_column(kg)
    offsets: Mapped[Decimal | None] = mapped_column(kg)
    label_type: Mapped[LabelType] = mapped_column(enum_column(LabelType, "claim_label_type"))
    certifier: Mapped[str | None] = mapped_column(String(200))
    certificate_no: Mapped[str | None] = mapped_column(String(64))
    certificate_issued: Mapped[dt.date | None]
    certificate_expires: Mapped[dt.date | None]
    published_on: Mapped[dt.date]
    baseline: Mapped[Decimal | None] = mapped_column(kg)
    claimed_reduction_pct: Mapped[Decimal | None] = mapped_column(Numeric(7, 3))
    # Versions across claim ids (PACT: a changed footprint is a new footprint with a new id). Only a
    # version in force is current: a Deprecated footprint, or one another names among its
    # precedingPfIds, is stored with is_current false.
    pact_status: Mapped[str | None] = mapped_column(String(16))  # active, deprecated; None: not PACT
    preceding: Mapped[str | None] = mapped_column(Text)  # the claim_ids this one replaces, space-separated
    superseded_by: Mapped[str | None] = mapped_column(String(64))  # the claim_id that replaced this one

    city: Mapped[City] = relationship(primaryjoin="foreign(Claim.city_id) == City.id")
