"""Reference catalogue: products, quotas, batches and deadlines, task templates, work-plan tasks."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.core.db import Base, code_str, intpk, name_str, short_str
from tracker.models.audited import Audited
from tracker.models.enums import DepartmentDuty, PilotCategory, ProductSource, QuotaScope, enum_column
from tracker.models.geography import City, Department


class Product(Base):
    """An eligible pilot product with the unit its footprint is declared per."""

    __tablename__ = "products"

    id: Mapped[intpk]
    name_zh: Mapped[str] = mapped_column(String(64), unique=True)
    name_en: Mapped[name_str]
    declared_unit: Mapped[str] = mapped_column(String(16))
    source: Mapped[ProductSource] = mapped_column(enum_column(ProductSource, "product_source"))
    first_batch_priority: Mapped[str | None] = mapped_column(String(32))  # 传统/出口/特色 (344号)


class CategoryQuota(Base):
    """How many pilots a province may select in a category (344号: 3 per product, 2 service pilots)."""

    __tablename__ = "category_quotas"
    __table_args__ = (
        UniqueConstraint("province_id", "category"),
        CheckConstraint("quota > 0", name="quota_positive"),
    )

    id: Mapped[intpk]
    province_id: Mapped[int] = mapped_column(ForeignKey("provinces.id"))
    category: Mapped[PilotCategory] = mapped_column(enum_column(PilotCategory, "pilot_category"))
    name_zh: Mapped[name_str]
    scope: Mapped[QuotaScope] = mapped_column(enum_column(QuotaScope, "quota_scope"))
    quota: Mapped[int] = mapped_column(SmallInteger)


class Batch(Base):
    """An application round with the province's deadline."""

    __tablename__ = "batches"
    __table_args__ = (UniqueConstraint("province_id", "number"),)

    id: Mapped[intpk]
    province_id: Mapped[int] = mapped_column(ForeignKey("provinces.id"))
    number: Mapped[int] = mapped_column(SmallInteger)
    name_zh: Mapped[short_str]
    provincial_deadline: Mapped[dt.date]
    priority_note: Mapped[str | None] = mapped_column(Text)

    city_deadlines: Mapped[list[BatchDeadline]] = relationship(back_populates="batch")


class BatchDeadline(Base, Audited):
    """A city's own deadline for a batch, usually a little before the province's."""

    __tablename__ = "batch_deadlines"
    __table_args__ = (UniqueConstraint("batch_id", "city_id"),)

    id: Mapped[intpk]
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id"))
    deadline: Mapped[dt.date]
    source: Mapped[str | None] = mapped_column(
        String(64)
    )  # e.g. 长环函〔2025〕36号; empty = province default

    batch: Mapped[Batch] = relationship(back_populates="city_deadlines")
    city: Mapped[City] = relationship()


class TaskTemplate(Base):
    """A standard pilot task of a category (344号 三、试点任务)."""

    __tablename__ = "task_templates"
    __table_args__ = (UniqueConstraint("category", "number"),)

    id: Mapped[intpk]
    category: Mapped[PilotCategory] = mapped_column(enum_column(PilotCategory, "pilot_category"))
    number: Mapped[code_str]  # "1", "2", "3.1" …
    title_zh: Mapped[name_str]
    description_zh: Mapped[str] = mapped_column(Text)
    default_weight: Mapped[int] = mapped_column(SmallInteger)


class WorkPlanTask(Base):
    """One of the 12 key tasks of the provincial work plan (晋环发〔2024〕31号)."""

    __tablename__ = "work_plan_tasks"
    __table_args__ = (UniqueConstraint("province_id", "number"),)

    id: Mapped[intpk]
    province_id: Mapped[int] = mapped_column(ForeignKey("provinces.id"))
    number: Mapped[int] = mapped_column(SmallInteger)
    group_number: Mapped[int] = mapped_column(SmallInteger)
    group_title_zh: Mapped[name_str]
    group_title_en: Mapped[str | None] = mapped_column(String(200))  # for English readers; None: Chinese
    title_zh: Mapped[name_str]
    title_en: Mapped[str | None] = mapped_column(String(200))
    responsibility_text_zh: Mapped[str] = mapped_column(Text)  # the plan's own words, kept verbatim

    departments: Mapped[list[WorkPlanTaskDepartment]] = relationship(back_populates="task")


class WorkPlanTaskDepartment(Base):
    __tablename__ = "work_plan_task_departments"
    __table_args__ = (UniqueConstraint("task_id", "department_id"),)

    id: Mapped[intpk]
    task_id: Mapped[int] = mapped_column(ForeignKey("work_plan_tasks.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    duty: Mapped[DepartmentDuty] = mapped_column(enum_column(DepartmentDuty, "department_duty"))

    task: Mapped[WorkPlanTask] = relationship(back_populates="departments")
    department: Mapped[Department] = relationship()
