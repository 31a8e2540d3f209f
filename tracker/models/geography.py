"""Provinces, cities and provincial departments."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.core.db import Base, code_str, intpk, name_str, short_str


class Province(Base):
    __tablename__ = "provinces"

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(6), unique=True)  # GB/T 2260, e.g. 140000
    name_zh: Mapped[short_str]
    short_zh: Mapped[short_str]
    name_en: Mapped[short_str]

    cities: Mapped[list[City]] = relationship(back_populates="province", order_by="City.code")


class City(Base):
    __tablename__ = "cities"

    id: Mapped[intpk]
    province_id: Mapped[int] = mapped_column(ForeignKey("provinces.id"), index=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)  # GB/T 2260, e.g. 140400
    name_zh: Mapped[short_str]
    short_zh: Mapped[short_str]
    name_en: Mapped[short_str]
    phone_area_code: Mapped[str] = mapped_column(String(8))
    climate_finance_pilot: Mapped[bool] = mapped_column(default=False)

    province: Mapped[Province] = relationship(back_populates="cities")

    @property
    def division_prefix(self) -> str:
        """The first four digits shared by every county-level code inside the city."""
        return self.code[:4]


class Department(Base):
    """A department that leads or shares work-plan tasks (the work plan's signatories and others)."""

    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("province_id", "code"),)

    id: Mapped[intpk]
    province_id: Mapped[int] = mapped_column(ForeignKey("provinces.id"))
    code: Mapped[code_str]
    name_zh: Mapped[name_str]
    short_zh: Mapped[short_str]
    name_en: Mapped[str | None] = mapped_column(String(200))  # for English readers (name_of); None: Chinese
    signatory: Mapped[bool] = mapped_column(default=False)  # co-issued 晋环发〔2024〕31号
