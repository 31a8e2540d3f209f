"""Organisations, applications, pilots and their plans and periodic progress updates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from tracker.core.creditcode import validate_credit_code
from tracker.core.db import Base, intpk, name_str, percent, short_str, utcnow
from tracker.core.errors import TrackerError
from tracker.core.messages import Joined, Message
from tracker.models.audited import Audited
from tracker.models.catalogue import Batch, Product, TaskTemplate
from tracker.models.enums import (
    ApplicationStatus,
    OrganisationKind,
    PilotCategory,
    PilotStatus,
    UpdateStatus,
    enum_column,
)
from tracker.models.geography import City

if TYPE_CHECKING:
    from tracker.models.lifecycle import (
        ApplicationFile,
        ExpertScore,
        PilotParticipant,
        PlanMilestone,
        PlanParticipant,
    )
    from tracker.models.updates import UpdateFile, UpdateMilestone


class Organisation(Base, Audited):
    """An applicant or pilot unit, identified by its unified social credit code."""

    __tablename__ = "organisations"

    id: Mapped[intpk]
    name: Mapped[name_str]
    # Unknown until the unit's own form (附件3) or a city user supplies it: the city summary table
    # (附件1) names units without their codes. Several unknown (NULL) codes do not collide.
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id"), index=True)
    kind: Mapped[OrganisationKind] = mapped_column(enum_column(OrganisationKind, "organisation_kind"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    city: Mapped[City] = relationship()

    @validates("credit_code")
    def _normalise_credit_code(self, _key: str, value: str | None) -> str | None:
        """No invalid code is ever stored, whichever path writes it."""
        if value is None:
            return None
        check = validate_credit_code(value)
        if not check.valid:
            raise TrackerError(
                Message(
                    "统一社会信用代码 {value} 无效：{join_errors}",
                    value=value,
                    join_errors=Joined(check.problems),
                ),
            )
        return check.code


class Application(Base, Audited):
    """An application (附件3 申报表) on its way through city review and provincial selection."""

    __tablename__ = "applications"

    id: Mapped[intpk]
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    category: Mapped[PilotCategory] = mapped_column(enum_column(PilotCategory, "pilot_category"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    product_text: Mapped[str | None] = mapped_column(String(200))  # 试点产品 as written by the applicant
    status: Mapped[ApplicationStatus] = mapped_column(
        enum_column(ApplicationStatus, "application_status"), default=ApplicationStatus.DRAFT
    )
    direct_to_province: Mapped[bool] = mapped_column(default=False)  # service pilots may skip the city
    leader_name: Mapped[str | None] = mapped_column(String(64))
    leader_title: Mapped[str | None] = mapped_column(String(64))
    leader_phone: Mapped[str | None] = mapped_column(String(32))
    leader_email: Mapped[str | None] = mapped_column(String(128))
    contact_name: Mapped[str | None] = mapped_column(String(64))
    contact_title: Mapped[str | None] = mapped_column(String(64))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    contact_email: Mapped[str | None] = mapped_column(String(128))
    overall_goal: Mapped[str | None] = mapped_column(Text)
    tasks_summary: Mapped[str | None] = mapped_column(Text)
    unit_intro: Mapped[str | None] = mapped_column(Text)  # ≤1000 characters
    eligibility: Mapped[str | None] = mapped_column(Text)  # ≤2000
    advantages: Mapped[str | None] = mapped_column(Text)  # ≤2000
    future_plan: Mapped[str | None] = mapped_column(Text)  # ≤1000
    # 附件1/2 汇总表: the short texts the city's summary table carries (≤500 characters each).
    summary_advantages: Mapped[str | None] = mapped_column(Text)
    summary_plan: Mapped[str | None] = mapped_column(Text)
    # 附件4 试点建设工作方案提纲 (milestones and participants are rows of their own).
    plan_basis: Mapped[str | None] = mapped_column(Text)  # 一 工作基础
    plan_indicators: Mapped[str | None] = mapped_column(Text)  # 二 技术指标
    plan_main_tasks: Mapped[str | None] = mapped_column(Text)  # 三 主要任务
    plan_schedule: Mapped[str | None] = mapped_column(Text)  # 四 阶段性实施计划
    safeguard_organisation: Mapped[str | None] = mapped_column(Text)  # 五 组织领导
    safeguard_mechanism: Mapped[str | None] = mapped_column(Text)  # 工作机制
    safeguard_funding: Mapped[str | None] = mapped_column(Text)  # 资金保障
    safeguard_technical: Mapped[str | None] = mapped_column(Text)  # 技术保障
    safeguard_publicity: Mapped[str | None] = mapped_column(Text)  # 宣传推广
    is_chain_leader: Mapped[bool] = mapped_column(default=False)
    is_label_pilot_unit: Mapped[bool] = mapped_column(default=False)
    has_green_title: Mapped[bool] = mapped_column(default=False)
    submitted_at: Mapped[dt.datetime | None]
    return_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    city: Mapped[City] = relationship()
    batch: Mapped[Batch] = relationship()
    product: Mapped[Product | None] = relationship()
    plan_milestones: Mapped[list[PlanMilestone]] = relationship(
        back_populates="application", order_by="PlanMilestone.position", cascade="all, delete-orphan"
    )
    plan_participants: Mapped[list[PlanParticipant]] = relationship(
        back_populates="application", order_by="PlanParticipant.position", cascade="all, delete-orphan"
    )
    files: Mapped[list[ApplicationFile]] = relationship(
        back_populates="application", order_by="ApplicationFile.id"
    )
    scores: Mapped[list[ExpertScore]] = relationship(
        back_populates="application", order_by="ExpertScore.expert_name"
    )


class Pilot(Base, Audited):
    """A selected pilot and its (about one-year) implementation."""

    __tablename__ = "pilots"
    __table_args__ = (
        CheckConstraint("end_date >= start_date", name="end_after_start"),
        # The registry lists a city's pilots by status.
        Index("ix_pilots_city_id_status", "city_id", "status"),
    )

    id: Mapped[intpk]
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    category: Mapped[PilotCategory] = mapped_column(enum_column(PilotCategory, "pilot_category"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    name: Mapped[name_str]
    status: Mapped[PilotStatus] = mapped_column(
        enum_column(PilotStatus, "pilot_status"), default=PilotStatus.SELECTED
    )
    start_date: Mapped[dt.date]
    end_date: Mapped[dt.date]
    published_on: Mapped[dt.date | None]
    closed_on: Mapped[dt.date | None]  # the day it was completed or withdrawn
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    application: Mapped[Application | None] = relationship()
    organisation: Mapped[Organisation] = relationship()
    city: Mapped[City] = relationship()
    batch: Mapped[Batch] = relationship()
    product: Mapped[Product | None] = relationship()
    tasks: Mapped[list[Task]] = relationship(back_populates="pilot", order_by="Task.position")
    milestones: Mapped[list[Milestone]] = relationship(back_populates="pilot", order_by="Milestone.due_date")
    updates: Mapped[list[ProgressUpdate]] = relationship(
        back_populates="pilot", order_by="ProgressUpdate.period_start"
    )
    participants: Mapped[list[PilotParticipant]] = relationship(
        back_populates="pilot", order_by="PilotParticipant.position"
    )


class Task(Base, Audited):
    """A line of a pilot's task list (任务清单) with its planned span and weight."""

    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint("planned_end >= planned_start", name="end_after_start"),
        CheckConstraint("weight >= 0", name="weight_not_negative"),
        UniqueConstraint("pilot_id", "position"),
    )

    id: Mapped[intpk]
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilots.id"))
    template_id: Mapped[int | None] = mapped_column(ForeignKey("task_templates.id"))
    position: Mapped[int] = mapped_column(Integer)
    number: Mapped[short_str]
    title: Mapped[name_str]
    weight: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    planned_start: Mapped[dt.date]
    planned_end: Mapped[dt.date]
    responsible_unit: Mapped[str | None] = mapped_column(String(200))

    pilot: Mapped[Pilot] = relationship(back_populates="tasks")
    template: Mapped[TaskTemplate | None] = relationship()
    milestones: Mapped[list[Milestone]] = relationship(back_populates="task")


class Milestone(Base, Audited):
    """A staged goal (阶段性目标) with its due date and indicator."""

    __tablename__ = "milestones"

    id: Mapped[intpk]
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilots.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    title: Mapped[name_str]
    due_date: Mapped[dt.date]
    indicator: Mapped[str | None] = mapped_column(String(200))
    target_value: Mapped[str | None] = mapped_column(String(64))
    evidence_required: Mapped[bool] = mapped_column(Boolean, default=True)
    achieved_on: Mapped[dt.date | None]

    pilot: Mapped[Pilot] = relationship(back_populates="milestones")
    task: Mapped[Task | None] = relationship(back_populates="milestones")


class ProgressUpdate(Base, Audited):
    """A city bureau's periodic progress report (调度) for one pilot and period."""

    __tablename__ = "progress_updates"
    __table_args__ = (
        UniqueConstraint("pilot_id", "period_start"),
        CheckConstraint("period_end >= period_start", name="end_after_start"),
    )

    id: Mapped[intpk]
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilots.id"))
    period_start: Mapped[dt.date]
    period_end: Mapped[dt.date]
    status: Mapped[UpdateStatus] = mapped_column(
        enum_column(UpdateStatus, "update_status"), default=UpdateStatus.DRAFT
    )
    work_done: Mapped[str | None] = mapped_column(Text)
    problems: Mapped[str | None] = mapped_column(Text)
    next_steps: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[dt.datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[dt.datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    return_reason: Mapped[str | None] = mapped_column(Text)
    is_late: Mapped[bool] = mapped_column(default=False)
    # submitted_at is the first submission (timeliness counts it); a resubmission after a return
    # is last_submitted_at.
    last_submitted_at: Mapped[dt.datetime | None]
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    pilot: Mapped[Pilot] = relationship(back_populates="updates")
    task_progress: Mapped[list[TaskProgress]] = relationship(
        back_populates="update", cascade="all, delete-orphan", order_by="TaskProgress.task_id"
    )
    milestone_reports: Mapped[list[UpdateMilestone]] = relationship(
        back_populates="update", cascade="all, delete-orphan", order_by="UpdateMilestone.milestone_id"
    )
    files: Mapped[list[UpdateFile]] = relationship(back_populates="update", order_by="UpdateFile.id")


class TaskProgress(Base, Audited):
    """Reported progress of one task in one update, 0–100."""

    __tablename__ = "task_progress"
    __table_args__ = (
        UniqueConstraint("update_id", "task_id"),
        CheckConstraint("percent >= 0 AND percent <= 100", name="percent_range"),
    )

    id: Mapped[intpk]
    update_id: Mapped[int] = mapped_column(ForeignKey("progress_updates.id"))
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    percent: Mapped[percent]
    note: Mapped[str | None] = mapped_column(String(500))

    update: Mapped[ProgressUpdate] = relationship(back_populates="task_progress")


__all__ = [
    "Application",
    "Audited",
    "Milestone",
    "Organisation",
    "Pilot",
    "ProgressUpdate",
    "Task",
    "TaskProgress",
]
